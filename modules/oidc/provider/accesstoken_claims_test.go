package provider

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// accessTokenClaims encodes exactly what zitadel/oidc's AccessTokenClaims
// with the private claims merged in encoded (the encoding it replaced):
// the same claims with the same values, and nil roles/permissions absent
// while empty ones are empty arrays.
func TestAccessTokenClaimsEncoding(t *testing.T) {
	exp, auth, now := time.Unix(1_900_000_600, 0), time.Unix(1_900_000_000, 0), time.Unix(1_900_000_100, 0)
	for name, tc := range map[string]struct {
		ours  accessTokenClaims
		extra map[string]any
	}{
		"client credentials": {ours: accessTokenClaims{Subject: "c1", ClientID: "c1", Audience: []string{"c1"}}},
		"code flow": {
			ours: accessTokenClaims{Subject: "u1", ClientID: "c1", Audience: []string{"https://api.test"}, AuthTime: auth.Unix(),
				ACR: "phr", AMR: []string{"hwk", "user"}, Scopes: []string{"openid", "roles"}, GrantID: "g1", SessionID: "s1",
				Roles: []string{"admin"}, Permissions: []string{}},
			extra: map[string]any{claimGrantID: "g1", claimSessionID: "s1", claimRoles: []string{"admin"}, claimPermissions: []string{}},
		},
		"no roles": {ours: accessTokenClaims{Subject: "u1", ClientID: "c1", Audience: []string{"c1"}, Roles: []string{}},
			extra: map[string]any{claimRoles: []string{}}},
	} {
		t.Run(name, func(t *testing.T) {
			o := tc.ours
			o.Issuer, o.JWTID, o.Expiration, o.IssuedAt, o.NotBefore = "https://id.test", "j1", exp.Unix(), now.Unix(), now.Unix()
			lib := oidc.NewAccessTokenClaims(o.Issuer, o.Subject, o.Audience, exp, o.JWTID, o.ClientID, 0)
			lib.IssuedAt, lib.NotBefore = oidc.FromTime(now), oidc.FromTime(now)
			lib.AuthTime = oidc.Time(o.AuthTime)
			lib.AuthenticationContextClassReference, lib.AuthenticationMethodsReferences, lib.Scopes = o.ACR, o.AMR, o.Scopes
			if len(tc.extra) > 0 {
				lib.Claims = tc.extra
			}
			want, err := json.Marshal(lib)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			var w, g map[string]any
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(w, g) {
				t.Errorf("encoded\n%s\nthe library encoded\n%s", got, want)
			}
		})
	}
}
