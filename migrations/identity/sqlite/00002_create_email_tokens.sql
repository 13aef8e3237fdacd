-- +goose Up
CREATE TABLE identity_email_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('invite', 'reset', 'verify')),
    new_email  TEXT NOT NULL DEFAULT '',
    expires_at DATETIME NOT NULL,
    used_at    DATETIME,
    created_at DATETIME NOT NULL
);
CREATE INDEX identity_email_tokens_user ON identity_email_tokens (user_id, kind, created_at);

-- +goose Down
DROP TABLE identity_email_tokens;
