package script

// MaxNesting is the deepest bracket nesting a source may have. Both parsers
// recurse once per level on the Go stack; this keeps them far from its end.
const MaxNesting = 200

// Nesting returns the deepest nesting of (), [] and {} in src, counting
// brackets inside strings and comments too. It over-counts, never under.
func Nesting(src []byte) int {
	depth, most := 0, 0
	for _, c := range src {
		switch c {
		case '(', '[', '{':
			depth++
			if depth > most {
				most = depth
			}
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return most
}

// CheckSource refuses a source that is over MaxSource bytes or nested
// deeper than MaxNesting, before any parser sees it.
func CheckSource(name string, src []byte) *Error {
	if len(src) > MaxSource {
		return Errorf(ErrCompile, name, "the file is %d bytes, over the limit of %d",
			len(src), MaxSource)
	}
	if n := Nesting(src); n > MaxNesting {
		return Errorf(ErrCompile, name, "brackets nest %d deep, over the limit of %d",
			n, MaxNesting)
	}
	return nil
}
