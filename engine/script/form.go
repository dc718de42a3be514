package script

import (
	"cmp"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxMediaIndex bounds the MediaUrlN indexes read; the CPaaS sends at most
// ten, and a forged NumMedia must not make the host loop.
const maxMediaIndex = 100

// Param is one parameter of a POSTed form.
type Param struct{ Name, Value string }

// Form is a POSTed form's parameters in the order they were sent. A name
// may come more than once.
type Form []Param

// ParseForm decodes an application/x-www-form-urlencoded body. It reads
// what url.ParseQuery reads, with the same errors, but into one slice in
// the order sent: a webhook is parsed once per message, and a map of
// slices costs an allocation per parameter. Values without escapes share
// the body's memory.
func ParseForm(body string) (Form, error) {
	form := make(Form, 0, strings.Count(body, "&")+1)
	var err error
	for body != "" {
		var part string
		part, body, _ = strings.Cut(body, "&")
		if strings.Contains(part, ";") {
			err = cmp.Or(err, errSemicolon)
			continue
		}
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		name, err1 := url.QueryUnescape(name)
		if err1 != nil {
			err = cmp.Or(err, err1)
			continue
		}
		value, err1 = url.QueryUnescape(value)
		if err1 != nil {
			err = cmp.Or(err, err1)
			continue
		}
		form = append(form, Param{name, value})
	}
	return form, err
}

// errSemicolon is url.ParseQuery's error for a ';' in a parameter.
var errSemicolon = errors.New("invalid semicolon separator in query")

// Get returns the first value of name, or "".
func (f Form) Get(name string) string {
	for _, p := range f {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Values returns the form as url.Values, every value kept in order.
func (f Form) Values() url.Values {
	v := make(url.Values, len(f))
	for _, p := range f {
		v[p.Name] = append(v[p.Name], p.Value)
	}
	return v
}

// MessageFromForm builds a Message from the POSTed form. Media come from
// MediaUrlN/MediaContentTypeN in index order, whatever the order of the
// fields and whatever NumMedia says; an index with no URL is skipped.
// Params keeps the first value of a repeated name, as Get does.
func MessageFromForm(form Form) *Message {
	m := &Message{Params: make(map[string]string, len(form))}
	var idx []int
	for _, p := range form {
		if _, seen := m.Params[p.Name]; seen {
			continue
		}
		m.Params[p.Name] = p.Value
		switch p.Name {
		case "From":
			m.From = p.Value
		case "To":
			m.To = p.Value
		case "Body":
			m.Body = p.Value
		case "MessageSid":
			m.Sid = p.Value
		}
		if rest, ok := strings.CutPrefix(p.Name, "MediaUrl"); ok {
			n, err := strconv.Atoi(rest)
			if err == nil && n >= 0 && n < maxMediaIndex && strconv.Itoa(n) == rest &&
				p.Value != "" {
				idx = append(idx, n)
			}
		}
	}
	if m.Sid == "" {
		m.Sid = m.Params["SmsMessageSid"]
	}
	slices.Sort(idx)
	for _, n := range idx {
		i := strconv.Itoa(n)
		m.Media = append(m.Media, Media{
			URL:         m.Params["MediaUrl"+i],
			ContentType: m.Params["MediaContentType"+i],
		})
	}
	return m
}
