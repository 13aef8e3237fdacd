package passkeys

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/modules/identity"
)

// waUser adapts an identity user and their credentials to go-webauthn. The
// WebAuthn user handle is the user's id (a UUIDv7, 36 bytes, no personal
// data; §5.4.3 allows up to 64 bytes), so a discoverable assertion's
// userHandle names the user directly.
type waUser struct {
	id, name, display string
	creds             []webauthn.Credential
}

func newWAUser(u identity.User, creds []webauthn.Credential) *waUser {
	name := u.Email
	if name == "" {
		name = u.Username
	}
	display := u.Name
	if display == "" {
		display = name
	}
	return &waUser{id: u.ID, name: name, display: display, creds: creds}
}

func (u *waUser) WebAuthnID() []byte                         { return []byte(u.id) }
func (u *waUser) WebAuthnName() string                       { return u.name }
func (u *waUser) WebAuthnDisplayName() string                { return u.display }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// encodeID is the stored form of a credential id.
func encodeID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

// toWebAuthn rebuilds the library's credential record from a row.
func (r credentialRow) toWebAuthn() (webauthn.Credential, error) {
	id, err := base64.RawURLEncoding.DecodeString(r.CredentialID)
	if err != nil {
		return webauthn.Credential{}, fmt.Errorf("passkeys: stored credential id %s: %w", r.ID, err)
	}
	c := webauthn.Credential{
		ID: id, PublicKey: r.PublicKey,
		AttestationType: r.AttestationType, AttestationFormat: r.AttestationFormat,
		Flags: webauthn.CredentialFlags{
			UserPresent: true, UserVerified: r.UserVerified,
			BackupEligible: r.BackupEligible, BackupState: r.BackupState,
		},
		Authenticator: webauthn.Authenticator{SignCount: uint32(r.SignCount)},
	}
	if r.AAGUID != "" {
		if a, err := uuid.Parse(r.AAGUID); err == nil {
			c.Authenticator.AAGUID = a[:]
		}
	}
	for _, t := range strings.Split(r.Transports, ",") {
		if t != "" {
			c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
		}
	}
	return c, nil
}

func toWebAuthnAll(rows []credentialRow) ([]webauthn.Credential, error) {
	out := make([]webauthn.Credential, 0, len(rows))
	for _, r := range rows {
		c, err := r.toWebAuthn()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// aaguidString renders an AAGUID as canonical UUID text ("" if malformed).
func aaguidString(b []byte) string {
	a, err := uuid.FromBytes(b)
	if err != nil {
		return ""
	}
	return a.String()
}

// transportsString joins transports for the row, dropping values with a
// comma (not a valid transport) so the list splits back the same.
func transportsString(ts []protocol.AuthenticatorTransport) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		if s := string(t); s != "" && !strings.Contains(s, ",") && len(s) <= 32 {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ",")
}
