-- +goose Up
CREATE TABLE apikeys_keys (
    id           TEXT PRIMARY KEY,
    public_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL DEFAULT '',
    secret_hash  TEXT NOT NULL,
    expires_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX apikeys_keys_public_id ON apikeys_keys (public_id);
CREATE INDEX apikeys_keys_user ON apikeys_keys (user_id, id DESC);

-- +goose Down
DROP TABLE apikeys_keys;
