package luavm

// This file matches Lua 5.1 patterns, as the reference manual (§5.4.1)
// describes them: single-character classes (., %a, %d, sets in brackets
// and their complements), the repetitions *, +, - and ?, anchors ^ and $,
// captures and position captures, back references %1-%9, balanced matches
// %bxy and frontiers %f[set]. gopher-lua's own matcher backtracks without
// any bound; this one counts its steps and lets the caller stop it, and it
// limits its recursion as Lua 5.2 does.

// Limits of the matcher.
const (
	maxCaptures = 32
	// maxMatchDepth bounds the recursion of one match: every repetition
	// and capture in a pattern adds a level.
	maxMatchDepth = 200
	// stepsPerCheck is how many steps run between two calls of check.
	stepsPerCheck = 1024
)

// Capture lengths with a special meaning.
const (
	capUnfinished = -1
	capPosition   = -2
)

// patternError is a malformed pattern; the caller raises it as a Lua error.
type patternError string

// capture is the start and length of one capture in the subject.
type capture struct{ start, n int }

// matcher matches one pattern against one subject.
type matcher struct {
	src, pat string
	level    int
	caps     [maxCaptures]capture
	depth    int
	steps    int
	// check is called every stepsPerCheck steps; it stops the match by
	// panicking when the run must end.
	check func()
}

func (m *matcher) step() {
	m.steps++
	if m.steps%stepsPerCheck == 0 && m.check != nil {
		m.check()
	}
}

func (m *matcher) fail(msg string) { panic(patternError(msg)) }

// match tries the pattern from p at subject position s and returns the
// end of the match, or -1.
func (m *matcher) match(s, p int) int {
	m.depth++
	if m.depth > maxMatchDepth {
		m.fail("pattern too complex")
	}
	defer func() { m.depth-- }()
	for {
		m.step()
		if p == len(m.pat) {
			return s
		}
		switch m.pat[p] {
		case '(':
			if p+1 < len(m.pat) && m.pat[p+1] == ')' {
				return m.openCapture(s, p+2, capPosition)
			}
			return m.openCapture(s, p+1, capUnfinished)
		case ')':
			return m.closeCapture(s, p+1)
		case '$':
			if p+1 == len(m.pat) {
				if s == len(m.src) {
					return s
				}
				return -1
			}
		case '%':
			if next, ok := m.escape(&s, p); ok {
				if s < 0 {
					return -1
				}
				p = next
				continue
			}
		}
		var ok bool
		if s, p, ok = m.item(s, p); !ok {
			return s
		}
	}
}

// escape handles %b, %f and back references at p. It reports false for
// other escapes, which are single-character classes; *s becomes -1 when
// the item does not match.
func (m *matcher) escape(s *int, p int) (int, bool) {
	if p+1 >= len(m.pat) {
		m.fail("malformed pattern (ends with '%')")
	}
	switch c := m.pat[p+1]; {
	case c == 'b':
		*s = m.balance(*s, p+2)
		return p + 4, true
	case c == 'f':
		p += 2
		if p >= len(m.pat) || m.pat[p] != '[' {
			m.fail("missing '[' after '%f' in pattern")
		}
		end := m.classEnd(p)
		prev, cur := byte(0), byte(0)
		if *s > 0 {
			prev = m.src[*s-1]
		}
		if *s < len(m.src) {
			cur = m.src[*s]
		}
		if m.inSet(prev, p, end-1) || !m.inSet(cur, p, end-1) {
			*s = -1
		}
		return end, true
	case c >= '0' && c <= '9':
		*s = m.backref(*s, int(c-'1'))
		return p + 2, true
	}
	return 0, false
}

// item matches one single-character class at p, with its repetition. It
// returns the new positions and true to go on with the loop, or the final
// result and false.
func (m *matcher) item(s, p int) (int, int, bool) {
	ep := m.classEnd(p)
	ok := s < len(m.src) && m.single(m.src[s], p, ep)
	if ep < len(m.pat) {
		switch m.pat[ep] {
		case '?':
			if ok {
				if r := m.match(s+1, ep+1); r != -1 {
					return r, 0, false
				}
			}
			return s, ep + 1, true
		case '*':
			return m.maxExpand(s, p, ep), 0, false
		case '+':
			if !ok {
				return -1, 0, false
			}
			return m.maxExpand(s+1, p, ep), 0, false
		case '-':
			return m.minExpand(s, p, ep), 0, false
		}
	}
	if !ok {
		return -1, 0, false
	}
	return s + 1, ep, true
}

// maxExpand matches as many repetitions as it can, then gives them back
// one at a time until the rest of the pattern matches.
func (m *matcher) maxExpand(s, p, ep int) int {
	i := 0
	for s+i < len(m.src) && m.single(m.src[s+i], p, ep) {
		m.step()
		i++
	}
	for ; i >= 0; i-- {
		if r := m.match(s+i, ep+1); r != -1 {
			return r
		}
	}
	return -1
}

