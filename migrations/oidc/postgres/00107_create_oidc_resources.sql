-- +goose Up
-- APIs (resource servers, RFC 8707): an absolute-URI identifier that becomes
-- the aud of tokens issued for it, its scopes, and the clients registered
-- for it (those may introspect its tokens, RFC 7662 §4).
CREATE TABLE oidc_resources (
    id          TEXT PRIMARY KEY,
    identifier  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL DEFAULT '[]',
    client_ids  TEXT NOT NULL DEFAULT '[]',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE oidc_resources;
