package passkeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// MaxResponseBytes bounds a browser's credential JSON. Real responses are a
// few KB (attestation certificates included); more is refused unparsed.
const MaxResponseBytes = 64 << 10

// BeginRegistration starts adding a passkey for userID (§7.1): a
// discoverable credential (residentKey "required") with user verification
// required and attestation "none", excluding the user's existing
// credentials so an authenticator is not registered twice. The user must
// exist and be active.
func (s *Service) BeginRegistration(ctx context.Context, userID string) (Ceremony, error) {
	user, err := s.activeUser(ctx, userID)
	if errors.Is(err, ErrUnknownCredential) {
		return Ceremony{}, fmt.Errorf("%w: user %s", ErrNotFound, userID)
	}
	if err != nil {
		return Ceremony{}, err
	}
	rows, err := s.store.credentialsOf(ctx, userID)
	if err != nil {
		return Ceremony{}, err
	}
	creds, err := toWebAuthnAll(rows)
	if err != nil {
		return Ceremony{}, err
	}
	creation, sd, err := s.webauthn.BeginRegistration(newWAUser(user, creds),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
		webauthn.WithExclusions(webauthn.Credentials(creds).CredentialDescriptors()),
	)
	if err != nil {
		return Ceremony{}, fmt.Errorf("passkeys: begin registration: %w", err)
	}
	return s.begin(ctx, kindRegistration, userID, creation, sd)
}

// begin stores the ceremony and packages its options.
func (s *Service) begin(ctx context.Context, kind, userID string, options any, sd *webauthn.SessionData) (Ceremony, error) {
	raw, err := json.Marshal(options)
	if err != nil {
		return Ceremony{}, fmt.Errorf("passkeys: encode options: %w", err)
	}
	handle, err := s.saveCeremony(ctx, kind, userID, sd)
	if err != nil {
		return Ceremony{}, err
	}
	return Ceremony{Options: raw, Handle: handle}, nil
}

// FinishRegistration verifies the browser's attestation response body (the
// PublicKeyCredential's toJSON()) against the ceremony named by handle,
// which userID must have begun, and stores the passkey (audited; the user is
// mailed a notice in the same transaction). name may be empty:
// the authenticator's model name (from its AAGUID) or DefaultName is used.
//
// On any failure nothing is stored, the handle is spent, and the refusal is
// audited. Errors: ErrChallengeUnknown, ErrChallengeExpired,
// ErrVerification, ErrDuplicate, ErrUserDisabled, *validation.Error.
func (s *Service) FinishRegistration(ctx context.Context, userID, handle, name string, body []byte) (Passkey, error) {
	return s.FinishRegistrationThen(ctx, userID, handle, name, body, nil)
}

// FinishRegistrationThen is FinishRegistration that also runs then, when it
// is not nil, in the same transaction once the passkey is stored: when then
// fails, the passkey is not kept and the refusal is audited like any other.
// It is for a registration that something other than a session authorizes
// and that must be used up exactly when the passkey is added (an
// invitation link). ctx must not carry a transaction: the refusal is
// recorded in one of its own.
func (s *Service) FinishRegistrationThen(ctx context.Context, userID, handle, name string, body []byte, then func(ctx context.Context) error) (Passkey, error) {
	if name != "" {
		n, err := validName(name)
		if err != nil {
			return Passkey{}, err // the ceremony stays usable: the user may fix the name
		}
		name = n
	}
	var out credentialRow
	err := database.Transact(ctx, s.store.db, func(ctx context.Context) error {
		c, err := s.consumeCeremony(ctx, handle, kindRegistration, userID)
		if err != nil {
			return err
		}
		parsed, err := parseCreation(body)
		if err != nil {
			return err
		}
		user, err := s.activeUser(ctx, userID)
		if err != nil {
			return err
		}
		cred, err := s.webauthn.CreateCredential(newWAUser(user, nil), c.session, parsed)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrVerification, detail(err))
		}
		out, err = s.newRow(userID, name, cred)
		if err != nil {
			return err
		}
		if err := s.store.insertCredential(ctx, &out); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, audit.Event{
			Action: "passkey.register", Target: audit.Ref{Type: "passkey", ID: out.ID},
			Details: map[string]string{
				"user": userID, "name": out.Name, "aaguid": out.AAGUID,
				"credential_id": out.CredentialID, "backup_eligible": fmt.Sprint(out.BackupEligible),
			},
		}); err != nil {
			return err
		}
		if err := s.notify(ctx, user, fmt.Sprintf("A passkey named %q was added to your account.", out.Name)); err != nil {
			return err
		}
		if then == nil {
			return nil
		}
		return then(ctx)
	})
	if err != nil {
		s.refuse(ctx, handle, audit.Event{
			Action: "passkey.register", Target: audit.Ref{Type: "user", ID: userID},
			Details: map[string]string{"reason": err.Error()},
		})
		return Passkey{}, err
	}
	return out.toPasskey(), nil
}

func (s *Service) newRow(userID, name string, cred *webauthn.Credential) (credentialRow, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return credentialRow{}, fmt.Errorf("passkeys: new id: %w", err)
	}
	aaguid := aaguidString(cred.Authenticator.AAGUID)
	if name == "" {
		name = AuthenticatorName(aaguid)
	}
	return credentialRow{
		ID: id.String(), UserID: userID, CredentialID: encodeID(cred.ID),
		PublicKey: cred.PublicKey, SignCount: int64(cred.Authenticator.SignCount),
		AAGUID: aaguid, Transports: transportsString(cred.Transport),
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		UserVerified: cred.Flags.UserVerified, AttestationType: cred.AttestationType,
		AttestationFormat: cred.AttestationFormat, Name: name, CreatedAt: s.now(),
	}, nil
}

// parseCreation decodes an attestation response (bounded; any decoding
// failure is ErrVerification, never a panic or a 500).
func parseCreation(body []byte) (*protocol.ParsedCredentialCreationData, error) {
	if len(body) == 0 || len(body) > MaxResponseBytes {
		return nil, fmt.Errorf("%w: empty or oversized response", ErrVerification)
	}
	p, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrVerification, detail(err))
	}
	return p, nil
}

// detail is a library error's explanation, for logs and the audit event.
func detail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.DevInfo != "" {
			return pe.Details + ": " + pe.DevInfo
		}
		return pe.Details
	}
	return err.Error()
}
