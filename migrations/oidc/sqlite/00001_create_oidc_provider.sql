-- +goose Up
CREATE TABLE oidc_clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    public                    BOOLEAN NOT NULL DEFAULT FALSE,
    first_party               BOOLEAN NOT NULL DEFAULT FALSE,
    redirect_uris             TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    grant_types               TEXT NOT NULL DEFAULT '[]',
    scopes                    TEXT NOT NULL DEFAULT '[]',
    access_token_ttl          INTEGER NOT NULL DEFAULT 0,
    id_token_ttl              INTEGER NOT NULL DEFAULT 0,
    refresh_token_ttl         INTEGER NOT NULL DEFAULT 0,
    refresh_token_idle_ttl    INTEGER NOT NULL DEFAULT 0,
    id_token_alg              TEXT NOT NULL DEFAULT 'RS256',
    created_at                DATETIME NOT NULL,
    updated_at                DATETIME NOT NULL
);

CREATE TABLE oidc_client_secrets (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME
);
CREATE INDEX oidc_client_secrets_client ON oidc_client_secrets (client_id);

CREATE TABLE oidc_auth_requests (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    request    TEXT NOT NULL,
    authn      TEXT NOT NULL DEFAULT '',
    done       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_codes (
    code_hash       TEXT PRIMARY KEY,
    auth_request_id TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    grant_id        TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL,
    redeemed_at     DATETIME
);
CREATE INDEX oidc_codes_expires ON oidc_codes (expires_at);

CREATE TABLE oidc_refresh_tokens (
    id                TEXT PRIMARY KEY,
    token_hash        TEXT NOT NULL UNIQUE,
    family_id         TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    session_id        TEXT NOT NULL DEFAULT '',
    scopes            TEXT NOT NULL DEFAULT '[]',
    amr               TEXT NOT NULL DEFAULT '[]',
    acr               TEXT NOT NULL DEFAULT '',
    auth_time         DATETIME NOT NULL,
    created_at        DATETIME NOT NULL,
    expires_at        DATETIME NOT NULL,
    family_expires_at DATETIME NOT NULL,
    used_at           DATETIME,
    revoked_at        DATETIME
);
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (family_id);
CREATE INDEX oidc_refresh_tokens_user ON oidc_refresh_tokens (user_id);
CREATE INDEX oidc_refresh_tokens_expires ON oidc_refresh_tokens (family_expires_at);

CREATE TABLE oidc_revoked_tokens (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    revoked_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX oidc_revoked_tokens_revoked ON oidc_revoked_tokens (revoked_at);

CREATE TABLE oidc_signing_keys (
    id          TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    retired_at  DATETIME,
    expires_at  DATETIME
);

-- +goose Down
DROP TABLE oidc_signing_keys;
DROP TABLE oidc_revoked_tokens;
DROP TABLE oidc_refresh_tokens;
DROP TABLE oidc_codes;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_client_secrets;
DROP TABLE oidc_clients;
