package signature

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The published example (case S1) and its variants.
const (
	s1Token   = "12345"
	s1URL     = "https://mycompany.com/myapp.php?foo=1&bar=2"
	s1Sig     = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	s1Sig1234 = "CYn1h0gLBdNxDGkKJg6hYohgeD8="
	s1Sig443  = "kvajT1Ptam85bY51eRf/AJRuM3w="
	s1SigReps = "IK+Dwps556ElfBT0I3Rgjkr1wJU="
)

// Our own conventions (cases S2 to S4).
const (
	ourToken  = "fake0token0for0tests0000000000aa"
	ourURL    = "https://sms.example.test/sms"
	s2Sig     = "DDvjrIwpLEbn5WA4tkSH5hkQyZk="
	s2Sig443  = "XDKiB0EeyQJJwYbZIVYjXPX0Jto="
	s2Sig8443 = "s1knNTzfQr9KMeC5ALgrAlfmrWM="
	s4SigUTF8 = "lE8QSrvhLIrQNMAhaybYV18UGcc="
	s4SigPlus = "QbqR1hWG9xhIX1vZrXjzrNMX4SI="
)

func s1Params() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
}

// readForm returns the raw form in testdata/name.
func readForm(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// parseForm decodes the raw form in testdata/name.
func parseForm(t testing.TB, name string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(readForm(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSign(t *testing.T) {
	with := func(v url.Values, name string, values ...string) url.Values {
		v[name] = values
		return v
	}
	tests := []struct {
		name   string
		token  string
		url    string
		params url.Values
		want   string
	}{
		{"S1 published example", s1Token, s1URL, s1Params(), s1Sig},
		{"S1 with port 1234", s1Token,
			"https://mycompany.com:1234/myapp.php?foo=1&bar=2", s1Params(), s1Sig1234},
		{"S1 with port 443", s1Token,
			"https://mycompany.com:443/myapp.php?foo=1&bar=2", s1Params(), s1Sig443},
		{"fragment is not signed", s1Token, s1URL + "#rc=2&rp=5xx", s1Params(), s1Sig},
		{"repeated name, duplicates dropped", s1Token, s1URL, url.Values{
			"Sid":        {"CA123"},
			"SidAccount": {"AC123"},
			"Digits":     {"5678", "1234", "1234"},
		}, s1SigReps},
		{"repeated name in another order", s1Token, s1URL, url.Values{
			"Digits":     {"1234", "5678"},
			"SidAccount": {"AC123"},
			"Sid":        {"CA123"},
		}, s1SigReps},
		{"S2 port-less", ourToken, ourURL, parseForm(t, "base.form"), s2Sig},
		{"S2 port 443", ourToken, "https://sms.example.test:443/sms",
			parseForm(t, "base.form"), s2Sig443},
		{"S2 port 8443", ourToken, "https://sms.example.test:8443/sms",
			parseForm(t, "base.form"), s2Sig8443},
		{"S4 UTF-8 body", ourToken, ourURL, parseForm(t, "s4-utf8.form"), s4SigUTF8},
		{"S4 plus sign body", ourToken, ourURL, parseForm(t, "s4-plus.form"), s4SigPlus},
		{"S4 plus sign given decoded", ourToken, ourURL, with(with(
			parseForm(t, "base.form"), "Body", "1+1=2"),
			"MessageSid", "SM00000000000000000000000000000005"), s4SigPlus},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sign(tt.token, tt.url, tt.params); got != tt.want {
				t.Errorf("Sign(%q) = %s, want %s", tt.url, got, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	base := parseForm(t, "base.form")
	mixed := s1Params()
	mixed.Set("foo", "1")
	mixed.Set("bar", "2")
	tests := []struct {
		name   string
		token  string
		url    string // the URL the server sees
		params url.Values
		sig    string
		want   bool
	}{
		{"S1 exact", s1Token, s1URL, s1Params(), s1Sig, true},
		{"S1 port-less URL, :443 signature", s1Token, s1URL, s1Params(), s1Sig443, true},
		{"S1 :443 URL, port-less signature", s1Token,
			"https://mycompany.com:443/myapp.php?foo=1&bar=2", s1Params(), s1Sig, true},
		{"S1 :1234 URL, its own signature", s1Token,
			"https://mycompany.com:1234/myapp.php?foo=1&bar=2", s1Params(), s1Sig1234,
			true},
		{"S1 :1234 URL, port-less signature", s1Token,
			"https://mycompany.com:1234/myapp.php?foo=1&bar=2", s1Params(), s1Sig, true},
		{"S1 port-less URL, :1234 signature", s1Token, s1URL, s1Params(), s1Sig1234,
			false},
		{"S1 fragment ignored", s1Token, s1URL + "#rc=2&rp=5xx", s1Params(), s1Sig, true},
		{"S2 port-less URL, port-less signature", ourToken, ourURL, base, s2Sig, true},
		{"S2 port-less URL, :443 signature", ourToken, ourURL, base, s2Sig443, true},
		{"S2 :443 URL, port-less signature", ourToken,
			"https://sms.example.test:443/sms", base, s2Sig, true},
		{"S2 :443 URL, :443 signature", ourToken,
			"https://sms.example.test:443/sms", base, s2Sig443, true},
		{"S2 :8443 URL, :8443 signature", ourToken,
			"https://sms.example.test:8443/sms", base, s2Sig8443, true},
		{"S2 :8443 URL, port-less signature", ourToken,
			"https://sms.example.test:8443/sms", base, s2Sig, true},
		{"S2 :8443 URL, :443 signature", ourToken,
			"https://sms.example.test:8443/sms", base, s2Sig443, false},
		{"S2 port-less URL, :8443 signature", ourToken, ourURL, base, s2Sig8443, false},
		{"wrong signature", s1Token, s1URL, s1Params(), "RSOYDt4T1cUTdK1PDd93/VVr8B9=",
			false},
		{"empty signature", s1Token, s1URL, s1Params(), "", false},
		{"wrong token", "12346", s1URL, s1Params(), s1Sig, false},
		{"empty token", "", s1URL, s1Params(), Sign("", s1URL, s1Params()), false},
		{"signature for another URL", s1Token,
			"https://mycompany.com/other.php?foo=1&bar=2",
			s1Params(), s1Sig, false},
		{"http instead of https", s1Token, "http://mycompany.com/myapp.php?foo=1&bar=2",
			s1Params(), s1Sig, false},
		{"host case changed", s1Token, "https://MyCompany.com/myapp.php?foo=1&bar=2",
			s1Params(), s1Sig, false},
		{"query params mixed into POST params", s1Token, s1URL, mixed, s1Sig, false},
		{"signed with query params mixed in", s1Token, s1URL, s1Params(),
			Sign(s1Token, s1URL, mixed), false},
		{"query reordered", s1Token, "https://mycompany.com/myapp.php?bar=2&foo=1",
			s1Params(), s1Sig, false},
		{"query re-encoded", s1Token, "https://mycompany.com/myapp.php?foo=%31&bar=2",
			s1Params(), s1Sig, false},
		{"param value changed", s1Token, s1URL, url.Values{"Digits": {"1235"}}, s1Sig,
			false},
		{"repeated value dropped", s1Token, s1URL, url.Values{
			"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678"},
		}, s1SigReps, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.token, tt.url, tt.params, tt.sig); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.url, got, tt.want)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want []string
	}{
		{"https without port", "https://h/x?y=1",
			[]string{"https://h/x?y=1", "https://h:443/x?y=1"}},
		{"https with 443", "https://h:443/x", []string{"https://h:443/x", "https://h/x"}},
		{"http without port", "http://h/x", []string{"http://h/x", "http://h:80/x"}},
		{"http with 80", "http://h:80/x", []string{"http://h:80/x", "http://h/x"}},
		{"non-default port", "https://h:8443/x",
			[]string{"https://h:8443/x", "https://h/x"}},
		{"http on 443 is non-default", "http://h:443/x",
			[]string{"http://h:443/x", "http://h/x"}},
		{"no path", "https://h", []string{"https://h", "https://h:443"}},
		{"no path, query", "https://h?q=1",
			[]string{"https://h?q=1", "https://h:443?q=1"}},
		{"IPv6 with port", "https://[::1]:8443/x",
			[]string{"https://[::1]:8443/x", "https://[::1]/x"}},
		{"IPv6 without port", "https://[::1]/x",
			[]string{"https://[::1]/x", "https://[::1]:443/x"}},
		{"user info kept", "https://u:p@h/x",
			[]string{"https://u:p@h/x", "https://u:p@h:443/x"}},
		{"fragment stripped", "https://h/x#rc=2&rp=5xx",
			[]string{"https://h/x", "https://h:443/x"}},
		{"empty port", "https://h:/x",
			[]string{"https://h:/x", "https://h/x", "https://h:443/x"}},
		{"upper-case scheme", "HTTPS://h/x", []string{"HTTPS://h/x", "HTTPS://h:443/x"}},
		{"colons after the authority", "https://h/p:443?a=b:80",
			[]string{"https://h/p:443?a=b:80", "https://h:443/p:443?a=b:80"}},
		{"query kept byte for byte", "https://h/x?b=%2f&a=%2F+",
			[]string{"https://h/x?b=%2f&a=%2F+", "https://h:443/x?b=%2f&a=%2F+"}},
		{"other scheme without port", "ftp://h/x", []string{"ftp://h/x"}},
		{"other scheme with port", "ftp://h:21/x", []string{"ftp://h:21/x", "ftp://h/x"}},
		{"not a port", "https://h:abc/x", []string{"https://h:abc/x"}},
		{"no host", "https:///x", []string{"https:///x"}},
		{"IPv6 without brackets", "a://::0/x", []string{"a://::0/x"}},
		{"IPv6 bracket not closed", "https://[::1/x", []string{"https://[::1/x"}},
		{"path only", "/sms?u=http://x", []string{"/sms?u=http://x"}},
		{"bad scheme", "1http://h/x", []string{"1http://h/x"}},
		{"empty", "", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Candidates(tt.url); !slices.Equal(got, tt.want) {
				t.Errorf("Candidates(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}
