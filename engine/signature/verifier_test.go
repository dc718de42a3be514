package signature

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const formType = "application/x-www-form-urlencoded"

// req describes an incoming request as the server receives it.
type req struct {
	target string            // raw request target, path and query
	host   string            // Host header
	tls    bool              // whether it came over TLS
	peer   string            // RemoteAddr; default "192.0.2.10:40000"
	ctype  string            // Content-Type; default formType
	body   string            // raw body
	header map[string]string // further headers, signatures included
}

// build returns the request, its parsed POST form and its raw body.
func (q req) build(t testing.TB) (*http.Request, url.Values, []byte) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, q.target, strings.NewReader(q.body))
	r.RequestURI = q.target
	r.Host = q.host
	r.TLS = nil
	if q.tls {
		r.TLS = &tls.ConnectionState{}
	}
	r.RemoteAddr = "192.0.2.10:40000"
	if q.peer != "" {
		r.RemoteAddr = q.peer
	}
	r.Header.Set("Content-Type", formType)
	if q.ctype != "" {
		r.Header.Set("Content-Type", q.ctype)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	return r, r.PostForm, []byte(q.body)
}

// twilio returns the header map carrying sig as X-Twilio-Signature.
func twilio(sig string) map[string]string {
	return map[string]string{"X-Twilio-Signature": sig}
}

// newVerifier returns a Verifier for opt or fails the test.
func newVerifier(t testing.TB, opt Options) *Verifier {
	t.Helper()
	v, err := NewVerifier(opt)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkErr reports whether err is want, or nil when want is nil.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil && err != nil || !errors.Is(err, want) {
		t.Errorf("Check() = %v, want %v", err, want)
	}
}

func TestCheck(t *testing.T) {
	s1 := func(target, sig string) req {
		return req{target: target, host: "mycompany.com", tls: true,
			body: s1Params().Encode(), header: twilio(sig)}
	}
	mixed := s1Params()
	mixed.Set("foo", "1")
	mixed.Set("bar", "2")
	const target = "/myapp.php?foo=1&bar=2"
	tests := []struct {
		name  string
		token string
		req   req
		want  error
	}{
		{"S1 published example", s1Token, s1(target, s1Sig), nil},
		{"S1 SignalWire header", s1Token, req{target: target, host: "mycompany.com",
			tls: true, body: s1Params().Encode(),
			header: map[string]string{"X-SignalWire-Signature": s1Sig}}, nil},
		{"S1 both headers, only SignalWire right", s1Token, req{target: target,
			host: "mycompany.com", tls: true, body: s1Params().Encode(),
			header: map[string]string{
				"X-Twilio-Signature":     s1Sig1234,
				"X-SignalWire-Signature": s1Sig,
			}}, nil},
		{"S1 :443 signature", s1Token, s1(target, s1Sig443), nil},
		{"S1 form with charset", s1Token, req{target: target, host: "mycompany.com",
			tls: true, body: s1Params().Encode(), header: twilio(s1Sig),
			ctype: formType + "; charset=utf-8"}, nil},
		{"query taken byte for byte", s1Token, s1("/myapp.php?foo=%31&bar=2",
			Sign(s1Token, "https://mycompany.com/myapp.php?foo=%31&bar=2",
				s1Params())), nil},
		{"missing header", s1Token, s1(target, ""), ErrMissing},
		{"blank header", s1Token, s1(target, "  "), ErrMissing},
		{"empty token", "", s1(target, s1Sig), ErrNoToken},
		{"wrong token", "54321", s1(target, s1Sig), ErrMismatch},
		{"wrong signature", s1Token, s1(target, "RSOYDt4T1cUTdK1PDd93/VVr8B8"),
			ErrMismatch},
		{"signature for another URL", s1Token, s1(target, Sign(s1Token,
			"https://mycompany.com/other.php?foo=1&bar=2", s1Params())), ErrMismatch},
		{"query params mixed into the signed params", s1Token,
			s1(target, Sign(s1Token, s1URL, mixed)), ErrMismatch},
		{"query reordered", s1Token, s1("/myapp.php?bar=2&foo=1", s1Sig), ErrMismatch},
		{"query re-encoded", s1Token, s1("/myapp.php?foo=%31&bar=2", s1Sig), ErrMismatch},
		{"plain http", s1Token, req{target: target, host: "mycompany.com",
			body: s1Params().Encode(), header: twilio(s1Sig)}, ErrMismatch},
		{"param tampered", s1Token, req{target: target, host: "mycompany.com",
			tls: true, body: strings.Replace(s1Params().Encode(), "1234", "1235", 1),
			header: twilio(s1Sig)}, ErrMismatch},
	}
	v := newVerifier(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, form, body := tt.req.build(t)
			checkErr(t, v.Check(r, tt.token, form, body), tt.want)
		})
	}
}

