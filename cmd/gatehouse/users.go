package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
)

type usersCmd struct {
	Create usersCreateCmd `cmd:"" help:"Create a user; reads the password from stdin."`
	Invite usersInviteCmd `cmd:"" help:"Create a user without a password (or find one who has none) and mail a one-time invitation link."`
}

type usersCreateCmd struct {
	Email         string   `required:"" help:"Email address."`
	Name          string   `help:"Display name."`
	Role          []string `help:"Role to assign (repeatable)."`
	PasswordStdin bool     `name:"password-stdin" help:"Read the password as one line from stdin."`
	EmailVerified bool     `name:"email-verified" help:"Mark the email address as verified."`
}

// Run creates the user and prints its id. Without --password-stdin the user
// has no password (they sign in once one is set, or with a passkey).
func (c *usersCreateCmd) Run(e *env) error {
	var password string
	if c.PasswordStdin {
		pw, err := readLine(e.stdin)
		if err != nil {
			return err
		}
		if pw == "" {
			return errors.New("--password-stdin: no password on standard input")
		}
		password = pw
	}
	a, err := newApp(e.ctx, e.cfg, logging.Discard())
	if err != nil {
		return err
	}
	defer a.close()
	ctx := principal.With(e.ctx, principal.SystemPrincipal)
	if err := checkRoles(a, ctx, c.Role); err != nil {
		return err
	}
	u, err := a.identity.CreateUser(ctx, identity.NewUser{Email: c.Email, Name: c.Name, Password: password, Roles: c.Role,
		EmailVerified: c.EmailVerified})
	if err != nil {
		return cliError(err)
	}
	_, err = fmt.Fprintln(e.stdout, u.ID)
	return err
}

// readLine reads one line; the trailing "\n" or "\r\n" is not part of it.
func readLine(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("--password-stdin: no standard input")
	}
	line, err := bufio.NewReaderSize(r, 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

// cliError turns the identity module's errors into one plain line.
func cliError(err error) error {
	var ve *validation.Error
	switch {
	case errors.As(err, &ve):
		return fmt.Errorf("invalid %s: %s", ve.Field, ve.Message)
	case errors.Is(err, identity.ErrEmailTaken):
		return errors.New("a user with this email already exists")
	}
	return err
}
