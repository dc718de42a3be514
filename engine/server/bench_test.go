package server

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
)

// benchForm is compare.sh's real-shaped payload; %s is the MessageSid.
const benchForm = "ToCountry=US&ToState=CA&NumMedia=0&ToCity=&FromZip=&FromState=CA" +
	"&SmsStatus=received&FromCity=&Body=Hello+there+%%26+welcome+%%3Cfriend%%3E" +
	"&FromCountry=US&To=%%2B%s&ToZip=&NumSegments=1&AccountSid=AC0123456789abcdef" +
	"0123456789abcdef&From=%%2B15550100100&ApiVersion=2010-04-01&MessageSid=%s" +
	"&SmsSid=%s&SmsMessageSid=%s"

// benchTarget is one handler the benchmarks compare, and the number its
// requests go to.
type benchTarget struct {
	name, number string
	h            http.Handler
}

// benchTargets is the native baseline and lamlhost with compare.sh's JS
// and Lua scripts.
func benchTargets(b *testing.B) (*site, []benchTarget) {
	s := newSite(b, "", map[string]string{
		"+15550100001.js": `function handle(msg) {
  return 'Hi! We received your message: "' + msg.body + '"'; }`,
		"+15550100002.lua": `function handle(msg)
  return 'Hi! We received your message: "' .. msg.body .. '"' end`,
	})
	native := echo.New()
	native.POST("/sms/inbound", nativeReply)
	return s, []benchTarget{
		{"native", "15550100001", native},
		{"js", "15550100001", s.srv.Handler()},
		{"lua", "15550100002", s.srv.Handler()},
	}
}

// benchSeq numbers the benchmarks' messages, so that no MessageSid comes
// twice, even across -count runs: a repeat is answered from the record.
var benchSeq atomic.Int64

// benchPost sends the benchmark payload to number under MessageSid seq.
func benchPost(h http.Handler, number string, seq int64) *httptest.ResponseRecorder {
	sid := fmt.Sprintf("SM%032x", seq)
	body := fmt.Sprintf(benchForm, number, sid, sid, sid)
	req := httptest.NewRequest(http.MethodPost, "/sms/inbound", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// BenchmarkInbound measures one webhook through the whole handler in
// process: parse, route, dedupe, run, render, log. The native case is the
// same reply written in Go on Echo, the baseline of the ratios.
func BenchmarkInbound(b *testing.B) {
	s, targets := benchTargets(b)
	for _, c := range targets {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := benchPost(c.h, c.number, benchSeq.Add(1))
				if rec.Code != 200 || !strings.Contains(rec.Body.String(), "&lt;friend&gt;") {
					b.Fatalf("got %d %q\n%s", rec.Code, rec.Body, lastFailure(s.logs.String()))
				}
			}
		})
	}
}

func nativeReply(c echo.Context) error {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response><Message>`)
	text := `Hi! We received your message: "` + c.FormValue("Body") + `"`
	if err := xml.EscapeText(&b, []byte(text)); err != nil {
		return err
	}
	b.WriteString(`</Message></Response>`)
	return c.Blob(http.StatusOK, "application/xml", b.Bytes())
}

// BenchmarkManyNumbers hits 1000 numbers, each with its own script, in
// turn, against the same reply from one number: per-script state (pools,
// caches) must not make the many-script case slower.
func BenchmarkManyNumbers(b *testing.B) {
	for _, lang := range []string{"js", "lua"} {
		scripts := map[string]string{}
		for i := range 1000 {
			src := fmt.Sprintf(`function handle(msg) { return "n%d " + msg.body }`, i)
			if lang == "lua" {
				src = fmt.Sprintf(`function handle(msg) return "n%d " .. msg.body end`, i)
			}
			scripts[fmt.Sprintf("+1555%07d.%s", i, lang)] = src
		}
		s := newSite(b, "", scripts)
		for _, spread := range []int{1, 1000} {
			b.Run(fmt.Sprintf("%s/numbers=%d", lang, spread), func(b *testing.B) {
				b.ReportAllocs()
				for i := int64(0); b.Loop(); i++ {
					num := fmt.Sprintf("1555%07d", i%int64(spread))
					rec := benchPost(s.srv.Handler(), num, benchSeq.Add(1))
					if rec.Code != 200 {
						b.Fatalf("got %d %q", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}

// lastFailure is the last "script failed" line of a log, for a failing
// benchmark's message.
func lastFailure(logs string) string {
	i := strings.LastIndex(logs, "script failed")
	if i < 0 {
		return ""
	}
	end := strings.IndexByte(logs[i:], '\n')
	if end < 0 {
		end = len(logs) - i
	}
	return logs[i : i+end]
}

// BenchmarkInboundParallel is BenchmarkInbound with many requests at once,
// as under load.
func BenchmarkInboundParallel(b *testing.B) {
	s, targets := benchTargets(b)
	for _, c := range targets {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if rec := benchPost(c.h, c.number, benchSeq.Add(1)); rec.Code != 200 {
						b.Errorf("got %d\n%s", rec.Code, lastFailure(s.logs.String()))
						return
					}
				}
			})
		})
	}
}
