package laml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lamlhost/lamlhost/engine/script"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t *testing.T, v any) string {
	t.Helper()
	r, err := FromValue(v)
	if err != nil {
		t.Fatalf("FromValue: %v", err)
	}
	var buf bytes.Buffer
	if err := r.Render(&buf); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"nothing", nil},
		{"text", "Thanks!"},
		{"empty_text", ""},
		{"message_object", map[string]any{"message": "hi"}},
		{"message_attrs", map[string]any{"message": map[string]any{
			"body": "see you", "to": "+15550100001", "from": "+15550100099",
			"action": "https://example.test/status?a=1&b=2", "method": "GET",
			"statusCallback": "https://example.test/cb"}}},
		{"media_one", map[string]any{"message": map[string]any{
			"body": "a picture", "media": "https://example.test/cat.jpg"}}},
		{"media_list_no_body", map[string]any{"message": map[string]any{
			"media": []any{"https://example.test/1.png", "https://example.test/2.png"}}}},
		{"redirect_text", map[string]any{"redirect": "https://example.test/next"}},
		{"redirect_object", map[string]any{"redirect": map[string]any{
			"url": "https://example.test/next?x=<1>", "method": "GET"}}},
		{"list", []any{"one", map[string]any{"message": "two"},
			map[string]any{"redirect": "https://example.test/three"}}},
		{"empty_list", []any{}},
		{"markup", `pb&j <3 >_< "ok" it's a]]>b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, tt.v)
			golden := filepath.Join("testdata", tt.name+".xml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if got != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			checkWellFormed(t, got)
		})
	}
}

func TestGrammarErrors(t *testing.T) {
	long := strings.Repeat("a", 1601)
	media11 := make([]any, 11)
	for i := range media11 {
		media11[i] = "https://example.test/m.png"
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"when body over 1600 units expect error", long, "1601 UTF-16 units"},
		{"when 801 emoji expect error", strings.Repeat("😀", 801), "1602 UTF-16 units"},
		{"when 11 media expect error", map[string]any{"message": map[string]any{
			"media": media11}}, "11 media"},
		{"when method PUT expect error", map[string]any{"message": map[string]any{
			"body": "x", "method": "PUT"}}, `method "PUT"`},
		{"when redirect method lower expect error", map[string]any{"redirect": map[string]any{
			"url": "u", "method": "post"}}, `method "post"`},
		{"when unknown key expect it named", map[string]any{"mesage": "typo"},
			`unknown key "mesage"`},
		{"when unknown message key expect it named", map[string]any{"message": map[string]any{
			"body": "x", "bdy": "y"}}, `unknown key "bdy"`},
		{"when empty object expect error", map[string]any{}, "empty object"},
		{"when both verbs expect error", map[string]any{"message": "a", "redirect": "b"},
			"return a list"},
		{"when boolean expect error", script.Unsupported{Type: "boolean"}, "boolean"},
		{"when nested list expect error", []any{[]any{"x"}}, "list inside a list"},
		{"when nil in list expect error", []any{nil}, "empty"},
		{"when empty redirect expect error", map[string]any{"redirect": ""}, "empty"},
		{"when body is a number-like object expect error", map[string]any{
			"message": map[string]any{"body": map[string]any{}}}, "must be text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromValue(tt.v)
			var lerr *Error
			if !errors.As(err, &lerr) {
				t.Fatalf("got %v, want a *laml.Error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// TestLengthLimits is case R6: counts are in UTF-16 code units.
func TestLengthLimits(t *testing.T) {
	for _, ok := range []string{strings.Repeat("a", 1600), strings.Repeat("😀", 800)} {
		if _, err := FromValue(ok); err != nil {
			t.Errorf("%d bytes: %v", len(ok), err)
		}
	}
	if _, err := FromValue(strings.Repeat("a", 1700)); err == nil {
		t.Error("1700 a: no error")
	}
}

func TestReplyCap(t *testing.T) {
	list := make([]any, 50)
	for i := range list {
		list[i] = strings.Repeat("&", 1500) // 5 bytes each once escaped
	}
	r, err := FromValue(list)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = r.Render(&buf)
	var lerr *Error
	if !errors.As(err, &lerr) || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("got %v, want a size error", err)
	}
	if buf.Len() != 0 {
		t.Errorf("a refused reply left %d bytes in the buffer", buf.Len())
	}
}

// TestForbiddenCharacters is case R2.
func TestForbiddenCharacters(t *testing.T) {
	in := "bell\a|vt\v|ff\f|nul\x00|esc\x1b|tab\t|nl\n|cr\r|bad\xed\xa0\xbd|ff\xff|" +
		"\uFFFE\uFFFF"
	out := render(t, in)
	text := checkWellFormed(t, out)
	for _, c := range []string{"\t", "\n", "\r"} {
		if !strings.Contains(text, c) {
			t.Errorf("decoded text lost %q", c)
		}
	}
	for _, bad := range []string{"\a", "\v", "\f", "\x00", "\x1b", "&#x0B;", "&#x7;",
		"&#x0;", "&#xFFFE;", "\ufffe"} {
		if strings.Contains(out, bad) || strings.Contains(text, bad) {
			t.Errorf("output carries %q", bad)
		}
	}
	if !utf8.ValidString(out) {
		t.Error("output is not valid UTF-8")
	}
}

// TestHeader is case R3: the first bytes are "<?xml", whatever the reply.
func TestHeader(t *testing.T) {
	for _, v := range []any{nil, "\ufeffhi", "\n x", []any{}} {
		if out := render(t, v); !strings.HasPrefix(out, "<?xml") {
			t.Errorf("%q starts with %q", v, out[:10])
		}
	}
	if !bytes.HasPrefix(Empty, []byte("<?xml")) {
		t.Error("Empty does not start with <?xml")
	}
}

// checkWellFormed decodes out with a strict decoder and returns the
// concatenated character data.
func checkWellFormed(t testing.TB, out string) string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(out))
	dec.Strict = true
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("not well-formed: %v\n%s", err, out)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
		}
	}
	return text.String()
}
