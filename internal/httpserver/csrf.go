package httpserver

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// CSRFField is the form field every page form carries.
const CSRFField = "csrf_token"

// CSRF protects form posts with a double-submit token (a random cookie that
// the form repeats) and, where the browser sends it, the Sec-Fetch-Site
// header. Public pages (/login, /consent) use it per route; /admin and
// /account have it on their groups.
func CSRF(secure bool) echo.MiddlewareFunc {
	name := "gatehouse_csrf"
	if secure {
		name = "__Host-gatehouse_csrf"
	}
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:" + CSRFField,
		CookieName:     name,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   secure,
		CookieSameSite: http.SameSiteLaxMode,
		CookieMaxAge:   86400,
		ErrorHandler: func(err error, c echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "the form expired or came from another site; reload the page and try again")
		},
	})
}

// CSRFToken returns the token to embed in the page's forms.
func CSRFToken(c echo.Context) string {
	tok, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	return tok
}
