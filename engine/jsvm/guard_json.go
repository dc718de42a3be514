package jsvm

import (
	"github.com/dop251/goja"

	"github.com/lamlhost/lamlhost/engine/script"
)

// maxGap is the longest indentation JSON.stringify uses per level.
const maxGap = 10

// installJSON guards JSON.stringify and JSON.parse, which walk nested
// values by recursion on the Go stack.
func (g *guard) installJSON() {
	json := g.object("JSON")
	g.wrap(json, "stringify", 3, g.jsonStringify)
	g.wrap(json, "parse", 2, g.jsonParse)
}

// jsonStringify runs the original with a replacer function of ours, which
// goja calls for every value it is about to write: there the nesting, the
// size of the output so far and the run's deadline are checked. A
// replacer of the script's own is called from ours; a property list is
// applied by ours, by handing goja a copy of each object with only the
// listed keys, in the list's order.
func (g *guard) jsonStringify(orig goja.Callable) builtin {
	return func(c goja.FunctionCall) goja.Value {
		st := &stringifier{g: g, depths: map[*goja.Object]int{}}
		replacer, space := c.Argument(1), c.Argument(2)
		if fn, ok := goja.AssertFunction(replacer); ok {
			st.inner = fn
		} else if g.isArrayValue(replacer) {
			st.keys = g.propertyList(replacer.(*goja.Object))
			st.listed = true
		}
		if !goja.IsUndefined(space) && !goja.IsNull(space) {
			st.gap = maxGap
		}
		r := g.native("", 2, st.visit)
		return g.call(orig, c.This, c.Argument(0), r, space)
	}
}

// stringifier is the state of one JSON.stringify.
type stringifier struct {
	g      *guard
	inner  goja.Callable
	keys   []string
	listed bool
	gap    int64
	size   int64
	depths map[*goja.Object]int
}

// visit is called as replacer(key, value) with this set to the holder.
func (st *stringifier) visit(c goja.FunctionCall) goja.Value {
	g := st.g
	g.tick()
	holder, _ := c.This.(*goja.Object)
	depth := st.depths[holder]
	key, v := c.Argument(0), c.Argument(1)
	if st.inner != nil {
		v = g.call(st.inner, c.This, key, v)
	}
	st.size += int64(g.str(key).Length()) + 4 + int64(depth)*st.gap
	switch o, isObj := v.(*goja.Object); {
	case isObj && !boxed(o):
		if _, fn := goja.AssertFunction(o); fn {
			break
		}
		if depth+1 > maxNative {
			g.fail(script.Errorf(script.ErrLimit, g.name,
				"JSON.stringify: the value nests deeper than %d levels", maxNative))
		}
		if st.listed && !g.isArrayValue(o) {
			o = st.pick(o)
			v = o
		}
		st.depths[o] = depth + 1
		st.size += 2
	case goja.IsString(v):
		st.size += int64(g.str(v).Length()) + 2
	default:
		st.size += numberText
	}
	if st.size > g.strCap {
		g.tooBig("JSON.stringify", st.size, g.strCap, "characters")
	}
	return v
}

// boxed reports a Number, String, Boolean or BigInt object, which JSON
// writes as its primitive value.
func boxed(o *goja.Object) bool {
	switch o.ClassName() {
	case "Number", "String", "Boolean", "BigInt":
		return true
	}
	return false
}

// pick copies the listed keys that o has into a new object, in list order.
func (st *stringifier) pick(o *goja.Object) *goja.Object {
	out := st.g.vm.NewObject()
	for _, k := range st.keys {
		if v := o.Get(k); v != nil {
			_ = out.Set(k, v)
		}
	}
	return out
}

// propertyList reads a replacer array into the list of keys to write:
// strings and numbers, and String and Number objects, without repeats.
func (g *guard) propertyList(list *goja.Object) []string {
	const what = "JSON.stringify"
	n := g.length(list, what)
	seen := map[string]bool{}
	var keys []string
	for i := int64(0); i < n; i++ {
		v := list.Get(g.vm.ToValue(i).String())
		if v == nil {
			continue
		}
		o, isObj := v.(*goja.Object)
		if !goja.IsString(v) && !goja.IsNumber(v) &&
			!(isObj && (o.ClassName() == "String" || o.ClassName() == "Number")) {
			continue
		}
		if k := v.String(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// jsonShare is the part of the string cap JSON.parse reads in one call:
// goja parses the whole text without a check, at about 2 µs a value, and
// every value becomes an object or a property.
const jsonShare = 4

// jsonParse refuses text longer than a quarter of the string cap (128K
// characters at the default memory limit) and text whose arrays and
// objects nest deeper than maxNative, before goja's recursive parser
// reads it.
func (g *guard) jsonParse(orig goja.Callable) builtin {
	return func(c goja.FunctionCall) goja.Value {
		text := g.str(c.Argument(0))
		if n, most := int64(text.Length()), g.strCap/jsonShare; n > most {
			g.tooBig("JSON.parse", n, most, "characters of text")
		}
		if d := jsonDepth(text.String()); d > maxNative {
			g.fail(script.Errorf(script.ErrLimit, g.name,
				"JSON.parse: the text nests %d levels deep, over the limit of %d",
				d, maxNative))
		}
		return g.call(orig, c.This, text, c.Argument(1))
	}
}

// jsonDepth is the deepest nesting of [ and { outside strings in JSON text.
func jsonDepth(s string) int {
	depth, most, inString := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			most = max(most, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return most
}
