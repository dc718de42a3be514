package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lamlhost/lamlhost/engine/laml"
	"github.com/lamlhost/lamlhost/engine/script"
)

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func try(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flags("try", "try [-config FILE] -to NUMBER [-from NUMBER] [-body TEXT] "+
		"[-media URL]... [-sid SID]", stderr)
	path := fs.String("config", "config.toml", "the configuration file")
	to := fs.String("to", "", "the number the message is sent to (required)")
	from := fs.String("from", "+15550100001", "the number the message comes from")
	body := fs.String("body", "", "the message text")
	sid := fs.String("sid", "SM00000000000000000000000000000000", "the MessageSid")
	var media repeated
	fs.Var(&media, "media", "a media URL; give the flag once per attachment")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *to == "" {
		fmt.Fprintln(stderr, "lamlhost try: -to is required")
		fs.Usage()
		return 2
	}

	cfg, reg, _, err := load(*path, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "lamlhost try: %v\n", err)
		return 1
	}
	rt := reg.Lookup(*to)
	if rt == nil {
		fmt.Fprintf(stdout, "%s\n", laml.Empty)
		fmt.Fprintf(stderr, "lamlhost try: no script answers %s (answered 404)\n", *to)
		return 1
	}
	form := tryForm(*to, *from, *body, *sid, media)
	a := newDispatcher(cfg, newLogger(cfg, stderr)).Answer(ctx, rt,
		script.MessageFromForm(form))
	fmt.Fprintf(stdout, "%s\n", a.Body)
	if a.Err != nil {
		fmt.Fprintf(stderr, "lamlhost try: %v (answered %d)\n", a.Err, a.Status)
		return 1
	}
	return 0
}

// tryForm builds the form the CPaaS would POST for one message.
func tryForm(to, from, body, sid string, media []string) script.Form {
	var form script.Form
	add := func(name, value string) {
		form = append(form, script.Param{Name: name, Value: value})
	}
	add("To", to)
	add("From", from)
	add("Body", body)
	add("MessageSid", sid)
	add("SmsMessageSid", sid)
	add("AccountSid", "AC00000000000000000000000000000000")
	add("NumMedia", strconv.Itoa(len(media)))
	add("SmsStatus", "received")
	add("ApiVersion", "2010-04-01")
	for i, u := range media {
		add("MediaUrl"+strconv.Itoa(i), u)
		add("MediaContentType"+strconv.Itoa(i), "application/octet-stream")
	}
	return form
}
