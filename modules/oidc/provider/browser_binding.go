package provider

import (
	"context"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

// An authorization request belongs to the browser that started it (CONTRACT
// "OpenID Connect"; the review's critical finding). /authorize gives the
// browser an auth-session cookie (flow.BrowserCookie) unless it has one, and
// the request stores the cookie's SHA-256. The pages (through AuthFlow) and
// the callback that issues the code compare it: a sign-in link opened in
// another browser, or a callback URL replayed by anyone else, yields
// nothing. SaveAuthCode then lets a request yield one code, once.

// msgOtherBrowser is what a browser that did not start the request reads.
const msgOtherBrowser = "This sign-in was started in another browser, so it cannot be finished here. Go back to the app and sign in again from this browser."

// bindBrowser wraps the library's handler: at /authorize it makes sure the
// browser has an auth-session cookie and puts its value in the request's
// context for CreateAuthRequest; at the callback, which issues the code, it
// refuses every browser but the one that started the request (unknown or
// expired ids go on to the library, which answers them).
func (p *Provider) bindBrowser(next http.Handler) http.Handler {
	secure := strings.HasPrefix(strings.ToLower(p.issuer), "https://")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case pathAuthorize:
			v := flow.BrowserOf(r)
			if len(v) < 32 || len(v) > 64 {
				v = secret.Token(32)
				http.SetCookie(w, &http.Cookie{
					Name: flow.BrowserCookie, Value: v, Path: "/",
					HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
				})
			}
			r = r.WithContext(flow.WithBrowser(r.Context(), v))
		case pathCallback:
			ctx := flow.WithBrowser(r.Context(), flow.BrowserOf(r))
			if a, err := p.storage.loadAuthRequest(ctx, r.URL.Query().Get("id")); err == nil && checkBrowser(ctx, a) != nil {
				http.Error(w, msgOtherBrowser, http.StatusBadRequest)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// browserHash is what CreateAuthRequest stores for the browser in ctx ("" for
// none, which no browser matches).
func browserHash(ctx context.Context) string {
	if v := flow.BrowserFrom(ctx); v != "" {
		return secret.Hash(v)
	}
	return ""
}

// checkBrowser answers flow.ErrOtherBrowser unless ctx carries the browser
// that started a.
func checkBrowser(ctx context.Context, a *authRequest) error {
	got := browserHash(ctx)
	if a.browserHash == "" || got == "" || !secret.EqualHash(got, a.browserHash) {
		return flow.ErrOtherBrowser
	}
	return nil
}
