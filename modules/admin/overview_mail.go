package admin

import (
	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
)

// mailCard is the overview's "Mail" card: the outbox's backlog and what
// this process delivered or gave up on since it started.
type mailCard struct {
	Pending, Sent, Failed int64
}

// mailResource is what the card needs: mail:* read, which the admin and
// auditor roles hold (a user-admin does not see the mail system's state).
var mailResource = principal.Resource{Type: "mail", ID: "*"}

// mailStats reads the card when a mail stats source is wired and the user
// may read it; nil hides the card.
func (m *Module) mailStats(c echo.Context) (*mailCard, error) {
	if m.d.Mail == nil {
		return nil, nil
	}
	if ok, err := m.can(c, mailResource, "read"); err != nil || !ok {
		return nil, err
	}
	st, err := m.d.Mail.Stats(c.Request().Context())
	if err != nil {
		return nil, err
	}
	return &mailCard{Pending: st.Pending, Sent: st.Sent, Failed: st.Failed}, nil
}
