// Package resources is the registry of APIs (resource servers, RFC 8707):
// an absolute-URI identifier, a name, the scopes the API defines and the
// clients registered for it, in the oidc_resources table, with the cached
// look-up the token path uses and /api/v1/resources.
//
// Registration is on the resource: Resource.ClientIDs lists the clients
// that serve or front this API. Those clients may introspect tokens whose
// aud names the API (RFC 7662 §4); any client may ask for a token for it
// (resource=<identifier>), limited to the API's scopes. Like clients, it
// knows nothing of tokens: the provider consumes it through its own
// ResourceLookup.
package resources

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"
)

// Resource is a registered API.
type Resource struct {
	ID string
	// Identifier is the absolute URI clients name in resource= and that
	// tokens for the API carry as aud (RFC 8707 §2).
	Identifier string
	Name       string
	// Scopes are the scopes the API defines; a token for it carries at most
	// these.
	Scopes []string
	// ClientIDs are the clients registered for the API (they may introspect
	// its tokens).
	ClientIDs []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// HasClient reports whether clientID is registered for the API.
func (r *Resource) HasClient(clientID string) bool { return slices.Contains(r.ClientIDs, clientID) }

// LimitScopes keeps the scopes of in that the API defines, in order.
func (r *Resource) LimitScopes(in []string) []string {
	out := []string{}
	for _, s := range in {
		if slices.Contains(r.Scopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// NewResource is the input of Create.
type NewResource struct {
	Identifier string
	Name       string
	Scopes     []string
	ClientIDs  []string
}

// Update is the input of Service.Update: nil fields are left as they are.
// The identifier cannot change (tokens already carry it as aud): register
// another API instead.
type Update struct {
	Name      *string
	Scopes    *[]string
	ClientIDs *[]string
}

// Sentinels of the registry.
var (
	// ErrNotFound: no such API.
	ErrNotFound = errors.New("oidc: resource not found")
	// ErrIdentifierTaken: another API has this identifier.
	ErrIdentifierTaken = errors.New("oidc: resource identifier already registered")
	// ErrChanged: the API changed (or went) while it was being updated.
	ErrChanged = errors.New("oidc: resource changed concurrently")
)

// normalize trims, deduplicates and validates r (fields named as in the API).
func (r *Resource) normalize() error {
	r.Identifier = strings.TrimSpace(r.Identifier)
	if err := ValidateIdentifier(r.Identifier); err != nil {
		return validation.Field("identifier", "%v", err)
	}
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || len(r.Name) > 200 {
		return validation.Field("name", "is required (at most 200 characters)")
	}
	r.Scopes = dedupe(r.Scopes)
	for _, s := range r.Scopes {
		if strings.ContainsAny(s, " \t\r\n\"\\") || len(s) > 100 {
			return validation.Field("scopes", "%q is not a valid scope", s)
		}
	}
	r.ClientIDs = dedupe(r.ClientIDs)
	for _, c := range r.ClientIDs {
		if len(c) > 64 {
			return validation.Field("client_ids", "%q is not a client id", c)
		}
	}
	return nil
}

// ValidateIdentifier accepts an absolute URI without a fragment (RFC 8707
// §2: "The value of the resource parameter MUST be an absolute URI ... MUST
// NOT include a fragment component").
func ValidateIdentifier(id string) error {
	u, err := url.Parse(id)
	switch {
	case id == "" || len(id) > 2000:
		return errors.New("must be an absolute URI of at most 2000 characters")
	case err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "" && u.Path == ""):
		return errors.New("must be an absolute URI (e.g. https://api.example.com)")
	case u.Fragment != "" || strings.Contains(id, "#"):
		return errors.New("must not have a fragment")
	}
	return nil
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
