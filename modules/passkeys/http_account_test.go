package passkeys_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

// server mounts the module on an /account group that, like the real one,
// has CSRF protection and a session principal (taken here from the
// X-Test-User header; none when it is absent).
func server(e *env) *echo.Echo {
	ec := echo.New()
	account := ec.Group("/account", func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if id := c.Request().Header.Get("X-Test-User"); id != "" {
				p := principal.Principal{Kind: principal.User, ID: id, Via: principal.ViaSession}
				c.SetRequest(c.Request().WithContext(principal.With(c.Request().Context(), p)))
			}
			return next(c)
		}
	}, httpserver.CSRF(false))
	// Like Routes.Sensitive, without the "Confirm it's you" page: a session
	// marked stale (X-Test-Stale) is refused before the handler runs.
	sensitive := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Header.Get("X-Test-Stale") != "" {
				return echo.NewHTTPError(http.StatusUnauthorized, "confirm it's you")
			}
			return next(c)
		}
	}
	passkeys.NewModule(e.svc).Mount(module.Routes{Account: account, Sensitive: sensitive})
	return ec
}

type call struct {
	path, user, accept string
	form               url.Values
	crossSite          bool
	stale              bool // the session has no recent proof of identity
}

func (c call) do(ec *echo.Echo) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if c.crossSite {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	if c.user != "" {
		req.Header.Set("X-Test-User", c.user)
	}
	if c.stale {
		req.Header.Set("X-Test-Stale", "1")
	}
	if c.accept != "" {
		req.Header.Set(echo.HeaderAccept, c.accept)
	}
	rec := httptest.NewRecorder()
	ec.ServeHTTP(rec, req)
	return rec
}

func TestAccountHTTP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		ec := server(e)
		ada, bob := e.user(t, uniqueEmail()), e.user(t, uniqueEmail())
		d := newDevice(ada.ID)

		rec := call{path: "/account/passkeys/register/begin", user: ada.ID}.do(ec)
		if rec.Code != http.StatusOK {
			t.Fatalf("begin: %d %s", rec.Code, rec.Body)
		}
		var cer passkeys.Ceremony
		if err := json.Unmarshal(rec.Body.Bytes(), &cer); err != nil || cer.Handle == "" || !strings.Contains(string(cer.Options), `"publicKey"`) {
			t.Fatalf("begin answer %s (%v)", rec.Body, err)
		}
		finish := url.Values{"handle": {cer.Handle}, "name": {"Laptop"}, "credential": {string(d.attest(t, rp, cer))}}
		rec = call{path: "/account/passkeys/register/finish", user: ada.ID, form: finish}.do(ec)
		var out struct {
			Passkey  passkeys.PasskeyJSON `json:"passkey"`
			Redirect string               `json:"redirect"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Passkey.Name != "Laptop" || out.Redirect != "/account" {
			t.Fatalf("finish: %d %s", rec.Code, rec.Body)
		}
		id := out.Passkey.ID

		cases := []struct {
			name         string
			c            call
			wantStatus   int
			wantContains string
		}{
			{"finish replayed", call{path: "/account/passkeys/register/finish", user: ada.ID, form: finish}, 400, "already used"},
			{"finish garbage", call{path: "/account/passkeys/register/finish", user: ada.ID, form: url.Values{"handle": {"x"}, "credential": {"{"}}}, 400, ""},
			{"begin signed out", call{path: "/account/passkeys/register/begin"}, 401, ""},
			{"begin cross-site", call{path: "/account/passkeys/register/begin", user: ada.ID, crossSite: true}, 403, ""},
			{"rename someone else's", call{path: "/account/passkeys/" + id + "/rename", user: bob.ID, form: url.Values{"name": {"x"}}}, 404, ""},
			{"rename blank", call{path: "/account/passkeys/" + id + "/rename", user: ada.ID, form: url.Values{"name": {" "}}}, 422, "name"},
			{"rename form", call{path: "/account/passkeys/" + id + "/rename", user: ada.ID, form: url.Values{"name": {"Phone"}}}, 303, ""},
			{"rename JSON", call{path: "/account/passkeys/" + id + "/rename", user: ada.ID, accept: "application/json", form: url.Values{"name": {"Work phone"}}}, 200, `"Work phone"`},
			{"delete someone else's", call{path: "/account/passkeys/" + id + "/delete", user: bob.ID}, 404, ""},
			{"adding needs a recent proof", call{path: "/account/passkeys/register/begin", user: ada.ID, stale: true}, 401, ""},
			{"removing needs a recent proof", call{path: "/account/passkeys/" + id + "/delete", user: ada.ID, stale: true}, 401, ""},
			{"delete", call{path: "/account/passkeys/" + id + "/delete", user: ada.ID}, 303, ""},
			{"delete again", call{path: "/account/passkeys/" + id + "/delete", user: ada.ID, accept: "application/json"}, 404, ""},
		}
		for _, tc := range cases {
			rec := tc.c.do(ec)
			if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.wantContains) {
				t.Errorf("%s: %d %s; want %d containing %q", tc.name, rec.Code, rec.Body, tc.wantStatus, tc.wantContains)
			}
			if rec.Code == http.StatusSeeOther && rec.Header().Get("Location") != "/account" {
				t.Errorf("%s: redirected to %q", tc.name, rec.Header().Get("Location"))
			}
		}
	})
}
