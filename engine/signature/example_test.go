package signature_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/lamlhost/lamlhost/engine/signature"
)

func ExampleSign() {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
	fmt.Println(signature.Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
		params))
	// Output: RSOYDt4T1cUTdK1PDd93/VVr8B8=
}

func ExampleCandidates() {
	for _, u := range signature.Candidates("https://sms.example.test/sms?x=1#rc=2") {
		fmt.Println(u)
	}
	// Output:
	// https://sms.example.test/sms?x=1
	// https://sms.example.test:443/sms?x=1
}

func ExampleVerifier_Check() {
	// Behind a proxy that forwards https://sms.example.test/sms to
	// http://127.0.0.1:8080/sms/inbound.
	v, err := signature.NewVerifier(signature.Options{
		PublicURL:   "https://sms.example.test/sms",
		StripPrefix: "/sms/inbound",
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	const token = "fake0token0for0tests0000000000aa"
	form := "Body=hello&From=%2B15550100001&To=%2B15550100099"
	r := httptest.NewRequest(http.MethodPost, "/sms/inbound", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil {
		fmt.Println(err)
		return
	}
	sig := signature.Sign(token, "https://sms.example.test/sms", r.PostForm)
	r.Header.Set("X-Twilio-Signature", sig)

	fmt.Println(v.URL(r), v.Check(r, token, r.PostForm, nil))
	// Output: https://sms.example.test/sms <nil>
}
