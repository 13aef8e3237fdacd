package signin

import (
	"context"
	"time"
)

// "Forgot password?" requests are limited three ways, all in the database
// so that every replica counts the same requests:
//
//   - per client address: each request counts against the sign-in limit
//     of its source (source_limit.go, 60 per minute);
//   - per typed email address: at most resetAddressLimit requests in any
//     resetAddressWindow (below), whether or not an account has that
//     address — the same sliding log as the source limit, under the key
//     kind "reset-email";
//   - per account: identity issues at most 3 reset links per account per
//     hour (identity.Service.RequestPasswordReset).
//
// A request over a limit other than the source's gets the same answer as
// one under it (the page says a link is on its way if the account exists),
// so the limits reveal nothing about which addresses have accounts.
const (
	resetAddressLimit  = 3
	resetAddressWindow = 15 * time.Minute
)

// resetAddressKey is the counter key of reset requests for an email
// address (normalized and hashed by throttleKey: the address is not stored).
func resetAddressKey(email string) string { return throttleKey("reset-email", email) }

// allowResetRequest counts a reset request for email and reports whether it
// is within the per-address limit.
func (p *Pages) allowResetRequest(ctx context.Context, email string) (bool, error) {
	wait, err := p.counter.hitWindow(ctx, resetAddressKey(email), resetAddressLimit, resetAddressWindow, p.now())
	return wait == 0, err
}
