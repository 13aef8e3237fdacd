package provider

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TestIntrospectionJSON: introspectionJSON encodes exactly what the
// library's IntrospectionResponse (with the private claims merged in)
// would, for a token with every member and for a bare one.
func TestIntrospectionJSON(t *testing.T) {
	full := &oidc.AccessTokenClaims{
		TokenClaims: oidc.TokenClaims{Issuer: "https://id.example", Subject: "u1", Audience: oidc.Audience{"c1", "https://api.example"},
			Expiration: 1796138006, IssuedAt: 1796137406, NotBefore: 1796137406, AuthTime: 1796137000, ClientID: "c1",
			JWTID: "j1", AuthenticationMethodsReferences: []string{"pwd", "hwk"}},
		Scopes: oidc.SpaceDelimitedArray{"openid", "users:read"},
		Claims: map[string]any{claimRoles: []any{"admin", "auditor"}, claimPermissions: []any{"users:read"}, claimGrantID: "g1"},
	}
	bare := &oidc.AccessTokenClaims{TokenClaims: oidc.TokenClaims{Issuer: "https://id.example", Subject: "c2",
		Expiration: 1796138006, IssuedAt: 1796137406, ClientID: "c2", JWTID: "j2"}}
	for name, claims := range map[string]*oidc.AccessTokenClaims{"full": full, "bare": bare} {
		lib := &oidc.IntrospectionResponse{
			Active: true, Scope: claims.Scopes, ClientID: claims.ClientID, TokenType: oidc.BearerToken,
			Expiration: claims.Expiration, IssuedAt: claims.IssuedAt, AuthTime: claims.AuthTime,
			NotBefore: claims.NotBefore, Subject: claims.Subject, Audience: claims.Audience,
			AuthenticationMethodsReferences: claims.AuthenticationMethodsReferences, Issuer: claims.Issuer, JWTID: claims.JWTID,
		}
		for _, k := range []string{claimRoles, claimPermissions} {
			if v, ok := claims.Claims[k]; ok {
				if lib.Claims == nil {
					lib.Claims = map[string]any{}
				}
				lib.Claims[k] = v
			}
		}
		want, got := decode(t, lib), decode(t, accessIntrospection(claims))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, library %v", name, got, want)
		}
	}
}

func decode(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
