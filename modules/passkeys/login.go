package passkeys

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// BeginLogin starts a usernameless sign-in (§7.2 with an empty
// allowCredentials): any discoverable passkey of this RP may answer, and
// user verification is required. The same options serve a "Use passkey"
// button and conditional mediation (autofill); the script sets mediation.
func (s *Service) BeginLogin(ctx context.Context) (Ceremony, error) {
	assertion, sd, err := s.webauthn.BeginDiscoverableLogin(
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return Ceremony{}, fmt.Errorf("passkeys: begin login: %w", err)
	}
	return s.begin(ctx, kindLogin, "", assertion, sd)
}

// BeginReauth starts a re-authentication of userID (the "Confirm it's you"
// page): allowCredentials lists the user's passkeys and user verification
// is required. FinishLogin then accepts only a passkey of userID.
// ErrNotFound when the user has no passkey (ask for the password instead);
// ErrUserDisabled for a disabled user.
func (s *Service) BeginReauth(ctx context.Context, userID string) (Ceremony, error) {
	if _, err := s.activeUser(ctx, userID); err != nil {
		if errors.Is(err, ErrUnknownCredential) {
			return Ceremony{}, fmt.Errorf("%w: user %s", ErrNotFound, userID)
		}
		return Ceremony{}, err
	}
	rows, err := s.store.credentialsOf(ctx, userID)
	if err != nil {
		return Ceremony{}, err
	}
	if len(rows) == 0 {
		return Ceremony{}, fmt.Errorf("%w: the user has no passkey", ErrNotFound)
	}
	creds, err := toWebAuthnAll(rows)
	if err != nil {
		return Ceremony{}, err
	}
	assertion, sd, err := s.webauthn.BeginDiscoverableLogin(
		webauthn.WithUserVerification(protocol.VerificationRequired),
		webauthn.WithAllowedCredentials(webauthn.Credentials(creds).CredentialDescriptors()))
	if err != nil {
		return Ceremony{}, fmt.Errorf("passkeys: begin re-authentication: %w", err)
	}
	return s.begin(ctx, kindLogin, userID, assertion, sd)
}

// FinishLogin verifies the browser's assertion response body against the
// ceremony named by handle (§7.2): the credential must be registered, its
// userHandle must be its owner's id, the owner must be active (and be the
// user of a BeginReauth ceremony), and the signature, origin, RP ID hash,
// challenge and user-verification flag must verify. A signature counter
// that does not increase (both values non-zero, §6.1.1) is refused with
// ErrCloned and audited as a possible cloned authenticator.
//
// On success the sign count, backup state and last use are written, the
// ceremony is deleted and the sign-in audited, in one transaction. On any
// failure nothing about the passkey changes, the handle is spent and the
// refusal is audited. The caller creates the session.
func (s *Service) FinishLogin(ctx context.Context, handle string, body []byte) (LoginResult, error) {
	var res LoginResult
	var refusal audit.Event
	err := database.Transact(ctx, s.store.db, func(ctx context.Context) error {
		c, err := s.consumeCeremony(ctx, handle, kindLogin, "")
		if err != nil {
			return err
		}
		parsed, err := parseAssertion(body)
		if err != nil {
			return err
		}
		row, err := s.store.byCredentialID(ctx, encodeID(parsed.RawID))
		if errors.Is(err, ErrNotFound) {
			return ErrUnknownCredential
		}
		if err != nil {
			return err
		}
		refusal.Target = audit.Ref{Type: "passkey", ID: row.ID}
		refusal.Details = map[string]string{"user": row.UserID}
		if string(parsed.Response.UserHandle) != row.UserID {
			return fmt.Errorf("%w: the user handle does not match the passkey's owner", ErrVerification)
		}
		if c.userID != "" && c.userID != row.UserID {
			return fmt.Errorf("%w: the passkey belongs to another account", ErrVerification)
		}
		user, err := s.activeUser(ctx, row.UserID)
		if err != nil {
			return err
		}
		stored, err := row.toWebAuthn()
		if err != nil {
			return err
		}
		wu := newWAUser(user, []webauthn.Credential{stored})
		_, cred, err := s.webauthn.ValidatePasskeyLogin(
			func(_, _ []byte) (webauthn.User, error) { return wu, nil }, c.session, parsed)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrVerification, detail(err))
		}
		if cred.Authenticator.CloneWarning {
			refusal.Action = "passkey.clone_suspected"
			refusal.Details["stored_count"] = fmt.Sprint(row.SignCount)
			refusal.Details["received_count"] = fmt.Sprint(parsed.Response.AuthenticatorData.Counter)
			return ErrCloned
		}
		old := row.SignCount
		now := s.now()
		row.SignCount = int64(cred.Authenticator.SignCount)
		row.BackupState = cred.Flags.BackupState
		row.UserVerified = cred.Flags.UserVerified
		row.LastUsedAt = &now
		if err := s.store.recordUse(ctx, row, old); err != nil {
			return err
		}
		res = LoginResult{UserID: row.UserID, Passkey: row.toPasskey(), UserVerified: cred.Flags.UserVerified}
		return s.audit.Record(ctx, audit.Event{
			Action: "passkey.login", Actor: audit.Ref{Type: "user", ID: row.UserID},
			Target:  audit.Ref{Type: "passkey", ID: row.ID},
			Details: map[string]string{"user": row.UserID, "reauth": fmt.Sprint(c.userID != "")},
		})
	})
	if err != nil {
		if refusal.Action == "" {
			refusal.Action = "passkey.login"
		}
		if refusal.Details == nil {
			refusal.Details = map[string]string{}
		}
		refusal.Details["reason"] = err.Error()
		s.refuse(ctx, handle, refusal)
		return LoginResult{}, err
	}
	return res, nil
}

// parseAssertion decodes an assertion response (bounded; any decoding
// failure is ErrVerification).
func parseAssertion(body []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(body) == 0 || len(body) > MaxResponseBytes {
		return nil, fmt.Errorf("%w: empty or oversized response", ErrVerification)
	}
	p, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrVerification, detail(err))
	}
	return p, nil
}
