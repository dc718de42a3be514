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

// Lookup returns the first value of name, and whether name was sent.
func (f Form) Lookup(name string) (string, bool) {
	for _, p := range f {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// Get returns the first value of name, or "".
func (f Form) Get(name string) string {
	v, _ := f.Lookup(name)
	return v
}

// Names returns the names sent, each once, in byte order.
func (f Form) Names() []string {
	names := make([]string, len(f))
	for i, p := range f {
		names[i] = p.Name
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Values returns the form as url.Values, every value kept in order.
func (f Form) Values() url.Values {
	v := make(url.Values, len(f))
	for _, p := range f {
		v[p.Name] = append(v[p.Name], p.Value)
	}
	return v
}

// MessageFromForm builds a Message from the POSTed form, which it keeps as
// Params. A field sent more than once counts with its first value. Media
// come from MediaUrlN/MediaContentTypeN in index order, whatever the order
// of the fields and whatever NumMedia says; an index with no URL is
// skipped.
func MessageFromForm(form Form) *Message {
	m := &Message{
		From:   form.Get("From"),
		To:     form.Get("To"),
		Body:   form.Get("Body"),
		Sid:    form.Get("MessageSid"),
		Params: form,
	}
	if m.Sid == "" {
		m.Sid = form.Get("SmsMessageSid")
	}
	var idx []int
	for _, p := range form {
		rest, ok := strings.CutPrefix(p.Name, "MediaUrl")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err == nil && n >= 0 && n < maxMediaIndex && strconv.Itoa(n) == rest &&
			!slices.Contains(idx, n) {
			idx = append(idx, n)
		}
	}
	slices.Sort(idx)
	for _, n := range idx {
		i := strconv.Itoa(n)
		if u := form.Get("MediaUrl" + i); u != "" {
			m.Media = append(m.Media, Media{URL: u, ContentType: form.Get("MediaContentType" + i)})
		}
	}
	return m
}
