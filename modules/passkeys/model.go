package passkeys

import (
	"encoding/json"
	"time"
)

// Passkey is a registered WebAuthn credential as other code sees it: never
// the public key bytes or the counter's history.
type Passkey struct {
	ID           string // UUIDv7; the {id} of the account routes
	UserID       string
	Name         string
	CredentialID string // base64url (unpadded), as the browser reports it
	// AAGUID names the authenticator model ("" or the nil UUID when the
	// authenticator does not say).
	AAGUID          string
	Transports      []string // e.g. "internal", "hybrid", "usb"
	BackupEligible  bool     // a synced passkey (may exist on several devices)
	BackupState     bool     // currently backed up
	UserVerified    bool     // the last ceremony verified the user
	AttestationType string
	SignCount       uint32
	CreatedAt       time.Time
	LastUsedAt      *time.Time
}

// Ceremony is what a Begin method returns: the options for the browser and
// the handle that names this ceremony. The handle is a bearer secret of 256
// bits; only its SHA-256 is stored. The caller hands it to the browser (in
// the begin response) and back to the matching Finish method.
//
// Options is what the browser passes to navigator.credentials.create() or
// .get(): {"publicKey": {...}} in the WebAuthn JSON encoding (binary values
// base64url), ready for PublicKeyCredential.parseCreationOptionsFromJSON /
// parseRequestOptionsFromJSON after taking .publicKey.
type Ceremony struct {
	Options json.RawMessage `json:"options"`
	Handle  string          `json:"handle"`
}

// LoginResult is what FinishLogin returns on success.
type LoginResult struct {
	UserID  string
	Passkey Passkey
	// UserVerified is true when the authenticator verified the user (always
	// true on success: verification is required), so the sign-in may claim
	// amr ["hwk", "user"] and acr "phr".
	UserVerified bool
}