// minExpand matches as few repetitions as it can, adding one at a time
// until the rest of the pattern matches.
func (m *matcher) minExpand(s, p, ep int) int {
	for {
		if r := m.match(s, ep+1); r != -1 {
			return r
		}
		if s >= len(m.src) || !m.single(m.src[s], p, ep) {
			return -1
		}
		s++
	}
}

func (m *matcher) openCapture(s, p, what int) int {
	if m.level >= maxCaptures {
		m.fail("too many captures")
	}
	m.caps[m.level] = capture{start: s, n: what}
	m.level++
	r := m.match(s, p)
	if r == -1 {
		m.level--
	}
	return r
}

func (m *matcher) closeCapture(s, p int) int {
	l := m.level - 1
	for ; l >= 0 && m.caps[l].n != capUnfinished; l-- {
	}
	if l < 0 {
		m.fail("invalid pattern capture")
	}
	m.caps[l].n = s - m.caps[l].start
	r := m.match(s, p)
	if r == -1 {
		m.caps[l].n = capUnfinished
	}
	return r
}

// backref matches capture l again at s.
func (m *matcher) backref(s, l int) int {
	if l < 0 || l >= m.level || m.caps[l].n == capUnfinished {
		m.fail("invalid capture index")
	}
	c := m.caps[l]
	if c.n < 0 || len(m.src)-s < c.n || m.src[c.start:c.start+c.n] != m.src[s:s+c.n] {
		return -1
	}
	return s + c.n
}

// balance matches %bxy at s, with x and y at p.
func (m *matcher) balance(s, p int) int {
	if p+1 >= len(m.pat) {
		m.fail("missing arguments to '%b'")
	}
	if s < 0 || s >= len(m.src) || m.src[s] != m.pat[p] {
		return -1
	}
	open, close, depth := m.pat[p], m.pat[p+1], 1
	for i := s + 1; i < len(m.src); i++ {
		m.step()
		switch m.src[i] {
		case close:
			if depth--; depth == 0 {
				return i + 1
			}
		case open:
			depth++
		}
	}
	return -1
}

// classEnd returns the position after the single-character class at p.
func (m *matcher) classEnd(p int) int {
	c := m.pat[p]
	p++
	switch c {
	case '%':
		if p >= len(m.pat) {
			m.fail("malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		if p < len(m.pat) && m.pat[p] == '^' {
			p++
		}
		for {
			if p >= len(m.pat) {
				m.fail("malformed pattern (missing ']')")
			}
			c := m.pat[p]
			p++
			if c == '%' {
				if p >= len(m.pat) {
					m.fail("malformed pattern (missing ']')")
				}
				p++
			}
			if p < len(m.pat) && m.pat[p] == ']' {
				return p + 1
			}
		}
	}
	return p
}

// single reports whether c matches the class between p and ep.
func (m *matcher) single(c byte, p, ep int) bool {
	switch m.pat[p] {
	case '.':
		return true
	case '%':
		return classMatch(c, m.pat[p+1])
	case '[':
		return m.inSet(c, p, ep-1)
	}
	return m.pat[p] == c
}

// inSet reports whether c is in the set whose [ is at p and ] at end.
func (m *matcher) inSet(c byte, p, end int) bool {
	want := true
	p++
	if m.pat[p] == '^' {
		want = false
		p++
	}
	for ; p < end; p++ {
		switch {
		case m.pat[p] == '%' && p+1 < end:
			p++
			if classMatch(c, m.pat[p]) {
				return want
			}
		case p+2 < end && m.pat[p+1] == '-':
			if m.pat[p] <= c && c <= m.pat[p+2] {
				return want
			}
			p += 2
		case m.pat[p] == c:
			return want
		}
	}
	return !want
}

// classMatch reports whether c is in the class %cl, in the C locale. An
// upper-case class is the complement of the lower-case one; any other
// character stands for itself.
func classMatch(c, cl byte) bool {
	var in bool
	switch cl | 0x20 {
	case 'a':
		in = isAlpha(c)
	case 'c':
		in = c < 0x20 || c == 0x7f
	case 'd':
		in = '0' <= c && c <= '9'
	case 'l':
		in = 'a' <= c && c <= 'z'
	case 'p':
		in = isPunct(c)
	case 's':
		in = c == ' ' || '\t' <= c && c <= '\r'
	case 'u':
		in = 'A' <= c && c <= 'Z'
	case 'w':
		in = isAlpha(c) || '0' <= c && c <= '9'
	case 'x':
		in = '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
	case 'z':
		in = c == 0
	default:
		return cl == c
	}
	if 'A' <= cl && cl <= 'Z' {
		return !in
	}
	return in
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isPunct(c byte) bool {
	return c > 0x20 && c < 0x7f && !isAlpha(c) && !('0' <= c && c <= '9')
}
