package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Options says how a Verifier finds the URL the CPaaS signed.
type Options struct {
	// PublicURL is scheme://host[:port][/prefix] as the CPaaS calls the
	// server when it sits behind a proxy. The request's raw target (path
	// and query, as received) is appended to it. Default "": the URL is
	// built from the request itself.
	PublicURL string
	// StripPrefix is cut from the front of the raw target before it is
	// appended to PublicURL, for a proxy that rewrites the path: public
	// /sms forwarded to /sms/inbound is PublicURL "https://host/sms" with
	// StripPrefix "/sms/inbound". It needs PublicURL. Default "".
	StripPrefix string
	// TrustedProxies lists the peers, as IP addresses or CIDRs, whose
	// X-Forwarded-Proto and X-Forwarded-Host headers are believed when
	// PublicURL is empty. Default none: those headers are ignored.
	TrustedProxies []string
}

// Verifier checks the signatures of incoming webhook requests. It is safe
// for concurrent use.
type Verifier struct {
	public  string
	strip   string
	trusted []netip.Prefix
}

// Header names that carry the signature; either is accepted.
const (
	twilioHeader     = "X-Twilio-Signature"
	signalWireHeader = "X-SignalWire-Signature"
)

// NewVerifier checks opt and returns a Verifier that applies it. Errors
// wrap ErrOptions.
func NewVerifier(opt Options) (*Verifier, error) {
	if err := checkPublicURL(opt.PublicURL); err != nil {
		return nil, err
	}
	if err := checkStripPrefix(opt.StripPrefix, opt.PublicURL); err != nil {
		return nil, err
	}
	trusted, err := parseProxies(opt.TrustedProxies)
	if err != nil {
		return nil, err
	}
	v := &Verifier{public: opt.PublicURL, strip: opt.StripPrefix, trusted: trusted}
	return v, nil
}

// URL returns the URL the CPaaS signed for r, before port variants. With a
// PublicURL it is PublicURL followed by r's raw target less StripPrefix.
// Otherwise the scheme is https when r came over TLS, else http, and the
// host is r.Host; X-Forwarded-Proto and X-Forwarded-Host replace them only
// when r's peer is a trusted proxy. The path and query are r.RequestURI,
// never re-encoded.
func (v *Verifier) URL(r *http.Request) string {
	target := requestTarget(r)
	if v.public != "" {
		if rest, ok := strings.CutPrefix(target, v.strip); ok {
			target = rest
		}
		return join(v.public, target)
	}

	scheme, host := v.origin(r)
	return scheme + "://" + host + target
}

// Check verifies the signature of r under token. form holds the decoded
// POST body parameters only (r.PostForm, never r.Form, which mixes in the
// query); body is the raw body, used only when the URL carries bodySHA256
// or the body is JSON. A JSON body needs bodySHA256 in the URL, matching
// body; then only the URL is signed. Errors wrap ErrNoToken, ErrMissing or
// ErrMismatch and name the URL checked, never the token or the signature.
func (v *Verifier) Check(r *http.Request, token string, form url.Values,
	body []byte) error {
	u := v.URL(r)
	if token == "" {
		return fmt.Errorf("verify %q: %w", u, ErrNoToken)
	}
	sigs := signatures(r.Header)
	if len(sigs) == 0 {
		return fmt.Errorf("verify %q: %w", u, ErrMissing)
	}

	params, err := signedParams(r.Header.Get("Content-Type"), u, form, body)
	if err != nil {
		return fmt.Errorf("verify %q: %w", u, err)
	}
	if !match(token, Candidates(u), pairs(params), sigs) {
		return fmt.Errorf("verify %q: %w", u, ErrMismatch)
	}
	return nil
}

// origin returns the scheme and host the CPaaS used to reach r.
func (v *Verifier) origin(r *http.Request) (scheme, host string) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	if !v.trustedPeer(r.RemoteAddr) {
		return scheme, host
	}

	proto := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto")))
	if proto == "http" || proto == "https" {
		scheme = proto
	}
	if fh := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(fh) {
		host = fh
	}
	return scheme, host
}

