package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
)

type usersInviteCmd struct {
	Email string   `required:"" help:"Email address; the invitation goes there."`
	Name  string   `help:"Display name."`
	Role  []string `help:"Role to assign (repeatable)."`
}

// Run invites the user and prints its id. The invitation is queued in the
// outbox with the user; with an SMTP server this command delivers it at
// once (a running server would otherwise, within a second). Without one it
// prints the one-time link on stderr for the operator to pass on (stdout
// stays the id; the running server also writes the link to its log).
func (c *usersInviteCmd) Run(e *env) error {
	a, err := newApp(e.ctx, e.cfg, logging.Discard())
	if err != nil {
		return err
	}
	defer a.close()
	ctx := principal.With(e.ctx, principal.SystemPrincipal)
	if err := checkRoles(a, ctx, c.Role); err != nil {
		return err
	}
	inv, err := a.identity.InviteUser(ctx, identity.NewUser{Email: c.Email, Name: c.Name, Roles: c.Role})
	if errors.Is(err, identity.ErrEmailTaken) {
		return errors.New("a user with this email already has a password or is a service account")
	}
	if err != nil {
		return cliError(err)
	}
	if inv.Link != "" {
		fmt.Fprintln(e.stderr, "gatehouse: no mail server (GATEHOUSE_SMTP_URL) is configured, so nothing was emailed;")
		fmt.Fprintln(e.stderr, "gatehouse: give the user this one-time invitation link (valid 7 days):")
		fmt.Fprintln(e.stderr, inv.Link)
	} else if _, err := a.mail.DeliverDue(ctx); err != nil {
		fmt.Fprintln(e.stderr, "gatehouse: invitation queued; the server will send it: "+oneLine(err))
	}
	_, err = fmt.Fprintln(e.stdout, inv.ID)
	return err
}

// checkRoles names an unknown role before anything is created.
func checkRoles(a *app, ctx context.Context, roles []string) error {
	for _, r := range roles {
		ok, err := a.identity.RoleExists(ctx, r)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("unknown role %q (built-in roles: admin, user-admin, auditor)", r)
		}
	}
	return nil
}
