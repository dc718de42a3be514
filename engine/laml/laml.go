// Package laml turns a script's return value into a LaML reply and renders
// it as XML. Every text and attribute value passes through the XML escaper;
// characters that XML 1.0 forbids never reach the output.
package laml

import (
	"bytes"
	"encoding/xml"
	"unicode/utf8"
)

// Limits the CPaaS imposes on a reply.
const (
	// MaxBodyUnits is the longest message text, in UTF-16 code units.
	MaxBodyUnits = 1600
	// MaxMedia is the most media one message may carry.
	MaxMedia = 10
	// MaxReply is the largest rendered reply, in bytes.
	MaxReply = 64 << 10
)

// Header starts every reply.
const Header = `<?xml version="1.0" encoding="UTF-8"?>`

// Verb is one element inside <Response>: a *Message or a *Redirect.
type Verb interface{ render(w *writer) }

// Message is the <Message> verb.
type Message struct {
	Body           string
	Media          []string
	To             string
	From           string
	Action         string
	Method         string
	StatusCallback string
}

// Redirect is the <Redirect> verb.
type Redirect struct {
	URL    string
	Method string
}

// Response is a whole reply; no verbs means no reply.
type Response struct {
	Verbs []Verb
}

// Empty is the reply that sends nothing.
var Empty = []byte(Header + "<Response></Response>")

// Render writes the reply as XML, starting with Header. It fails with
// ErrTooLarge when the result passes MaxReply.
func (r *Response) Render(buf *bytes.Buffer) error {
	w := &writer{buf: buf}
	start := buf.Len()
	buf.WriteString(Header)
	buf.WriteString("<Response>")
	for _, v := range r.Verbs {
		v.render(w)
	}
	buf.WriteString("</Response>")
	if n := buf.Len() - start; n > MaxReply {
		buf.Truncate(start)
		return &Error{Path: "reply", Problem: sizeProblem(n)}
	}
	return nil
}

func (m *Message) render(w *writer) {
	w.open("Message",
		"to", m.To, "from", m.From, "action", m.Action,
		"method", m.Method, "statusCallback", m.StatusCallback)
	if len(m.Media) == 0 {
		w.text(m.Body)
	} else {
		if m.Body != "" {
			w.element("Body", m.Body)
		}
		for _, u := range m.Media {
			w.element("Media", u)
		}
	}
	w.close("Message")
}

func (r *Redirect) render(w *writer) {
	w.open("Redirect", "method", r.Method)
	w.text(r.URL)
	w.close("Redirect")
}

// writer emits elements whose names are constants of this package and
// whose text and attribute values are always escaped.
type writer struct {
	buf *bytes.Buffer
}

// open writes a start tag with the attributes given as name, value pairs;
// pairs with an empty value are left out.
func (w *writer) open(name string, attrs ...string) {
	w.buf.WriteByte('<')
	w.buf.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		w.buf.WriteByte(' ')
		w.buf.WriteString(attrs[i])
		w.buf.WriteString(`="`)
		w.text(attrs[i+1])
		w.buf.WriteByte('"')
	}
	w.buf.WriteByte('>')
}

func (w *writer) close(name string) {
	w.buf.WriteString("</")
	w.buf.WriteString(name)
	w.buf.WriteByte('>')
}

func (w *writer) element(name, text string) {
	w.open(name)
	w.text(text)
	w.close(name)
}

// text escapes s. xml.EscapeText replaces invalid UTF-8 and every rune
// outside XML 1.0's Char production with U+FFFD, so forbidden characters
// never appear raw or as character references.
func (w *writer) text(s string) {
	if plain(s) {
		w.buf.WriteString(s)
		return
	}
	// EscapeText only fails when the writer fails; a bytes.Buffer does not.
	_ = xml.EscapeText(w.buf, []byte(s))
}

// plain reports whether s needs no escaping at all: printable ASCII
// without markup characters. It keeps the common case free of copies.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf {
			return false
		}
		switch c {
		case '&', '<', '>', '"', '\'':
			return false
		}
	}
	return true
}
