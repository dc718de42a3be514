package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples runs every shipped example as the README shows it.
func TestExamples(t *testing.T) {
	examples := filepath.Join("..", "..", "examples", "config.toml")
	shipped := filepath.Join("..", "..", "config.toml")
	tests := []struct {
		config, to, body string
		exit             int
		want             []string
	}{
		{examples, "+15550100020", "cat dog", 0, []string{
			"<Body>Here you go: cat and dog</Body>",
			"<Media>https://images.example.test/cat.jpg</Media>"}},
		{examples, "+15550100020", "constructor", 0, []string{"Send cat or dog"}},
		{examples, "+15550100021", "hé", 0, []string{
			"had 2 characters", `<Message from="+15550100021">`, "Reply HELP"}},
		{examples, "+15550100022", "I need a human", 0, []string{
			`<Redirect method="POST">https://support.example.test/sms</Redirect>`}},
		{examples, "+15550100023", "21", 0, []string{"<Message>42</Message>"}},
		{examples, "+15550100023", "abc", 1, []string{"Please send a number."}},
		{examples, "+15550100002", "hi", 0, []string{"our shop"}},
		{shipped, "+15550100002", "hi", 0, []string{"Corner Shop"}},
		{shipped, "+15550100003", " where?", 0, []string{"1 Example Street"}},
		{shipped, "+15550100003", "STOP", 0, []string{"<Response></Response>"}},
		{shipped, "whatsapp:+15550100003", "hours", 0, []string{"9:00-18:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.to+" "+tt.body, func(t *testing.T) {
			code, out, errOut := runCLI("try", "-config", tt.config, "-to", tt.to,
				"-body", tt.body)
			if code != tt.exit {
				t.Fatalf("exit %d, want %d: %s", code, tt.exit, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	for _, cfg := range []string{examples, shipped} {
		if code, out, _ := runCLI("check", "-config", cfg); code != 0 {
			t.Errorf("check %s: exit %d\n%s", cfg, code, out)
		}
	}
}
