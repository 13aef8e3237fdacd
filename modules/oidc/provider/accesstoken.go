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

// mintAccessToken signs an RFC 9068 JWT access token (typ at+jwt, iss, sub,
// aud, client_id, scope, exp, iat, jti) with the active key of t.Alg.
// Nothing is written to the database.
//
// zitadel/oidc's op.CreateJWT cannot be used here: its op.SignerFromKey fixes
// the JOSE header typ to "JWT", while RFC 9068 §2.1 requires "at+jwt". We
// build the library's oidc.AccessTokenClaims and sign them ourselves.
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
	claims := oidc.NewAccessTokenClaims(issuer, t.Subject, aud, t.Expires, jti, t.ClientID, 0)
	now := oidc.FromTime(p.now())
	claims.IssuedAt, claims.NotBefore = now, now
	claims.Scopes = t.Scopes
	if !t.AuthTime.IsZero() {
		claims.AuthTime = oidc.FromTime(t.AuthTime)
	}
	claims.AuthenticationMethodsReferences = t.AMR
	claims.AuthenticationContextClassReference = t.ACR
	extra := map[string]any{}
	if t.GrantID != "" {
		extra[claimGrantID] = t.GrantID
	}
	if t.SessionID != "" {
		extra[claimSessionID] = t.SessionID
	}
	if t.Roles != nil {
		extra[claimRoles] = t.Roles
	}
	if t.Permissions != nil {
		extra[claimPermissions] = t.Permissions
	}
	if len(extra) > 0 {
		claims.Claims = extra
	}
	payload, err := json.Marshal(claims)
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
