-- +goose Up
-- Sign-in protection counters, shared by every replica. Times are Unix
-- seconds so that the atomic upserts compare them the same way on both
-- dialects. Keys are SHA-256 of the normalized login identifier or source
-- address, so typed identifiers (sometimes passwords) are not stored.
CREATE TABLE oidc_signin_failures (
    login_key       TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL DEFAULT 0,
    locks           INTEGER NOT NULL DEFAULT 0,
    locked_until    BIGINT NOT NULL DEFAULT 0,
    last_failure_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX oidc_signin_failures_last ON oidc_signin_failures (last_failure_at);

CREATE TABLE oidc_signin_attempts (
    source_key   TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX oidc_signin_attempts_window ON oidc_signin_attempts (window_start);

-- +goose Down
DROP TABLE oidc_signin_attempts;
DROP TABLE oidc_signin_failures;
