package signature

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func FuzzSign(f *testing.F) {
	f.Add(s1Token, s1URL, "Digits", "1234", "Digits", "5678")
	f.Add(ourToken, ourURL+"#rc=2&rp=5xx", "Body", "1+1=2", "From", "+15550100001")
	f.Add("", "", "", "", "", "")
	f.Add("k", "https://h:443/x?a=%2F", "Body", "Olá 😀", "Body", "\xff\x00")
	f.Fuzz(func(t *testing.T, token, rawURL, n1, v1, n2, v2 string) {
		params := url.Values{}
		params.Add(n1, v1)
		params.Add(n2, v2)
		reversed := url.Values{}
		reversed.Add(n2, v2)
		reversed.Add(n1, v1)
		reversed.Add(n1, v1) // a duplicate value is dropped

		sig := Sign(token, rawURL, params)
		if again := Sign(token, rawURL, params); again != sig {
			t.Fatalf("Sign is not deterministic: %s, then %s", sig, again)
		}
		if other := Sign(token, rawURL, reversed); other != sig {
			t.Errorf("order or duplicates changed the signature: %s != %s", other, sig)
		}
		raw, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(raw) != 20 {
			t.Errorf("signature %q is not 20 bytes of base64: %v", sig, err)
		}
		if !strings.Contains(rawURL, "#") && Sign(token, rawURL+"#f", params) != sig {
			t.Errorf("the fragment changed the signature")
		}
		if got := Match(token, rawURL, params, sig); got != (token != "") {
			t.Errorf("Match of its own signature = %v with token %q", got, token)
		}
	})
}

func FuzzCandidates(f *testing.F) {
	for _, s := range []string{
		s1URL, "https://h:443/x", "http://h:80", "https://[::1]:8443/x?y#z",
		"https://u:p@h/x", "https://h:/x", "ftp://h/x", "/sms?u=http://x", "",
		"HTTPS://H/p:443?a=b:80", "https://a@b@h:1/x", "http://h?x=%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rawURL string) {
		got := Candidates(rawURL)
		if len(got) < 1 || len(got) > 3 {
			t.Fatalf("Candidates(%q) = %q: want 1 to 3 forms", rawURL, got)
		}
		if exact, _, _ := strings.Cut(rawURL, "#"); got[0] != exact {
			t.Errorf("first form %q, want %q", got[0], exact)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
			t.Errorf("Candidates(%q) = %q has duplicates", rawURL, got)
		}
		checkSameButPort(t, got)
	})
}

