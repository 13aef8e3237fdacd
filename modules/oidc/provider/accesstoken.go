package provider

import (
	"encoding/json"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Private claims of our access tokens (beside RFC 9068's).
const (
	claimGrantID   = "gid"   // the authorization grant (code / refresh family) the token came from
	claimSessionID = "sid"   // the browser session (OpenID Connect Front-Channel Logout §3 naming)
	claimRoles     = "roles" // role names, when the roles scope was granted
	// claimPermissions lists the user's "<resource>#<action>" permissions,
	// for clients with Client.PermissionsClaim.
	claimPermissions = "permissions"
)

// accessToken is what goes into an access token.
type accessToken struct {
	Subject   string
	ClientID  string
	Audience  []string
	Scopes    []string
	GrantID   string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	Roles     []string // nil: no roles claim
	// Permissions: nil means no permissions claim.
	Permissions []string
	Expires     time.Time
	// Alg is the client's access-token algorithm (clients.Client.AccessTokenAlg);
	// empty: Options.AccessTokenAlg (tokens of no registered client).
	Alg string
}

// accessTokenClaims is the JSON of an access token: the claims of
// zitadel/oidc's AccessTokenClaims (which verification decodes) and our
// private ones, in one struct. The library's own encoding marshals its
// struct, decodes that into a map, merges the private claims and marshals
// the map again; this is one reflection-cached pass.
type accessTokenClaims struct {
	Issuer     string                   `json:"iss,omitempty"`
	Subject    string                   `json:"sub,omitempty"`
	Audience   []string                 `json:"aud,omitempty"`
	Expiration int64                    `json:"exp,omitempty"`
	IssuedAt   int64                    `json:"iat,omitempty"`
	AuthTime   int64                    `json:"auth_time,omitempty"`
	NotBefore  int64                    `json:"nbf,omitempty"`
	ACR        string                   `json:"acr,omitempty"`
	AMR        []string                 `json:"amr,omitempty"`
	ClientID   string                   `json:"client_id,omitempty"`
	JWTID      string                   `json:"jti,omitempty"`
	Scopes     oidc.SpaceDelimitedArray `json:"scope,omitempty"`
	GrantID    string                   `json:"gid,omitempty"`
	SessionID  string                   `json:"sid,omitempty"`
	// nil: no claim; empty: an empty array.
	Roles       []string `json:"roles,omitzero"`
	Permissions []string `json:"permissions,omitzero"`
}

// mintAccessToken signs an RFC 9068 JWT access token (typ at+jwt, iss, sub,
// aud, client_id, scope, exp, iat, jti) with the active key of t.Alg.
// Nothing is written to the database.
//
// zitadel/oidc's op.CreateJWT cannot be used here: its op.SignerFromKey fixes
// the JOSE header typ to "JWT", while RFC 9068 §2.1 requires "at+jwt". We
// encode the claims (accessTokenClaims) and sign them ourselves.
func (p *Provider) mintAccessToken(issuer string, t accessToken) (token, jti string, err error) {
	alg := p.accessAlg
	if t.Alg != "" {
		alg = jose.SignatureAlgorithm(t.Alg)
	}
	key, err := p.keys.activeKey(alg)
	if err != nil {
		return "", "", err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", "", err
	}
	jti = id.String()
	aud := t.Audience
	if len(aud) == 0 {
		aud = []string{t.ClientID}
	}
	now := int64(oidc.FromTime(p.now()))
	payload, err := json.Marshal(accessTokenClaims{
		Issuer: issuer, Subject: t.Subject, Audience: aud, Expiration: int64(oidc.FromTime(t.Expires)),
		IssuedAt: now, NotBefore: now, AuthTime: int64(oidc.FromTime(t.AuthTime)),
		ACR: t.ACR, AMR: t.AMR, ClientID: t.ClientID, JWTID: jti, Scopes: t.Scopes,
		GrantID: t.GrantID, SessionID: t.SessionID, Roles: t.Roles, Permissions: t.Permissions,
	})
	if err != nil {
		return "", "", err
	}
	sig, err := key.atSigner.Sign(payload)
	if err != nil {
		return "", "", err
	}
	token, err = sig.CompactSerialize()
	return token, jti, err
}