// trustedPeer reports whether remoteAddr ("ip:port" or "ip") is one of the
// trusted proxies.
func (v *Verifier) trustedPeer(remoteAddr string) bool {
	if len(v.trusted) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.WithZone("").Unmap()
	for _, p := range v.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// signedParams returns the parameters signed along with rawURL: form, or
// none when the URL carries bodySHA256, which must then match body.
func signedParams(contentType, rawURL string, form url.Values,
	body []byte) (url.Values, error) {
	_, query, _ := strings.Cut(stripFragment(rawURL), "?")
	q, _ := url.ParseQuery(query) // keeps the pairs that do parse
	want, ok := q["bodySHA256"]
	if !ok {
		if isJSON(contentType) {
			return nil, fmt.Errorf("json body without bodySHA256: %w", ErrMismatch)
		}
		return form, nil
	}

	got := sha256.Sum256(body)
	h, err := hex.DecodeString(want[0])
	if err != nil || !hmac.Equal(h, got[:]) {
		return nil, fmt.Errorf("body does not match bodySHA256: %w", ErrMismatch)
	}
	return nil, nil
}

// signatures returns the non-empty signature headers of h.
func signatures(h http.Header) []string {
	var out []string
	for _, name := range []string{twilioHeader, signalWireHeader} {
		if s := strings.TrimSpace(h.Get(name)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// requestTarget returns r's path and query exactly as received. An
// absolute-form target loses its scheme and authority; a request built by
// hand, without RequestURI, falls back to its URL.
func requestTarget(r *http.Request) string {
	t := r.RequestURI
	if t == "" && r.URL != nil {
		return r.URL.RequestURI()
	}
	if strings.HasPrefix(t, "/") {
		return t
	}
	if _, _, tail, ok := splitURL(t); ok {
		if !strings.HasPrefix(tail, "/") {
			tail = "/" + tail
		}
		return tail
	}
	return t
}

// join appends target to base without doubling the slash between them.
func join(base, target string) string {
	if strings.HasSuffix(base, "/") && strings.HasPrefix(target, "/") {
		return base + target[1:]
	}
	return base + target
}

// firstValue returns the first item of a comma-separated header value,
// which is what the proxy nearest the client set.
func firstValue(s string) string {
	first, _, _ := strings.Cut(s, ",")
	return strings.TrimSpace(first)
}

// validHost reports whether s can stand as the host[:port] of a URL.
func validHost(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c == 0x7f || strings.IndexByte(`/?#@\`, c) >= 0 {
			return false
		}
	}
	return true
}

// isJSON reports whether contentType is application/json.
func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// checkPublicURL checks that s is empty or scheme://host[:port][/prefix].
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Opaque != "" {
		return fmt.Errorf("public url %q: want scheme://host[:port][/prefix]: %w",
			s, ErrOptions)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#") {
		return fmt.Errorf("public url %q: user info, query or fragment: %w",
			s, ErrOptions)
	}
	return nil
}

// checkStripPrefix checks that prefix is empty or a path, given with a
// PublicURL.
func checkStripPrefix(prefix, public string) error {
	if prefix == "" {
		return nil
	}
	if public == "" {
		return fmt.Errorf("strip prefix %q without public url: %w", prefix, ErrOptions)
	}
	if !strings.HasPrefix(prefix, "/") || strings.ContainsAny(prefix, "?#") {
		return fmt.Errorf("strip prefix %q: want a path: %w", prefix, ErrOptions)
	}
	return nil
}

// parseProxies parses IP addresses and CIDRs.
func parseProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := parseProxy(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an IP address or CIDR: %w",
				s, ErrOptions)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseProxy parses one IP address or CIDR into a prefix.
func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if ip.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("zone in %q", s)
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}
