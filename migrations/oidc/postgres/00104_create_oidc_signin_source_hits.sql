-- +goose Up
-- The per-source sign-in limit is a sliding log (CONTRACT "Sign-in
-- protection": at most 60 attempts in any 60 seconds): one row per accepted
-- attempt, at_ms in Unix milliseconds. source_key is the SHA-256 of the
-- address's rate key (an IPv6 client's /64). The row of
-- oidc_signin_attempts with the same source_key is the per-source lock the
-- deciding transaction takes first, so concurrent attempts from one source
-- (on any replica) are decided one after another.
CREATE TABLE oidc_signin_source_hits (
    source_key TEXT NOT NULL,
    at_ms      BIGINT NOT NULL
);
CREATE INDEX oidc_signin_source_hits_key_at ON oidc_signin_source_hits (source_key, at_ms);
CREATE INDEX oidc_signin_source_hits_at ON oidc_signin_source_hits (at_ms);

-- +goose Down
DROP TABLE oidc_signin_source_hits;
