package admin

import (
	"fmt"

	"github.com/labstack/echo/v4"
)

// usersFragment is the block of admin/users.html an htmx request swaps in:
// the table and the pager, plus the result count for the live region
// (an out-of-band swap, so the region itself stays and is announced).
const usersFragment = "users-fragment"

// wantsFragment reports whether the request is htmx's own (HX-Request) and
// not a history restore, which needs the whole page. The answer varies with
// the header, so caches are told.
func wantsFragment(c echo.Context) bool {
	c.Response().Header().Add(echo.HeaderVary, "HX-Request")
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-History-Restore-Request") != "true"
}

// shownSentence is what the live region announces after a search.
func shownSentence(n int, more bool) string {
	switch {
	case n == 0:
		return "No users match."
	case n == 1 && !more:
		return "1 user matches."
	case more:
		return fmt.Sprintf("Showing %d matching users; more on the next page.", n)
	}
	return fmt.Sprintf("%d users match.", n)
}
