package admin

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// clientForm is the client settings form as posted and as shown: the
// lifetimes are the text typed ("10m", "1h", "30d"; empty for the default).
type clientForm struct {
	Name, RedirectURIs, PostLogoutURIs, Scopes string
	FirstParty, RequirePKCE, PermissionsClaim  bool
	IDTokenAlg, AccessTokenAlg                 string
	AccessTTL, IDTTL, RefreshTTL, RefreshIdle  string
	GrantTypes                                 []string
}

// clientFormOf is the form showing cl's settings.
func clientFormOf(cl clients.Client) clientForm {
	return clientForm{Name: cl.Name, RedirectURIs: strings.Join(cl.RedirectURIs, "\n"),
		PostLogoutURIs: strings.Join(cl.PostLogoutRedirectURIs, "\n"), Scopes: strings.Join(cl.Scopes, " "),
		FirstParty: cl.FirstParty, RequirePKCE: cl.RequirePKCE, PermissionsClaim: cl.PermissionsClaim,
		IDTokenAlg: cl.IDTokenAlg, AccessTokenAlg: cl.AccessTokenAlg, AccessTTL: formatLifetime(cl.AccessTokenTTL), IDTTL: formatLifetime(cl.IDTokenTTL),
		RefreshTTL: formatLifetime(cl.RefreshTokenTTL), RefreshIdle: formatLifetime(cl.RefreshTokenIdleTTL),
		GrantTypes: cl.GrantTypes}
}

// readClientForm reads the posted settings form.
func readClientForm(form url.Values) clientForm {
	f := clientForm{Name: strings.TrimSpace(form.Get("name")), RedirectURIs: form.Get("redirect_uris"),
		PostLogoutURIs: form.Get("post_logout_redirect_uris"), Scopes: strings.TrimSpace(form.Get("scopes")),
		FirstParty: form.Get("first_party") == "on", RequirePKCE: form.Get("require_pkce") == "on",
		PermissionsClaim: form.Get("permissions_claim") == "on", IDTokenAlg: form.Get("id_token_alg"),
		AccessTokenAlg: form.Get("access_token_alg"),
		AccessTTL:      strings.TrimSpace(form.Get("access_token_ttl")), IDTTL: strings.TrimSpace(form.Get("id_token_ttl")),
		RefreshTTL: strings.TrimSpace(form.Get("refresh_token_ttl")), RefreshIdle: strings.TrimSpace(form.Get("refresh_token_idle_ttl")),
		GrantTypes: form["grant_types"]}
	if len(f.GrantTypes) == 0 { // the form's help: none means the default pair
		f.GrantTypes = []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken}
	}
	return f
}

// update is the ClientUpdate of every setting on the form, as a PATCH with
// every field; a lifetime that is not a duration is a field error.
func (f clientForm) update() (clients.ClientUpdate, error) {
	uris, logout, scopes, grants := lines(f.RedirectURIs), lines(f.PostLogoutURIs), strings.Fields(f.Scopes), f.GrantTypes
	u := clients.ClientUpdate{Name: &f.Name, RedirectURIs: &uris, PostLogoutRedirectURIs: &logout, Scopes: &scopes,
		GrantTypes: &grants, FirstParty: &f.FirstParty, RequirePKCE: &f.RequirePKCE, PermissionsClaim: &f.PermissionsClaim,
		IDTokenAlg: &f.IDTokenAlg, AccessTokenAlg: &f.AccessTokenAlg}
	for _, l := range []struct {
		field, text string
		dst         **time.Duration
	}{
		{"access_token_ttl", f.AccessTTL, &u.AccessTokenTTL},
		{"id_token_ttl", f.IDTTL, &u.IDTokenTTL},
		{"refresh_token_ttl", f.RefreshTTL, &u.RefreshTokenTTL},
		{"refresh_token_idle_ttl", f.RefreshIdle, &u.RefreshTokenIdleTTL},
	} {
		d, err := parseLifetime(l.text)
		if err != nil {
			return clients.ClientUpdate{}, validation.Field(l.field, "%q is not a duration: write it like 10m, 1h or 30d, or leave it empty for the default", l.text)
		}
		*l.dst = &d
	}
	return u, nil
}

// parseLifetime reads "10m", "1h30m" or "30d"; empty is 0 (the default).
func parseLifetime(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 3660 {
			return 0, errors.New("bad number of days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("bad duration")
	}
	return d, nil
}

// formatLifetime writes d the way parseLifetime reads it, shortest first;
// 0 (the default) is empty.
func formatLifetime(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return d.String()
}

// clientFieldLabels name the service's validation fields as the form does.
var clientFieldLabels = map[string]string{
	"name":                         "Name",
	"redirect_uris":                "Redirect URIs",
	"post_logout_redirect_uris":    "Post-logout redirect URIs",
	"grant_types":                  "Grant types",
	"scopes":                       "Scopes",
	"require_pkce":                 "Require PKCE",
	"id_token_signed_response_alg": "ID token algorithm",
	"access_token_alg":             "Access token algorithm",
	"access_token_ttl":             "Access token lifetime",
	"id_token_ttl":                 "ID token lifetime",
	"refresh_token_ttl":            "Refresh token lifetime",
	"refresh_token_idle_ttl":       "Refresh token idle lifetime",
}

// explainClient is explain with the service's field names replaced by the
// form's labels.
func explainClient(err error) (status int, msg string, ok bool) {
	status, msg, ok = explain(err)
	if ve, isVE := validation.As(err); isVE && ok {
		if label, known := clientFieldLabels[ve.Field]; known {
			msg = label + ": " + ve.Message
		}
	}
	return status, msg, ok
}
