package provider

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

var tokenAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// verifyAccessToken checks one of our access tokens: JOSE typ at+jwt (so an
// ID token is never accepted as an access token, RFC 9068 §4), a key of
// ours, the signature, iss, exp (offline), and that neither the token, its
// grant nor its user's tokens were revoked, on any replica, before the call
// (one database look-up): introspection, userinfo and API authentication
// answer the token's current state. A database fault is returned as is,
// not as ErrInvalidToken.
func (p *Provider) verifyAccessToken(ctx context.Context, token string) (*oidc.AccessTokenClaims, error) {
	// Keyed by the token's SHA-256: 32 bytes instead of the ~600-byte token.
	key := sha256.Sum256([]byte(token))
	vt, ok := p.verified.Get(key)
	if !ok {
		claims, err := p.verifySignedToken(ctx, token)
		if err != nil {
			return nil, err
		}
		vt = &verifiedToken{claims: claims}
		// Kept until the token expires: exp is checked below either way.
		p.verified.PutUntil(key, vt, claims.Expiration.AsTime())
	}
	claims := vt.claims
	if !p.now().Before(claims.Expiration.AsTime()) {
		return nil, fmt.Errorf("%w: expired", ErrInvalidToken)
	}
	// The stamp is read before the look-up: a revocation committed after
	// it changes the stamp, so the answer below is never reused past it.
	stamp, watched := p.watch.stamp()
	if !watched || vt.notRevokedAt.Load() != stamp+1 {
		gid, _ := claims.Claims[claimGrantID].(string)
		revoked, err := p.revoked.revoked(ctx, claims.JWTID, gid, claims.Subject, claims.IssuedAt.AsTime())
		if err != nil {
			return nil, err
		}
		if revoked {
			return nil, fmt.Errorf("%w: revoked", ErrInvalidToken)
		}
		if watched {
			vt.notRevokedAt.Store(stamp + 1)
		}
	}
	// A deleted client's tokens stop working (cached look-up).
	if _, err := p.client(ctx, claims.ClientID); err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) && oe.ErrorType == oidc.ServerError {
			return nil, err // a database fault is not the caller's fault
		}
		return nil, fmt.Errorf("%w: client: %v", ErrInvalidToken, err)
	}
	return claims, nil
}

// verifySignedToken checks everything about a token that cannot change:
// typ, key, signature, issuer, presence of jti.
func (p *Provider) verifySignedToken(ctx context.Context, token string) (*oidc.AccessTokenClaims, error) {
	if strings.Count(token, ".") != 2 || len(token) > 8192 {
		return nil, fmt.Errorf("%w: not a JWT", ErrInvalidToken)
	}
	jws, err := jose.ParseSigned(token, tokenAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: malformed", ErrInvalidToken)
	}
	h := jws.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return nil, fmt.Errorf("%w: not an access token", ErrInvalidToken)
	}
	key, ok := p.keys.byKID(ctx, h.KeyID)
	if !ok || string(key.alg) != h.Algorithm {
		return nil, fmt.Errorf("%w: unknown key", ErrInvalidToken)
	}
	payload, err := jws.Verify(key.priv.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}
	claims := new(oidc.AccessTokenClaims)
	if err := json.Unmarshal(payload, claims); err != nil {
		return nil, fmt.Errorf("%w: bad claims", ErrInvalidToken)
	}
	if claims.Issuer != p.issuer {
		return nil, fmt.Errorf("%w: wrong issuer", ErrInvalidToken)
	}
	if claims.JWTID == "" {
		return nil, fmt.Errorf("%w: no jti", ErrInvalidToken)
	}
	keepPrivateClaims(claims)
	return claims, nil
}

// keepPrivateClaims drops from claims.Claims what the struct's fields hold
// already: the library's decoder puts every claim in the map too, and
// verified tokens are cached (20,000 of them took ~36 MiB with the full
// map). Only our private claims stay.
func keepPrivateClaims(c *oidc.AccessTokenClaims) {
	var kept map[string]any
	for _, k := range []string{claimGrantID, claimSessionID, claimRoles, claimPermissions} {
		if v, ok := c.Claims[k]; ok {
			if kept == nil {
				kept = make(map[string]any, 4)
			}
			kept[k] = v
		}
	}
	c.Claims = kept
}

// verifiedToken is what the verified cache (Provider.verified) remembers of
// a token whose signature was checked, so a resource server introspecting
// (or an API client presenting) the same token again costs a map look-up
// instead of an ECDSA/RSA verification. Expiry is checked on every use;
// revocation too, unless the revocation watch's stamp is the one this
// token was last found not revoked at.
type verifiedToken struct {
	claims *oidc.AccessTokenClaims
	// notRevokedAt is the watch stamp + 1 of the last look-up that found
	// no revocation (0: none yet).
	notRevokedAt atomic.Uint64
}

// verifiedCacheMax bounds the tokens whose signature check is remembered;
// when full the cache starts over.
const verifiedCacheMax = 20000

// AuthenticateBearer turns one of our JWT access tokens into a principal for
// /api/v1 (httpserver.BearerAuthenticator). A client_credentials token
// (sub = client_id) is a Client principal; any other is the user in sub.
// Scopes are only the token's API-form scopes ("<type>:<action>"), never
// nil, so a token with just openid/profile carries no API rights. Any
// credential it does not accept yields httpserver.ErrUnauthenticated.
func (p *Provider) AuthenticateBearer(ctx context.Context, token string) (principal.Principal, error) {
	claims, err := p.verifyAccessToken(ctx, token)
	if errors.Is(err, ErrInvalidToken) {
		return principal.Principal{}, fmt.Errorf("%w: %v", httpserver.ErrUnauthenticated, err)
	}
	if err != nil {
		return principal.Principal{}, err
	}
	kind := principal.User
	if claims.Subject == claims.ClientID {
		kind = principal.Client
	}
	scopes := []string{}
	// A token for a registered API (aud is not its client, RFC 8707) is
	// that API's credential, never an admin credential here.
	forClient := slices.Contains(claims.Audience, claims.ClientID)
	for _, s := range claims.Scopes {
		if forClient && strings.Contains(s, ":") {
			scopes = append(scopes, s)
		}
	}
	return principal.Principal{Kind: kind, ID: claims.Subject, Via: principal.ViaAccessToken, CredentialID: claims.JWTID, Scopes: scopes}, nil
}