func TestCheckCases(t *testing.T) {
	tests := []struct {
		name   string
		public string // Options.PublicURL
		form   string // file in testdata
		sig    string
		want   error
	}{
		{"S2 port-less public URL, port-less signature", "https://sms.example.test",
			"base.form", s2Sig, nil},
		{"S2 port-less public URL, :443 signature", "https://sms.example.test",
			"base.form", s2Sig443, nil},
		{"S2 :443 public URL, port-less signature", "https://sms.example.test:443",
			"base.form", s2Sig, nil},
		{"S2 :443 public URL, :443 signature", "https://sms.example.test:443",
			"base.form", s2Sig443, nil},
		{"S2 :8443 public URL, :8443 signature", "https://sms.example.test:8443",
			"base.form", s2Sig8443, nil},
		{"S2 :8443 public URL, port-less signature", "https://sms.example.test:8443",
			"base.form", s2Sig, nil},
		{"S2 :8443 public URL, :443 signature", "https://sms.example.test:8443",
			"base.form", s2Sig443, ErrMismatch},
		{"S2 port-less public URL, :8443 signature", "https://sms.example.test",
			"base.form", s2Sig8443, ErrMismatch},
		{"S4 UTF-8 body", "https://sms.example.test", "s4-utf8.form", s4SigUTF8, nil},
		{"S4 plus sign body", "https://sms.example.test", "s4-plus.form", s4SigPlus, nil},
		{"S4 plus sign body, base signature", "https://sms.example.test", "s4-plus.form",
			s2Sig, ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, Options{PublicURL: tt.public})
			r, form, body := req{target: "/sms", host: "127.0.0.1:8080",
				body: readForm(t, tt.form), header: twilio(tt.sig)}.build(t)
			checkErr(t, v.Check(r, ourToken, form, body), tt.want)
		})
	}
}

