package passkeys

import (
	"errors"
	"testing"

	"github.com/descope/virtualwebauthn"
)

// fuzzSeeds are a real response of each kind (from a software
// authenticator) and a few malformed ones; testdata/fuzz holds more.
func fuzzSeeds(f *testing.F, assertion bool) {
	party := virtualwebauthn.RelyingParty{ID: "id.example.com", Name: "Gatehouse", Origin: "https://id.example.com"}
	auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte("user")})
	cred := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
	challenge := []byte("0123456789abcdef0123456789abcdef")
	if assertion {
		f.Add([]byte(virtualwebauthn.CreateAssertionResponse(party, auth, cred, virtualwebauthn.AssertionOptions{Challenge: challenge})))
	} else {
		f.Add([]byte(virtualwebauthn.CreateAttestationResponse(party, auth, cred, virtualwebauthn.AttestationOptions{Challenge: challenge})))
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `{"id":"","rawId":"","type":"public-key"}`,
		`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA","authenticatorData":"AA","signature":"AA"}}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzParseCreation: any body decodes to a parsed response or to
// ErrVerification; it never panics.
func FuzzParseCreation(f *testing.F) {
	fuzzSeeds(f, false)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseCreation(body)
		if err != nil && !errors.Is(err, ErrVerification) {
			t.Fatalf("error %v is not ErrVerification", err)
		}
		if err == nil && p == nil {
			t.Fatal("nil result without error")
		}
	})
}

// FuzzParseAssertion: the same for assertion responses.
func FuzzParseAssertion(f *testing.F) {
	fuzzSeeds(f, true)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseAssertion(body)
		if err != nil && !errors.Is(err, ErrVerification) {
			t.Fatalf("error %v is not ErrVerification", err)
		}
		if err == nil && p == nil {
			t.Fatal("nil result without error")
		}
	})
}
