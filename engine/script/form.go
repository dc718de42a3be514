package script

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxMediaIndex bounds the MediaUrlN indexes read; the CPaaS sends at most
// ten, and a forged NumMedia must not make the host loop.
const maxMediaIndex = 100

// MessageFromForm builds a Message from the POSTed form. Media come from
// MediaUrlN/MediaContentTypeN in index order, whatever the order of the
// fields and whatever NumMedia says; an index with no URL is skipped.
func MessageFromForm(form url.Values) *Message {
	m := &Message{
		From:   form.Get("From"),
		To:     form.Get("To"),
		Body:   form.Get("Body"),
		Sid:    form.Get("MessageSid"),
		Params: make(map[string]string, len(form)),
	}
	var idx []int
	for k, v := range form {
		if len(v) > 0 {
			m.Params[k] = v[0]
		}
		if rest, ok := strings.CutPrefix(k, "MediaUrl"); ok {
			n, err := strconv.Atoi(rest)
			if err == nil && n >= 0 && n < maxMediaIndex && strconv.Itoa(n) == rest &&
				form.Get(k) != "" {
				idx = append(idx, n)
			}
		}
	}
	if m.Sid == "" {
		m.Sid = form.Get("SmsMessageSid")
	}
	sort.Ints(idx)
	for _, n := range idx {
		i := strconv.Itoa(n)
		m.Media = append(m.Media, Media{
			URL:         form.Get("MediaUrl" + i),
			ContentType: form.Get("MediaContentType" + i),
		})
	}
	return m
}