func TestFormDecoded(t *testing.T) {
	tests := []struct {
		form string
		want string
	}{
		{"s4-plus.form", "1+1=2"},
		{"s4-utf8.form", "Olá 😀 ¿qué?"},
		{"base.form", "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.form, func(t *testing.T) {
			_, form, _ := req{target: "/sms", body: readForm(t, tt.form)}.build(t)
			if got := form.Get("Body"); got != tt.want {
				t.Errorf("Body = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	const body = `{"Body":"Olá","From":"+15550100001"}`
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	other := sha256.Sum256([]byte(body + " "))
	json := func(query, b, ctype string, params url.Values) req {
		return req{target: "/sms" + query, host: "sms.example.test", tls: true,
			ctype: ctype, body: b, header: twilio(Sign(ourToken, ourURL+query, params))}
	}
	const ctype = "application/json"
	tests := []struct {
		name string
		req  req
		want error
	}{
		{"hash right", json("?bodySHA256="+hash, body, ctype, nil), nil},
		{"hash in upper case", json("?bodySHA256="+strings.ToUpper(hash), body,
			ctype, nil), nil},
		{"hash among other query params", json("?a=1&bodySHA256="+hash+"&b=2", body,
			ctype, nil), nil},
		{"content type with charset", json("?bodySHA256="+hash, body,
			ctype+"; charset=utf-8", nil), nil},
		{"hash in URL of a form post", json("?bodySHA256="+hash, body, formType, nil),
			nil},
		{"hash of another body", json("?bodySHA256="+hex.EncodeToString(other[:]),
			body, ctype, nil), ErrMismatch},
		{"body tampered", json("?bodySHA256="+hash, body+" ", ctype, nil), ErrMismatch},
		{"hash not hex", json("?bodySHA256=xyz", body, ctype, nil), ErrMismatch},
		{"no hash", json("", body, ctype, nil), ErrMismatch},
		{"params signed too", json("?bodySHA256="+hash, body, ctype,
			url.Values{"Body": {"Olá"}}), ErrMismatch},
	}
	v := newVerifier(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, form, b := tt.req.build(t)
			checkErr(t, v.Check(r, ourToken, form, b), tt.want)
		})
	}
}

func TestCheckBehindProxy(t *testing.T) {
	const local = "127.0.0.1:8080" // where the proxy forwards to
	fwd := func(sig string) map[string]string {
		return map[string]string{
			"X-Twilio-Signature": sig,
			"X-Forwarded-Proto":  "https",
			"X-Forwarded-Host":   "sms.example.test",
		}
	}
	evil := Sign(ourToken, "https://evil.example/sms", parseForm(t, "base.form"))
	tests := []struct {
		name    string
		opt     Options
		req     req
		wantURL string
		want    error
	}{
		{"S3 public URL with rewritten path", Options{
			PublicURL: ourURL, StripPrefix: "/sms/inbound"},
			req{target: "/sms/inbound", host: local, header: twilio(s2Sig)},
			ourURL, nil},
		{"S3 public URL with rewritten path, :443 signature", Options{
			PublicURL: ourURL, StripPrefix: "/sms/inbound"},
			req{target: "/sms/inbound", host: local, header: twilio(s2Sig443)},
			ourURL, nil},
		{"S3 :443 public URL", Options{
			PublicURL: "https://sms.example.test:443/sms", StripPrefix: "/sms/inbound"},
			req{target: "/sms/inbound", host: local, header: twilio(s2Sig)},
			"https://sms.example.test:443/sms", nil},
		{"S3 public URL keeps the query", Options{
			PublicURL: ourURL, StripPrefix: "/sms/inbound"},
			req{target: "/sms/inbound?a=%2F", host: local, header: twilio(
				Sign(ourToken, ourURL+"?a=%2F", parseForm(t, "base.form")))},
			ourURL + "?a=%2F", nil},
		{"S3 public URL as prefix", Options{PublicURL: "https://sms.example.test"},
			req{target: "/sms", host: local, header: twilio(s2Sig)}, ourURL, nil},
		{"S3 public URL with trailing slash", Options{
			PublicURL: "https://sms.example.test/"},
			req{target: "/sms", host: local, header: twilio(s2Sig)}, ourURL, nil},
		{"S3 strip prefix not matching", Options{
			PublicURL: "https://sms.example.test", StripPrefix: "/other"},
			req{target: "/sms", host: local, header: twilio(s2Sig)}, ourURL, nil},
		{"S3 public URL ignores forwarded headers", Options{
			PublicURL: "https://sms.example.test", TrustedProxies: []string{"127.0.0.1"}},
			req{target: "/sms", host: local, peer: "127.0.0.1:5000",
				header: map[string]string{
					"X-Twilio-Signature": s2Sig, "X-Forwarded-Host": "evil.example"}},
			ourURL, nil},
		{"S3 no options: judged on Host", Options{},
			req{target: "/sms/inbound", host: local, peer: "127.0.0.1:5000",
				header: twilio(s2Sig)},
			"http://127.0.0.1:8080/sms/inbound", ErrMismatch},
		{"S3 no options: forwarded headers ignored", Options{},
			req{target: "/sms", host: local, peer: "127.0.0.1:5000", header: fwd(s2Sig)},
			"http://127.0.0.1:8080/sms", ErrMismatch},
		{"S3 trusted proxy", Options{TrustedProxies: []string{"127.0.0.1"}},
			req{target: "/sms", host: local, peer: "127.0.0.1:5000", header: fwd(s2Sig)},
			ourURL, nil},
		{"S3 trusted proxy by CIDR", Options{TrustedProxies: []string{"10.0.0.0/8"}},
			req{target: "/sms", host: local, peer: "10.1.2.3:5000", header: fwd(s2Sig)},
			ourURL, nil},
		{"S3 trusted IPv6 proxy", Options{TrustedProxies: []string{"::1"}},
			req{target: "/sms", host: local, peer: "[::1]:5000", header: fwd(s2Sig)},
			ourURL, nil},
		{"S3 trusted proxy, IPv4-mapped peer", Options{
			TrustedProxies: []string{"127.0.0.1"}},
			req{target: "/sms", host: local, peer: "[::ffff:127.0.0.1]:5000",
				header: fwd(s2Sig)},
			ourURL, nil},
		{"S3 trusted proxy, list of forwarded hosts", Options{
			TrustedProxies: []string{"127.0.0.1"}},
			req{target: "/sms", host: local, peer: "127.0.0.1:5000",
				header: map[string]string{
					"X-Twilio-Signature": s2Sig,
					"X-Forwarded-Proto":  "HTTPS, http",
					"X-Forwarded-Host":   "sms.example.test, proxy.internal",
				}},
			ourURL, nil},
		{"S3 trusted proxy, bad forwarded values", Options{
			TrustedProxies: []string{"127.0.0.1"}},
			req{target: "/sms", host: local, peer: "127.0.0.1:5000",
				header: map[string]string{
					"X-Twilio-Signature": s2Sig,
					"X-Forwarded-Proto":  "ftp",
					"X-Forwarded-Host":   "user@evil.example",
				}},
			"http://127.0.0.1:8080/sms", ErrMismatch},
		{"S3 untrusted peer: forwarded headers ignored", Options{
			TrustedProxies: []string{"10.0.0.0/8"}},
			req{target: "/sms", host: "sms.example.test", peer: "203.0.113.7:5000",
				header: fwd(s2Sig)},
			"http://sms.example.test/sms", ErrMismatch},
		{"S3 untrusted peer: spoofed forwarded host", Options{
			TrustedProxies: []string{"10.0.0.0/8"}},
			req{target: "/sms", host: "sms.example.test", tls: true,
				peer: "203.0.113.7:5000", header: map[string]string{
					"X-Twilio-Signature": evil, "X-Forwarded-Host": "evil.example"}},
			ourURL, ErrMismatch},
		{"direct TLS, no proxy", Options{},
			req{target: "/sms", host: "sms.example.test", tls: true,
				header: twilio(s2Sig)},
			ourURL, nil},
		{"direct TLS, Host with :443", Options{},
			req{target: "/sms", host: "sms.example.test:443", tls: true,
				header: twilio(s2Sig)},
			"https://sms.example.test:443/sms", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, tt.opt)
			tt.req.body = readForm(t, "base.form")
			r, form, body := tt.req.build(t)
			if got := v.URL(r); got != tt.wantURL {
				t.Errorf("URL() = %q, want %q", got, tt.wantURL)
			}
			checkErr(t, v.Check(r, ourToken, form, body), tt.want)
		})
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		r    func(t testing.TB) *http.Request
		want string
	}{
		{"raw target kept", Options{}, func(t testing.TB) *http.Request {
			r, _, _ := req{target: "/a%2fb/%7E?q=%7e+x&q=1&&b=%2F%2f", host: "h"}.build(t)
			return r
		}, "http://h/a%2fb/%7E?q=%7e+x&q=1&&b=%2F%2f"},
		{"absolute-form target", Options{}, func(t testing.TB) *http.Request {
			return httptest.NewRequest(http.MethodPost, "https://h/sms?x=1", nil)
		}, "https://h/sms?x=1"},
		{"absolute-form target without path", Options{}, func(t testing.TB) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "http://h/", nil)
			r.RequestURI = "http://h?x=1"
			return r
		}, "http://h/?x=1"},
		{"request built by hand", Options{}, func(t testing.TB) *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "http://h/sms?x=%2F", nil)
			return r
		}, "http://h/sms?x=%2F"},
		{"public URL with prefix", Options{PublicURL: "https://p.example/api"},
			func(t testing.TB) *http.Request {
				r, _, _ := req{target: "/sms?x=1", host: "h"}.build(t)
				return r
			}, "https://p.example/api/sms?x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newVerifier(t, tt.opt).URL(tt.r(t)); got != tt.want {
				t.Errorf("URL() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckErrorText(t *testing.T) {
	tests := []struct {
		name string
		sig  string
		want error
	}{
		{"mismatch", s2Sig8443, ErrMismatch},
		{"missing", "", ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, form, body := req{target: "/sms/inbound?n=1", host: "127.0.0.1:8080",
				body: readForm(t, "base.form"), header: twilio(tt.sig)}.build(t)
			err := newVerifier(t, Options{}).Check(r, ourToken, form, body)
			checkErr(t, err, tt.want)
			msg := err.Error()
			if !strings.Contains(msg, "http://127.0.0.1:8080/sms/inbound?n=1") {
				t.Errorf("error %q does not name the URL checked", msg)
			}
			leaks := strings.Contains(msg, ourToken) ||
				tt.sig != "" && strings.Contains(msg, tt.sig)
			if leaks {
				t.Errorf("error %q leaks the token or the signature", msg)
			}
		})
	}
}