// checkSameButPort checks, with net/url as the judge, that the forms
// differ from the first only in the port, and only as allowed.
func checkSameButPort(t *testing.T, forms []string) {
	u0, err := url.Parse(forms[0])
	if err != nil || u0.Host == "" {
		return
	}
	ports := []string{u0.Port(), "", defaultPort(u0.Scheme)}
	for _, c := range forms[1:] {
		u, err := url.Parse(c)
		if err != nil {
			t.Errorf("form %q of %q does not parse: %v", c, forms[0], err)
			continue
		}
		same := u.Scheme == u0.Scheme && u.User.String() == u0.User.String() &&
			u.Hostname() == u0.Hostname() && u.EscapedPath() == u0.EscapedPath() &&
			u.RawQuery == u0.RawQuery && u.ForceQuery == u0.ForceQuery
		if !same || !slices.Contains(ports, u.Port()) {
			t.Errorf("form %q of %q changes more than the port", c, forms[0])
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("/sms?foo=1&bar=2", "sms.example.test", true, ourToken, "Body", "1+1=2",
		false, []byte(nil), uint8(0))
	f.Add("/sms", "127.0.0.1:8080", false, "k", "", "", true, []byte(`{"a":1}`),
		uint8(159))
	f.Add("https://h?x", "", false, "k", "Digits", "1234", false, []byte("x"), uint8(7))
	f.Add("/a#b", "h:8443", true, "", "n", "v", true, []byte(""), uint8(80))
	f.Fuzz(func(t *testing.T, target, host string, overTLS bool, token, name,
		value string, json bool, body []byte, bit uint8) {
		r := &http.Request{
			Method: http.MethodPost, RequestURI: target, Host: host,
			Header: http.Header{}, RemoteAddr: "192.0.2.1:1234", URL: &url.URL{},
		}
		if overTLS {
			r.TLS = &tls.ConnectionState{}
		}
		form := url.Values{name: {value}}
		if json {
			// A Host that ends the URL early hides the hash; servers
			// refuse such a Host.
			if strings.ContainsAny(host, "#?") || !addBodyHash(r, body) {
				return
			}
			form = nil
		}
		v := newVerifier(t, Options{})
		u := v.URL(r)

		sig := Sign(token, u, form)
		r.Header.Set("X-Twilio-Signature", sig)
		err := v.Check(r, token, form, body)
		if token == "" {
			checkErr(t, err, ErrNoToken)
			return
		}
		if err != nil {
			t.Fatalf("Check of a correct signature over %q: %v", u, err)
		}

		others := Candidates(u)
		r.Header.Set("X-Twilio-Signature", Sign(token, others[len(others)-1], form))
		if err := v.Check(r, token, form, body); err != nil {
			t.Errorf("Check of the signature over %q: %v", others[len(others)-1], err)
		}

		r.Header.Set("X-Twilio-Signature", flipBit(sig, int(bit)))
		if err := v.Check(r, token, form, body); !errors.Is(err, ErrMismatch) {
			t.Errorf("Check of a flipped signature over %q = %v, want mismatch", u, err)
		}
	})
}

// addBodyHash makes r a JSON request whose target carries the hash of body.
// It reports false when the target cannot carry it.
func addBodyHash(r *http.Request, body []byte) bool {
	if !strings.HasPrefix(r.RequestURI, "/") || strings.Contains(r.RequestURI, "#") {
		return false
	}
	_, query, _ := strings.Cut(r.RequestURI, "?")
	if q, _ := url.ParseQuery(query); q.Has("bodySHA256") {
		return false
	}
	sep := "?"
	if strings.Contains(r.RequestURI, "?") {
		sep = "&"
	}
	sum := sha256.Sum256(body)
	r.RequestURI += sep + "bodySHA256=" + hex.EncodeToString(sum[:])
	r.Header.Set("Content-Type", "application/json")
	return true
}

// flipBit returns sig with one bit of its decoded bytes flipped.
func flipBit(sig string, bit int) string {
	raw, _ := base64.StdEncoding.DecodeString(sig)
	bit %= 8 * len(raw)
	raw[bit/8] ^= 1 << (bit % 8)
	return base64.StdEncoding.EncodeToString(raw)
}

func FuzzURL(f *testing.F) {
	f.Add("/sms", "127.0.0.1:8080", "sms.example.test", "https", true, false)
	f.Add("/sms?x=%2F", "h", "evil.example", "http", false, true)
	f.Add("https://h/x", "", "a,b", "HTTPS ,", true, true)
	f.Add("*", "h", "", "", false, false)
	f.Fuzz(func(t *testing.T, target, host, fwdHost, fwdProto string, trusted,
		overTLS bool) {
		peer := "198.51.100.1:1234"
		if trusted {
			peer = "192.0.2.1:1234"
		}
		plain := &http.Request{Method: http.MethodPost, RequestURI: target, Host: host,
			Header: http.Header{}, RemoteAddr: peer, URL: &url.URL{}}
		if overTLS {
			plain.TLS = &tls.ConnectionState{}
		}
		fwd := plain.Clone(plain.Context())
		fwd.Header.Set("X-Forwarded-Host", fwdHost)
		fwd.Header.Set("X-Forwarded-Proto", fwdProto)

		v := newVerifier(t, Options{TrustedProxies: []string{"192.0.2.0/24"}})
		got := v.URL(fwd)
		if !strings.HasPrefix(got, "http://") && !strings.HasPrefix(got, "https://") {
			t.Errorf("URL() = %q: want http or https", got)
		}
		if strings.HasPrefix(target, "/") && !strings.HasSuffix(got, target) {
			t.Errorf("URL() = %q does not end with the raw target %q", got, target)
		}
		if !trusted && got != v.URL(plain) {
			t.Errorf("untrusted peer's forwarded headers changed URL() to %q", got)
		}

		pub := newVerifier(t, Options{PublicURL: ourURL, StripPrefix: "/sms/inbound"})
		if got := pub.URL(fwd); !strings.HasPrefix(got, ourURL) {
			t.Errorf("URL() = %q: want it under the public URL", got)
		}
	})
}
