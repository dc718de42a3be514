// Package signature checks the request signatures a CPaaS puts on its
// webhooks: the X-Twilio-Signature header, or X-SignalWire-Signature, which
// carries the same value.
//
// A signature is the base64 (standard encoding) HMAC-SHA1, keyed with the
// auth token, of the full URL the CPaaS requested followed by every POST
// parameter name in byte order, each directly followed by its value. A name
// sent several times contributes each distinct value, in byte order. The URL
// is taken exactly as requested: its query is never decoded, re-encoded or
// reordered, and query parameters are not signed as POST parameters. A
// #fragment is never signed. Since the CPaaS has signed URLs with and
// without the scheme's default port, both forms are accepted, and a URL
// with any port is also accepted without it.
//
// A JSON body is not signed parameter by parameter: the URL's query carries
// bodySHA256, the hex SHA-256 of the raw body, and only the URL is signed.
package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"hash"
	"net/url"
	"slices"
	"strings"
)

// Sentinels for errors.Is.
var (
	// ErrMissing: the request carries no signature header.
	ErrMissing = errors.New("missing signature header")
	// ErrMismatch: the signature matches none of the URL's forms, or the
	// body does not match its bodySHA256.
	ErrMismatch = errors.New("signature mismatch")
	// ErrNoToken: the auth token is empty, so nothing can be verified.
	ErrNoToken = errors.New("empty auth token")
	// ErrOptions: the Options given to NewVerifier are invalid.
	ErrOptions = errors.New("invalid options")
)

// Sign returns the signature of a request to rawURL carrying the POST
// parameters params, as the CPaaS computes it with token. rawURL is used
// byte for byte, except that a #fragment is dropped. params holds decoded
// values (the form's "%2B" is "+"); it is nil for a GET or a JSON body.
func Sign(token, rawURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(token))
	sum(mac, stripFragment(rawURL), pairs(params))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Match reports whether signature is the signature of rawURL and params
// under token, for rawURL or one of its other port forms (see Candidates).
// It compares in constant time and is false for an empty token.
func Match(token, rawURL string, params url.Values, signature string) bool {
	return match(token, Candidates(rawURL), pairs(params), []string{signature})
}

// Candidates returns the forms of rawURL whose signatures are accepted,
// rawURL itself (without its #fragment) first: with the scheme's default
// port when rawURL has no port (":443" for https, ":80" for http), and
// without the port when it has one. Nothing but the port is changed. A URL
// that is not scheme://authority[/path][?query] has only itself.
func Candidates(rawURL string) []string {
	exact := stripFragment(rawURL)
	scheme, authority, tail, ok := splitURL(exact)
	if !ok {
		return []string{exact}
	}

	user, hostport := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		user, hostport = authority[:i+1], authority[i+1:]
	}
	host, port, ok := splitPort(hostport)
	if !ok || !validHostname(host) {
		return []string{exact}
	}

	front := scheme + "://" + user + host
	out := []string{exact, front + tail}
	if port == "" {
		if def := defaultPort(scheme); def != "" {
			out = append(out, front+":"+def+tail)
		}
	}
	return dedupe(out)
}

// stripFragment returns rawURL without its #fragment, which the CPaaS uses
// for its own settings and never signs.
func stripFragment(rawURL string) string {
	u, _, _ := strings.Cut(rawURL, "#")
	return u
}

// match reports whether any of sigs is the signature of any of urls with
// the parameter sequence parts. Every expected signature is computed once.
func match(token string, urls, parts, sigs []string) bool {
	if token == "" {
		return false
	}
	mac := hmac.New(sha1.New, []byte(token))
	ok := false
	for _, u := range urls {
		mac.Reset()
		sum(mac, u, parts)
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		for _, s := range sigs {
			if hmac.Equal([]byte(s), []byte(want)) {
				ok = true
			}
		}
	}
	return ok
}

// sum writes the signed string of rawURL and parts into mac.
func sum(mac hash.Hash, rawURL string, parts []string) {
	mac.Write([]byte(rawURL))
	for _, p := range parts {
		mac.Write([]byte(p))
	}
}

// pairs flattens params into name, value, name, value...: names in byte
// order, and under each name its distinct values in byte order.
func pairs(params url.Values) []string {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)

	var out []string
	for _, name := range names {
		values := slices.Clone(params[name])
		slices.Sort(values)
		for _, v := range slices.Compact(values) {
			out = append(out, name, v)
		}
	}
	return out
}

// splitURL splits scheme://authority/rest into the scheme, the authority
// and the rest, which starts with "/" or "?" or is empty.
func splitURL(s string) (scheme, authority, tail string, ok bool) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !validScheme(scheme) {
		return "", "", "", false
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	return scheme, rest[:end], rest[end:], true
}

// validScheme reports whether s is a URL scheme: a letter, then letters,
// digits, "+", "-" or ".".
func validScheme(s string) bool {
	for i, c := range []byte(s) {
		letter := 'a' <= c|0x20 && c|0x20 <= 'z'
		other := '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
		if !letter && (i == 0 || !other) {
			return false
		}
	}
	return s != ""
}

// splitPort splits host[:port], where host may be a bracketed IPv6
// address. A trailing ":" gives an empty port. It fails when the port is
// not all digits.
func splitPort(hostport string) (host, port string, ok bool) {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || i < strings.LastIndexByte(hostport, ']') {
		return hostport, "", true
	}
	host, port = hostport[:i], hostport[i+1:]
	for _, c := range []byte(port) {
		if c < '0' || c > '9' {
			return "", "", false
		}
	}
	return host, port, true
}

// validHostname reports whether host is non-empty and has a colon only
// inside an IPv6 address in brackets.
func validHostname(host string) bool {
	if strings.HasPrefix(host, "[") {
		return strings.HasSuffix(host, "]")
	}
	return host != "" && !strings.Contains(host, ":")
}

// defaultPort returns the default port of scheme, or "" if it has none
// here.
func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// dedupe drops repeated strings, keeping the first of each.
func dedupe(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
