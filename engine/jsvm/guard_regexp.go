package jsvm

import (
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/dop251/goja"

	"github.com/lamlhost/lamlhost/engine/script"
)

// RegexpTimeout bounds one match of a regular expression. goja runs
// patterns that Go's linear engine cannot (lookaround, backreferences) on
// the backtracking regexp2, which can take exponential time; regexp2 stops
// such a match after this long and reports "no match". The wrapped exec
// and test turn any call that lasted this long into a timeout of the run,
// so a stopped match is never read as a failed one.
const RegexpTimeout = 50 * time.Millisecond

// regexpClock is how often regexp2 updates its clock. A stopped match
// ends within RegexpTimeout plus two of these.
const regexpClock = 20 * time.Millisecond

// clockKeepAlive is how often a tiny match keeps regexp2's clock running.
// regexp2 stops its clock a second after the last match; on a loaded
// machine a sleeping goroutine can wake late, so the margin is wide.
const clockKeepAlive = 100 * time.Millisecond

func init() {
	// Both are process-wide settings of regexp2, read when a pattern is
	// compiled and by its clock; they are set before either happens.
	regexp2.DefaultMatchTimeout = RegexpTimeout
	regexp2.SetTimeoutCheckPeriod(regexpClock)
}

var clockOnce sync.Once

// keepRegexpClock keeps regexp2's clock running for the life of the
// process. regexp2 stops its clock a second after the last deadline and,
// when a match starts it again, measures the new deadline from the time
// it stopped: that match is cut after one tick, far sooner than
// RegexpTimeout, and its timeout would read as "no match". A tiny match
// every clockKeepAlive keeps the clock going; the first call waits until
// the clock has read the time.
func keepRegexpClock() {
	clockOnce.Do(func() {
		re := regexp2.MustCompile("^$", regexp2.None)
		_, _ = re.MatchString("")
		go func() {
			for {
				time.Sleep(clockKeepAlive)
				_, _ = re.MatchString("")
			}
		}()
		time.Sleep(2 * regexpClock)
	})
}

