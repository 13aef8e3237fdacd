package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/identity"
)

type apikeysCmd struct {
	Create apikeysCreateCmd `cmd:"" help:"Create an API key; prints the secret once."`
}

type apikeysCreateCmd struct {
	User      string        `required:"" help:"Owner's email."`
	Name      string        `required:"" help:"Key name."`
	Scope     []string      `help:"Scope (repeatable); without, the owner's rights."`
	ExpiresIn time.Duration `name:"expires-in" help:"Lifetime, e.g. 720h."`
}

// Run creates the key as the system principal (audited as actor
// "gatehouse") and prints the secret alone on stdout: it is never shown
// again.
func (c *apikeysCreateCmd) Run(e *env) error {
	if c.ExpiresIn < 0 {
		return errors.New("--expires-in must be positive")
	}
	a, err := newApp(e.ctx, e.cfg, logging.Discard())
	if err != nil {
		return err
	}
	defer a.close()
	ctx := principal.With(e.ctx, principal.SystemPrincipal)
	u, err := a.identity.UserByEmail(ctx, c.User)
	if errors.Is(err, identity.ErrNotFound) {
		return fmt.Errorf("--user: no user with email %q", c.User)
	}
	if err != nil {
		return err
	}
	n := apikeys.NewKey{UserID: u.ID, Name: c.Name, Scopes: c.Scope}
	if c.ExpiresIn > 0 {
		at := time.Now().Add(c.ExpiresIn)
		n.ExpiresAt = &at
	}
	k, err := a.apikeys.Create(ctx, n)
	if err != nil {
		return apikeysCLIError(err)
	}
	_, err = fmt.Fprintln(e.stdout, k.Secret)
	return err
}

// apikeysCLIError names the flag a service error is about.
func apikeysCLIError(err error) error {
	var ve *validation.Error
	switch {
	case errors.As(err, &ve):
		flag := map[string]string{"name": "--name", "scopes": "--scope", "expires_at": "--expires-in"}[ve.Field]
		if flag == "" {
			flag = ve.Field
		}
		return fmt.Errorf("%s: %s", flag, strings.ReplaceAll(ve.Message, "\n", " "))
	case errors.Is(err, apikeys.ErrOwnerDisabled):
		return errors.New("--user: the user is disabled")
	}
	return err
}
