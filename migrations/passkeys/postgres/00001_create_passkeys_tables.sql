-- +goose Up
-- One row per registered WebAuthn credential (a passkey). credential_id is
-- the base64url (unpadded) credential id the authenticator chose; user_id is
-- the identity user, also used as the WebAuthn user handle.
CREATE TABLE passkeys_credentials (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL,
    credential_id      TEXT NOT NULL,
    public_key         BYTEA NOT NULL,
    sign_count         BIGINT NOT NULL DEFAULT 0,
    aaguid             TEXT NOT NULL DEFAULT '',
    transports         TEXT NOT NULL DEFAULT '',
    backup_eligible    BOOLEAN NOT NULL DEFAULT FALSE,
    backup_state       BOOLEAN NOT NULL DEFAULT FALSE,
    user_verified      BOOLEAN NOT NULL DEFAULT FALSE,
    attestation_type   TEXT NOT NULL DEFAULT '',
    attestation_format TEXT NOT NULL DEFAULT '',
    name               TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    last_used_at       TIMESTAMPTZ
);
CREATE UNIQUE INDEX passkeys_credentials_credential_id ON passkeys_credentials (credential_id);
CREATE INDEX passkeys_credentials_user ON passkeys_credentials (user_id, id);

-- A ceremony in progress. id is the hex SHA-256 of the random handle given
-- to the browser (the handle itself is never stored); the row is deleted by
-- the finish that uses it, so it works once, on any replica.
CREATE TABLE passkeys_challenges (
    id           TEXT PRIMARY KEY,
    user_id      TEXT,
    kind         TEXT NOT NULL,
    session_data TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX passkeys_challenges_expires ON passkeys_challenges (expires_at);

-- +goose Down
DROP TABLE passkeys_challenges;
DROP TABLE passkeys_credentials;
