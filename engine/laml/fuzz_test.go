package laml

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEscape renders arbitrary text as a message body and an attribute and
// checks that the result parses strictly, decodes back to the input (after
// replacing what XML cannot carry), and holds no forbidden character.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{
		"", "plain", `pb&j <3 >_< "ok" it's a]]>b`, "bell\a\x00\x1b\t\n\r",
		"\xed\xa0\xbd\xff", "\ufffe\uffff", "😀 hi", "&#x0B;", "]]>", "<![CDATA[x]]>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := &Response{Verbs: []Verb{
			&Message{Body: s, To: s},
			&Message{Body: s, Media: []string{s}},
		}}
		var buf bytes.Buffer
		if err := r.Render(&buf); err != nil {
			return // over the reply cap
		}
		out := buf.String()
		if !strings.HasPrefix(out, Header) || !utf8.ValidString(out) {
			t.Fatalf("bad start or invalid UTF-8: %q", out)
		}
		for _, c := range out {
			if !allowed(c) {
				t.Fatalf("forbidden rune %U in %q", c, out)
			}
		}
		want := sanitize(s)
		texts, attrs := decode(t, out)
		for _, got := range append(texts, attrs...) {
			if got != want {
				t.Fatalf("round trip: got %q, want %q", got, want)
			}
		}
	})
}

// allowed is XML 1.0's Char production.
func allowed(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// sanitize is what the text must decode to: each invalid byte or forbidden
// rune replaced by U+FFFD, and CR LF as XML's end-of-line handling leaves
// them after escaping (escaped, so unchanged).
func sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if (r == utf8.RuneError && n == 1) || !allowed(r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// decode parses out strictly and returns the text of every Message, Body
// and Media element that has text, and every "to" attribute.
func decode(t *testing.T, out string) (texts, attrs []string) {
	dec := xml.NewDecoder(strings.NewReader(out))
	dec.Strict = true
	var cur strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return texts, attrs
		}
		if err != nil {
			t.Fatalf("strict decoder: %v in %q", err, out)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			cur.Reset()
			for _, a := range tok.Attr {
				attrs = append(attrs, a.Value)
			}
		case xml.CharData:
			cur.Write(tok)
		case xml.EndElement:
			name := tok.Name.Local
			if name == "Body" || name == "Media" || (name == "Message" && cur.Len() > 0) {
				texts = append(texts, cur.String())
			}
			cur.Reset()
		}
	}
}