// installRegexp wraps exec and test. Replacing exec also makes goja take
// its specification path for match, matchAll, replace, search and split,
// which call exec for every match: each match is then timed, and the run's
// deadline is checked between matches.
func (g *guard) installRegexp() {
	proto := g.object("RegExp", "prototype")
	g.wrap(proto, "exec", 1, g.rxTimed("RegExp.prototype.exec"))
	g.wrap(proto, "test", 1, g.rxTimed("RegExp.prototype.test"))
	if orig, ok := goja.AssertFunction(proto.GetSymbol(goja.SymReplace)); ok {
		f := g.native("[Symbol.replace]", 2, g.rxReplace(orig))
		_ = proto.DefineDataPropertySymbol(goja.SymReplace, f,
			goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}

// recheckAfter is how long a miss may take before it is tried again.
const recheckAfter = 5 * time.Millisecond

// missed reports whether exec or test found nothing.
func missed(v goja.Value) bool {
	return v == nil || goja.IsNull(v) || (v.ExportType() != nil &&
		v.ExportType().Kind() == reflect.Bool && !v.ToBoolean())
}

// lastIndex reads a regexp's lastIndex, where a global or sticky search
// resumes; setLastIndex puts it back.
func (g *guard) lastIndex(this goja.Value) goja.Value {
	if o, ok := this.(*goja.Object); ok {
		return o.Get("lastIndex")
	}
	return nil
}

func (g *guard) setLastIndex(this goja.Value, v goja.Value) {
	if o, ok := this.(*goja.Object); ok && v != nil {
		_ = o.Set("lastIndex", v)
	}
}

func (g *guard) rxTimed(what string) wrapper {
	return func(orig goja.Callable) builtin {
		return func(c goja.FunctionCall) goja.Value {
			s := g.str(c.Argument(0))
			g.check()
			last := g.lastIndex(c.This)
			start := time.Now()
			v := g.call(orig, c.This, s)
			took := time.Since(start)
			if took >= recheckAfter && took < RegexpTimeout && missed(v) {
				// regexp2 measures its timeout on a clock that a loaded
				// machine can leave stale, and then stops a match early
				// and reports no match. A slow miss is tried once more,
				// from where it started, on a clock that has just ticked.
				g.setLastIndex(c.This, last)
				start = time.Now()
				v = g.call(orig, c.This, s)
				took = time.Since(start)
			}
			if took >= RegexpTimeout {
				g.fail(script.Errorf(script.ErrTimeout, g.name,
					"%s ran for %v; one match may take %v", what,
					took.Round(time.Millisecond), RegexpTimeout))
			}
			return v
		}
	}
}

// rxReplace guards RegExp.prototype[Symbol.replace] with a replacement
// string. When the worst case (every position matches, every $` or $'
// adds the whole subject) stays under the cap the original runs as is;
// otherwise the replacement is made by a function that counts what it
// adds and stops the run at the cap.
func (g *guard) rxReplace(orig goja.Callable) builtin {
	return func(c goja.FunctionCall) goja.Value {
		s := g.str(c.Argument(0))
		repl := c.Argument(1)
		if _, ok := goja.AssertFunction(repl); ok {
			return g.call(orig, c.This, s, repl)
		}
		rs := g.str(repl)
		n := int64(s.Length())
		perMatch := int64(rs.Length()) + substRefs(rs)*n
		if n+(n+1)*perMatch <= g.strCap || !strings.Contains(rs.String(), "$") &&
			n+(n+1)*int64(rs.Length()) <= g.strCap {
			return g.call(orig, c.This, s, rs)
		}
		sub := &substituter{g: g, rs: rs, total: n}
		return g.call(orig, c.This, s, g.native("", 0, sub.replace))
	}
}

// substituter expands a replacement pattern for one match at a time, as
// String.prototype.replace does, and counts the characters it produces.
type substituter struct {
	g     *guard
	rs    goja.String
	total int64
}

// replace is called with (matched, captures..., position, subject).
func (s *substituter) replace(c goja.FunctionCall) goja.Value {
	args := c.Arguments
	if len(args) < 3 {
		return s.rs
	}
	caps := args[:len(args)-2]
	pos := int(args[len(args)-2].ToInteger())
	subject := s.g.str(args[len(args)-1])
	out := s.expand(caps, pos, subject)
	s.total += int64(out.Length())
	if s.total > s.g.strCap {
		s.g.tooBig("RegExp.prototype[Symbol.replace]", s.total, s.g.strCap, "characters")
	}
	return out
}

// expand is GetSubstitution: $$, $&, $`, $' and $n or $nn, taking the
// longest number that names a capture.
func (s *substituter) expand(caps []goja.Value, pos int,
	subject goja.String) goja.String {
	matched := s.g.str(caps[0])
	var b goja.StringBuilder
	rs, n := s.rs, s.rs.Length()
	for i := 0; i < n; i++ {
		c := rs.CharAt(i)
		if c != '$' || i == n-1 {
			b.WriteSubstring(rs, i, i+1)
			continue
		}
		switch rs.CharAt(i + 1) {
		case '$':
			b.WriteRune('$')
		case '&':
			b.WriteString(matched)
		case '`':
			b.WriteSubstring(subject, 0, min(pos, subject.Length()))
		case '\'':
			if tail := pos + matched.Length(); tail < subject.Length() {
				b.WriteSubstring(subject, tail, subject.Length())
			}
		default:
			num, j := 0, i+1
			for j < n && rs.CharAt(j) >= '0' && rs.CharAt(j) <= '9' {
				m := num*10 + int(rs.CharAt(j)-'0')
				if m >= len(caps) {
					break
				}
				num, j = m, j+1
			}
			if num == 0 {
				b.WriteSubstring(rs, i, i+2)
				break
			}
			if v := caps[num]; !goja.IsUndefined(v) {
				b.WriteString(s.g.str(v))
			}
			i = j - 1
			continue
		}
		i++
	}
	return b.String()
}
