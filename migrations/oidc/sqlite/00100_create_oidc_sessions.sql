-- +goose Up
-- Browser sessions of the sign-in pages. The cookie holds a random value;
-- only its SHA-256 (token_hash) is stored. id is the public session id (the
-- ID token's sid).
CREATE TABLE oidc_sessions (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    auth_time    DATETIME NOT NULL,
    amr          TEXT NOT NULL DEFAULT '',
    acr          TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    expires_at   DATETIME NOT NULL
);
CREATE INDEX oidc_sessions_user ON oidc_sessions (user_id);
CREATE INDEX oidc_sessions_expires ON oidc_sessions (expires_at);

-- Remembered consent: the union of scopes a user allowed a client.
CREATE TABLE oidc_consents (
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- +goose Down
DROP TABLE oidc_consents;
DROP TABLE oidc_sessions;
