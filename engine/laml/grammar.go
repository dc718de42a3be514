package laml

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lamlhost/lamlhost/engine/script"
)

// Error is a return value that breaks the reply grammar. Path says where in
// the value the problem is, as in "reply[1].message.media".
type Error struct {
	Path    string
	Problem string
}

// Error implements error.
func (e *Error) Error() string { return e.Path + ": " + e.Problem }

// FromValue reads a script's return value, as a plain value tree, into a
// Response. The grammar is the same for every language:
//
//	nil                      no reply
//	string                   one message with that text
//	{message: string|object} one message
//	{redirect: string|object} one redirect
//	[]any of the above       each in order
func FromValue(v any) (*Response, error) {
	r := &Response{}
	if list, ok := v.([]any); ok {
		for i, item := range list {
			path := fmt.Sprintf("reply[%d]", i)
			if err := r.add(path, item, false); err != nil {
				return nil, err
			}
		}
		return r, nil
	}
	if err := r.add("reply", v, true); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Response) add(path string, v any, top bool) error {
	switch v := v.(type) {
	case nil:
		if top {
			return nil
		}
		return &Error{Path: path, Problem: "a list item is empty"}
	case string:
		return r.addMessage(&Message{Body: v}, path)
	case map[string]any:
		return r.addObject(path, v)
	case []any:
		return &Error{Path: path, Problem: "a list inside a list is not allowed"}
	case script.Unsupported:
		return &Error{Path: path, Problem: "cannot reply with a " + v.Type +
			"; return text, {message: ...}, {redirect: ...} or a list of them"}
	default:
		return &Error{Path: path, Problem: fmt.Sprintf("cannot reply with %T", v)}
	}
}

func (r *Response) addObject(path string, obj map[string]any) error {
	if len(obj) != 1 {
		if len(obj) == 0 {
			return &Error{Path: path,
				Problem: "an empty object; expected a message or redirect key"}
		}
		if err := unknownKeys(path, obj, "message", "redirect"); err != nil {
			return err
		}
		return &Error{Path: path,
			Problem: "both message and redirect; return a list for several verbs"}
	}
	if v, ok := obj["message"]; ok {
		return r.readMessage(path+".message", v)
	}
	if v, ok := obj["redirect"]; ok {
		return r.readRedirect(path+".redirect", v)
	}
	return unknownKeys(path, obj, "message", "redirect")
}

func (r *Response) readMessage(path string, v any) error {
	switch v := v.(type) {
	case string:
		return r.addMessage(&Message{Body: v}, path)
	case map[string]any:
		m, err := messageFields(path, v)
		if err != nil {
			return err
		}
		return r.addMessage(m, path)
	default:
		return &Error{Path: path, Problem: "must be text or an object, not " + typeName(v)}
	}
}

func messageFields(path string, obj map[string]any) (*Message, error) {
	err := unknownKeys(path, obj,
		"body", "media", "to", "from", "action", "method", "statusCallback")
	if err != nil {
		return nil, err
	}
	m := &Message{}
	fields := []struct {
		key string
		dst *string
	}{
		{"body", &m.Body}, {"to", &m.To}, {"from", &m.From},
		{"action", &m.Action}, {"method", &m.Method},
		{"statusCallback", &m.StatusCallback},
	}
	for _, f := range fields {
		if *f.dst, err = text(path+"."+f.key, obj[f.key]); err != nil {
			return nil, err
		}
	}
	if m.Media, err = mediaList(path+".media", obj["media"]); err != nil {
		return nil, err
	}
	if err := checkMethod(path+".method", m.Method); err != nil {
		return nil, err
	}
	return m, nil
}

// addMessage appends m unless it has neither text nor media: the CPaaS
// rejects an empty <Message/>, so an empty reply text means no message.
func (r *Response) addMessage(m *Message, path string) error {
	if m.Body == "" && len(m.Media) == 0 {
		return nil
	}
	if n := UTF16Len(m.Body); n > MaxBodyUnits {
		return &Error{Path: path, Problem: fmt.Sprintf(
			"message text is %d UTF-16 units long, over the limit of %d",
			n, MaxBodyUnits)}
	}
	r.Verbs = append(r.Verbs, m)
	return nil
}

func (r *Response) readRedirect(path string, v any) error {
	rd := &Redirect{}
	switch v := v.(type) {
	case string:
		rd.URL = v
	case map[string]any:
		if err := unknownKeys(path, v, "url", "method"); err != nil {
			return err
		}
		var err error
		if rd.URL, err = text(path+".url", v["url"]); err != nil {
			return err
		}
		if rd.Method, err = text(path+".method", v["method"]); err != nil {
			return err
		}
	default:
		return &Error{Path: path, Problem: "must be a URL or an object, not " + typeName(v)}
	}
	if rd.URL == "" {
		return &Error{Path: path, Problem: "the redirect URL is empty"}
	}
	if err := checkMethod(path+".method", rd.Method); err != nil {
		return err
	}
	r.Verbs = append(r.Verbs, rd)
	return nil
}

func mediaList(path string, v any) ([]string, error) {
	var urls []string
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		urls = []string{v}
	case []any:
		if len(v) > MaxMedia {
			return nil, &Error{Path: path, Problem: fmt.Sprintf(
				"%d media, over the limit of %d", len(v), MaxMedia)}
		}
		for i, item := range v {
			u, err := text(fmt.Sprintf("%s[%d]", path, i), item)
			if err != nil {
				return nil, err
			}
			urls = append(urls, u)
		}
	default:
		return nil, &Error{Path: path, Problem: "must be a URL or a list of URLs, not " +
			typeName(v)}
	}
	for i, u := range urls {
		if u == "" {
			return nil, &Error{Path: fmt.Sprintf("%s[%d]", path, i),
				Problem: "a media URL is empty"}
		}
	}
	return urls, nil
}

func checkMethod(path, m string) error {
	switch m {
	case "", "GET", "POST":
		return nil
	}
	return &Error{Path: path, Problem: fmt.Sprintf("method %q is not GET or POST", m)}
}

// text reads an optional text field; absent is the empty string.
func text(path string, v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", &Error{Path: path, Problem: "must be text, not " + typeName(v)}
}

func unknownKeys(path string, obj map[string]any, known ...string) error {
	var extra []string
	for k := range obj {
		if !contains(known, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return &Error{Path: path, Problem: fmt.Sprintf("unknown key %q (known: %s)",
		extra[0], strings.Join(known, ", "))}
}

func contains(list []string, s string) bool {
	for _, k := range list {
		if k == s {
			return true
		}
	}
	return false
}

func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return "text"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case script.Unsupported:
		return "a " + v.Type
	}
	return fmt.Sprintf("%T", v)
}

// UTF16Len counts s in UTF-16 code units, as the CPaaS counts a message.
// An invalid byte counts as one unit: it is sent as U+FFFD.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func sizeProblem(n int) string {
	return fmt.Sprintf("the reply is %d bytes, over the limit of %d", n, MaxReply)
}
