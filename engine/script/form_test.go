package script

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestMessageFromForm covers case R5 and the absent-field rules.
func TestMessageFromForm(t *testing.T) {
	const shuffled = "MediaContentType1=image%2Fpng&To=%2B15550100099&MediaUrl2=https%3A%2F%2F" +
		"api.example.test%2FMedia%2FME2&NumMedia=3&From=%2B15550100001&MediaUrl0=https%3A" +
		"%2F%2Fapi.example.test%2FMedia%2FME0&MediaContentType0=image%2Fjpeg&Body=&MediaUrl1=" +
		"https%3A%2F%2Fapi.example.test%2FMedia%2FME1&MediaContentType2=video%2Fmp4&" +
		"MessageSid=SM00000000000000000000000000000007&AccountSid=AC00000000000000000000000000000000"
	tests := []struct {
		name  string
		form  string
		types []string
		body  string
		sid   string
	}{
		{"when media fields are shuffled expect index order", shuffled,
			[]string{"image/jpeg", "image/png", "video/mp4"}, "", "SM00000000000000000000000000000007"},
		{"when NumMedia says more than sent expect what was sent",
			"To=%2B1&From=%2B2&NumMedia=2&MediaUrl0=u0&MediaContentType0=image%2Fgif",
			[]string{"image/gif"}, "", ""},
		{"when Body is absent expect empty body", "To=%2B1&From=%2B2&SmsMessageSid=SMx",
			nil, "", "SMx"},
		{"when NumMedia is huge expect no loop", "To=%2B1&From=%2B2&NumMedia=999999999999",
			nil, "", ""},
		{"when index is not canonical expect it ignored",
			"To=%2B1&From=%2B2&MediaUrl01=a&MediaUrl-1=b&MediaUrl99999=c&MediaUrl1=d",
			[]string{""}, "", ""},
		{"when plus is encoded expect a plus", "To=%2B1&From=%2B2&Body=1%2B1%3D2",
			nil, "1+1=2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form, err := ParseForm(tt.form)
			if err != nil {
				t.Fatal(err)
			}
			m := MessageFromForm(form)
			var types []string
			for _, md := range m.Media {
				types = append(types, md.ContentType)
			}
			if !reflect.DeepEqual(types, tt.types) {
				t.Errorf("media types %q, want %q", types, tt.types)
			}
			if m.Body != tt.body || m.Sid != tt.sid {
				t.Errorf("body %q sid %q, want %q %q", m.Body, m.Sid, tt.body, tt.sid)
			}
			if !reflect.DeepEqual(m.Params, form) {
				t.Errorf("params %q, want the form %q", m.Params, form)
			}
		})
	}
}

// FuzzMessageFromForm checks that any form converts without panic, keeps
// every parameter, and yields media only from MediaUrlN fields, in order.
func FuzzMessageFromForm(f *testing.F) {
	f.Add("To=%2B15550100099&From=%2B15550100001&Body=hello&MessageSid=SM1&NumMedia=0")
	f.Add("MediaUrl2=c&MediaUrl0=a&NumMedia=3&MediaContentType0=x&MediaUrl1=b")
	f.Add("NumMedia=-1&MediaUrl=x&MediaUrl00=y&Body=%ff%fe&To=&From=")
	f.Fuzz(func(t *testing.T, raw string) {
		parsed, err := ParseForm(raw)
		if err != nil {
			return
		}
		m := MessageFromForm(parsed)
		form := parsed.Values()
		if names := m.Params.Names(); len(names) != len(form) {
			t.Fatalf("%d names, form has %d", len(names), len(form))
		}
		if m.Body != form.Get("Body") || m.To != form.Get("To") || m.From != form.Get("From") {
			t.Fatal("a core field differs from the form")
		}
		last := -1
		for _, md := range m.Media {
			n := mediaIndex(t, form, md.URL, last)
			if n <= last {
				t.Fatalf("media out of order: %d after %d", n, last)
			}
			last = n
		}
	})
}

// mediaIndex finds the first MediaUrlN after last whose value is u.
func mediaIndex(t *testing.T, form url.Values, u string, last int) int {
	best := -1
	for k := range form {
		rest, ok := strings.CutPrefix(k, "MediaUrl")
		n, err := strconv.Atoi(rest)
		if ok && err == nil && n > last && form.Get(k) == u && (best < 0 || n < best) {
			best = n
		}
	}
	if best < 0 {
		t.Fatalf("media %q comes from no MediaUrlN field after %d", u, last)
	}
	return best
}

// TestParseFormOrderAndRepeats checks what url.Values cannot show: the
// order sent, and every value of a repeated name.
func TestParseFormOrderAndRepeats(t *testing.T) {
	form, err := ParseForm("b=2&a=1&&b=3&c&d=%2B+x")
	if err != nil {
		t.Fatal(err)
	}
	want := Form{{"b", "2"}, {"a", "1"}, {"b", "3"}, {"c", ""}, {"d", "+ x"}}
	if !reflect.DeepEqual(form, want) {
		t.Fatalf("got %q, want %q", form, want)
	}
	if got := form.Get("b"); got != "2" {
		t.Errorf("Get(b) = %q, want the first value", got)
	}
	if got, ok := MessageFromForm(form).Params.Lookup("b"); got != "2" || !ok {
		t.Errorf("Params.Lookup(b) = %q, %v, want the first value", got, ok)
	}
	if got := form.Names(); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("Names() = %q, want each name once, sorted", got)
	}
	if _, ok := form.Lookup("e"); ok {
		t.Error("Lookup found a name that was not sent")
	}
	if _, err := ParseForm("To=%2B1&Body=%zz"); err == nil {
		t.Error("a bad escape parsed without an error")
	}
	if _, err := ParseForm("To=1;From=2"); err == nil {
		t.Error("a semicolon separator parsed without an error")
	}
}

// FuzzParseForm checks ParseForm against url.ParseQuery: the same error or
// none, and the same values in the same order for each name.
func FuzzParseForm(f *testing.F) {
	f.Add("To=%2B15550100099&From=%2B15550100001&Body=hello+there&MessageSid=SM1")
	f.Add("a=1&a=2&&b&=c&d=%zz&e=f;g&h=%E2%82%AC")
	f.Add("%=&=%&&;&+=+")
	f.Fuzz(func(t *testing.T, raw string) {
		want, werr := url.ParseQuery(raw)
		form, err := ParseForm(raw)
		if (err == nil) != (werr == nil) {
			t.Fatalf("error %v, url.ParseQuery says %v", err, werr)
		}
		if got := form.Values(); !reflect.DeepEqual(got, want) {
			t.Fatalf("values %q, url.ParseQuery gives %q", got, want)
		}
	})
}
