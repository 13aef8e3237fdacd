package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/web"
)

// accountView is the data of oidc/account.html: who you are and where you
// are signed in. The console engineer extends this page.
type accountView struct {
	web.Page
	Name     string
	Email    string
	Username string
	// EmailVerified, and CanVerify: "Send verification link" is offered.
	EmailVerified bool
	CanVerify     bool
	Sessions      []accountSessionView
	// PasskeysEnabled shows the passkeys section ("Add passkey" and the list).
	PasskeysEnabled bool
	Passkeys        []accountPasskeyView
	// CanChangePassword shows "Change password"; HasPassword: the user has
	// one to change (without, the section says so and offers nothing).
	CanChangePassword bool
	HasPassword       bool
	// APIKeysEnabled shows the personal API keys; NewKey is the key just
	// created, whose secret is on this one page only.
	APIKeysEnabled bool
	APIKeys        []accountKeyView
	NewKey         *accountNewKeyView
}

// accountPasskeyView is one passkey in the list: its name (editable),
// creation and last use, and whether it is synced (backed up).
type accountPasskeyView struct {
	ID       string
	Name     string
	Created  string
	LastUsed string
	Synced   bool
}

// accountSessionView is one session in the list.
type accountSessionView struct {
	ID        string
	Current   bool
	Created   string
	LastSeen  string
	IP        string
	UserAgent string
	Methods   string
}

const accountTimeFormat = "2006-01-02 15:04 UTC"

// getAccount shows the signed-in user (the Account group requires a
// session, so the principal is in the context).
func (p *Pages) getAccount(c echo.Context) error {
	pr, ok := principal.From(c.Request().Context())
	if !ok || pr.Via != principal.ViaSession {
		return echo.NewHTTPError(http.StatusUnauthorized, "sign in to see your account")
	}
	v, err := p.accountPage(c, pr)
	if err != nil {
		return err
	}
	switch v.Flash {
	case flashSessionEnded, flashVerifySent, flashPasswordChanged, flashKeyRevoked:
	default:
		v.Flash = "" // only our own messages, never text from the URL
	}
	return p.render.HTML(c, http.StatusOK, tmplAccount, v)
}

// accountPage gathers /account for pr: profile, password, passkeys, API
// keys and sessions. Handlers that answer with the page (an error, a new
// key's secret) fill in the rest.
func (p *Pages) accountPage(c echo.Context, pr principal.Principal) (accountView, error) {
	ctx := c.Request().Context()
	u, err := p.users.UserByID(ctx, pr.ID)
	if err != nil {
		return accountView{}, fmt.Errorf("oidc: account: %w", err)
	}
	list, err := p.sessions.listForUser(ctx, pr.ID)
	if err != nil {
		return accountView{}, err
	}
	name := u.Name
	if name == "" {
		name = u.Email
	}
	v := accountView{
		Page: web.Page{Title: "Your account", CSRF: httpserver.CSRFToken(c), User: name, Flash: c.QueryParam("flash")},
		Name: u.Name, Email: u.Email, Username: u.Username, EmailVerified: u.EmailVerified, CanVerify: p.recovery != nil,
		CanChangePassword: p.passwords != nil, HasPassword: u.HasPassword,
	}
	if p.passkeys != nil {
		v.PasskeysEnabled = true
		pks, err := p.passkeys.List(ctx, pr.ID)
		if err != nil {
			return accountView{}, fmt.Errorf("oidc: account: passkeys: %w", err)
		}
		for _, k := range pks {
			pv := accountPasskeyView{ID: k.ID, Name: k.Name, Created: k.CreatedAt.Format(accountTimeFormat), LastUsed: "never", Synced: k.BackupState}
			if k.LastUsedAt != nil {
				pv.LastUsed = k.LastUsedAt.Format(accountTimeFormat)
			}
			v.Passkeys = append(v.Passkeys, pv)
		}
	}
	if p.apiKeys != nil {
		v.APIKeysEnabled = true
		keys, err := p.apiKeys.ListKeys(ctx, pr.ID)
		if err != nil {
			return accountView{}, fmt.Errorf("oidc: account: API keys: %w", err)
		}
		for _, k := range keys {
			v.APIKeys = append(v.APIKeys, apiKeyView(k))
		}
	}
	for _, s := range list {
		v.Sessions = append(v.Sessions, accountSessionView{
			ID: s.ID, Current: s.ID == pr.CredentialID,
			Created: s.CreatedAt.Format(accountTimeFormat), LastSeen: s.LastSeenAt.Format(accountTimeFormat),
			IP: s.IP, UserAgent: s.UserAgent, Methods: methodsLabel(s.AMR),
		})
	}
	return v, nil
}

const flashSessionEnded = "The session was signed out."

// postEndSession signs out one of the user's other sessions.
func (p *Pages) postEndSession(c echo.Context) error {
	ctx := c.Request().Context()
	pr, ok := principal.From(ctx)
	if !ok || pr.Via != principal.ViaSession {
		return echo.NewHTTPError(http.StatusUnauthorized, "sign in to manage your sessions")
	}
	id := c.FormValue("session_id")
	if id == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "choose a session to sign out")
	}
	err := database.Transact(ctx, p.db, func(ctx context.Context) error {
		if err := p.sessions.deleteForUserByID(ctx, pr.ID, id); err != nil {
			return err
		}
		return p.audit.Record(ctx, audit.Event{
			Action: "logout", Target: audit.Ref{Type: "session", ID: id}, Outcome: audit.Success,
		})
	})
	if errors.Is(err, errSessionNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "that session has already ended")
	}
	if err != nil {
		return err
	}
	if id == pr.CredentialID {
		p.clearCookie(c)
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return c.Redirect(http.StatusSeeOther, "/account?flash="+url.QueryEscape(flashSessionEnded))
}

// methodsLabel names the methods proven in a session.
func methodsLabel(amr []string) string {
	out := ""
	for _, m := range amr {
		label := m
		switch m {
		case flow.AMRPassword:
			label = "password"
		case flow.AMRHardware:
			label = "passkey"
		case flow.AMRUser:
			continue
		}
		if out != "" {
			out += ", "
		}
		out += label
	}
	return out
}
