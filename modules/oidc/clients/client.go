// Package clients is the OAuth client registry: the client model and its
// validation, the oidc_clients and oidc_client_secrets tables, the cached
// look-up and secret check the token endpoint uses, and /api/v1/clients.
// It knows nothing of tokens: the provider (modules/oidc/provider) consumes
// it through its own small ClientLookup interface.
package clients

import (
	"slices"
	"time"
)

// Grant types a client may be allowed (RFC 6749 §4).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	// GrantTokenExchange is RFC 8693 (grant_type
	// urn:ietf:params:oauth:grant-type:token-exchange): API keys and access
	// tokens become short-lived tokens for a registered API.
	GrantTokenExchange = "token_exchange"
)

// Signature algorithms for tokens.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	// AlgEdDSA is Ed25519 (RFC 8037): access tokens only; ID tokens keep
	// RS256/ES256, which every relying party library verifies.
	AlgEdDSA = "EdDSA"
)

// AccessTokenAlgs are the algorithms a client's access tokens may be
// signed with (Client.AccessTokenAlg), the default first.
var AccessTokenAlgs = []string{AlgES256, AlgRS256, AlgEdDSA}

// Default lifetimes used when a client leaves its own at zero.
const (
	DefaultAccessTokenTTL      = 10 * time.Minute
	DefaultIDTokenTTL          = time.Hour
	DefaultRefreshTokenTTL     = 30 * 24 * time.Hour // absolute, from the first sign-in
	DefaultRefreshTokenIdleTTL = 7 * 24 * time.Hour  // since the last use
	// MaxTokenTTL bounds access and ID token lifetimes; the provider keeps
	// retired keys and denylist entries this long (plus a margin).
	MaxTokenTTL   = 24 * time.Hour
	maxRefreshTTL = 365 * 24 * time.Hour
)

// Client is a registered OAuth 2.0 / OpenID Connect client. It never carries
// a secret: secrets are shown once, on creation or rotation.
type Client struct {
	ID                     string
	Name                   string
	Public                 bool // no secret; PKCE required (RFC 7636, OAuth 2.0 Security BCP §2.1.1)
	FirstParty             bool // consent is skipped
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	// Scopes are the scopes the client may request beyond openid, profile,
	// email and offline_access; API scopes have the form "<type>:<action>".
	// Empty means the defaults (openid profile email roles offline_access).
	Scopes []string
	// Lifetimes; zero means the package default.
	AccessTokenTTL      time.Duration
	IDTokenTTL          time.Duration
	RefreshTokenTTL     time.Duration // absolute lifetime of a refresh token family
	RefreshTokenIdleTTL time.Duration // a refresh token unused this long expires
	IDTokenAlg          string        // RS256 (default) or ES256
	// AccessTokenAlg signs the client's access tokens: ES256 (default,
	// cheapest to sign), RS256 or EdDSA (AccessTokenAlgs).
	AccessTokenAlg string
	// PermissionsClaim puts the user's permissions (Options.Permissions) in
	// the ID token, the access token and userinfo as a "permissions" claim,
	// for apps that check them offline. Never on client-credentials tokens.
	PermissionsClaim bool
	// RequirePKCE refuses an authorization request without a code_challenge
	// (RFC 9700 §2.1.1). Always true for public clients; a confidential
	// (legacy) client may opt out.
	RequirePKCE bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewClient is the input of CreateClient.
type NewClient struct {
	Name                   string
	Public                 bool
	FirstParty             bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string // default: authorization_code, refresh_token
	Scopes                 []string
	AccessTokenTTL         time.Duration
	IDTokenTTL             time.Duration
	RefreshTokenTTL        time.Duration
	RefreshTokenIdleTTL    time.Duration
	IDTokenAlg             string
	AccessTokenAlg         string // default ES256
	PermissionsClaim       bool
	// RequirePKCE: nil means true (the default); false only for a
	// confidential client.
	RequirePKCE *bool
}

// ClientUpdate changes the non-nil fields of a client.
type ClientUpdate struct {
	Name                   *string
	FirstParty             *bool
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	GrantTypes             *[]string
	Scopes                 *[]string
	AccessTokenTTL         *time.Duration
	IDTokenTTL             *time.Duration
	RefreshTokenTTL        *time.Duration
	RefreshTokenIdleTTL    *time.Duration
	IDTokenAlg             *string
	AccessTokenAlg         *string
	PermissionsClaim       *bool
	RequirePKCE            *bool
}

// AccessTTL, IDTTL, RefreshTTL and RefreshIdleTTL are the client's
// lifetimes with the package defaults applied.
func (c *Client) AccessTTL() time.Duration { return orDefault(c.AccessTokenTTL, DefaultAccessTokenTTL) }
func (c *Client) IDTTL() time.Duration     { return orDefault(c.IDTokenTTL, DefaultIDTokenTTL) }
func (c *Client) RefreshTTL() time.Duration {
	return orDefault(c.RefreshTokenTTL, DefaultRefreshTokenTTL)
}
func (c *Client) RefreshIdleTTL() time.Duration {
	return orDefault(c.RefreshTokenIdleTTL, DefaultRefreshTokenIdleTTL)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Allows reports whether the client may use grant.
func (c *Client) Allows(grant string) bool { return slices.Contains(c.GrantTypes, grant) }

// DefaultScopes are the scopes of a client registered without a scope list;
// the provider advertises them as scopes_supported.
var DefaultScopes = []string{"openid", "profile", "email", "roles", "offline_access"}

// AllowedScopes is the client's scope list, or DefaultScopes when empty.
func (c *Client) AllowedScopes() []string {
	if len(c.Scopes) == 0 {
		return DefaultScopes
	}
	return c.Scopes
}