func TestNewVerifier(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		want error
	}{
		{"zero", Options{}, nil},
		{"public URL", Options{PublicURL: "https://sms.example.test"}, nil},
		{"public URL with port and prefix", Options{
			PublicURL: "http://sms.example.test:8080/api/"}, nil},
		{"strip prefix", Options{PublicURL: ourURL, StripPrefix: "/sms/inbound"}, nil},
		{"proxies", Options{TrustedProxies: []string{
			"127.0.0.1", " 10.0.0.0/8 ", "::1", "fd00::/8", "10.1.2.3/8"}}, nil},
		{"public URL without scheme", Options{PublicURL: "sms.example.test"}, ErrOptions},
		{"public URL with other scheme", Options{PublicURL: "ftp://h"}, ErrOptions},
		{"public URL without host", Options{PublicURL: "https:///sms"}, ErrOptions},
		{"public URL with query", Options{PublicURL: "https://h/sms?x=1"}, ErrOptions},
		{"public URL with empty query", Options{PublicURL: "https://h/sms?"}, ErrOptions},
		{"public URL with fragment", Options{PublicURL: "https://h/#f"}, ErrOptions},
		{"public URL with user", Options{PublicURL: "https://u:p@h/"}, ErrOptions},
		{"public URL unparsable", Options{PublicURL: "https://h:x/"}, ErrOptions},
		{"strip prefix alone", Options{StripPrefix: "/sms"}, ErrOptions},
		{"strip prefix not a path", Options{PublicURL: ourURL, StripPrefix: "sms"},
			ErrOptions},
		{"strip prefix with query", Options{PublicURL: ourURL, StripPrefix: "/s?x"},
			ErrOptions},
		{"proxy not an IP", Options{TrustedProxies: []string{"proxy.local"}}, ErrOptions},
		{"proxy bad CIDR", Options{TrustedProxies: []string{"10.0.0.0/33"}}, ErrOptions},
		{"proxy with zone", Options{TrustedProxies: []string{"fe80::1%eth0"}}, ErrOptions},
		{"proxy empty", Options{TrustedProxies: []string{""}}, ErrOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.opt)
			if tt.want == nil && (err != nil || v == nil) || !errors.Is(err, tt.want) {
				t.Errorf("NewVerifier() = %v, %v, want %v", v, err, tt.want)
			}
		})
	}
}
