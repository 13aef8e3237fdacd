-- +goose Up
-- An authorization request belongs to the browser that started it
-- (CONTRACT "OpenID Connect"): browser_hash is the SHA-256 of that
-- browser's auth-session cookie, checked at /login, /consent and the
-- callback; code_issued_at makes the request yield at most one code.
-- Requests already pending have no binding and are refused (they live
-- minutes).
ALTER TABLE oidc_auth_requests ADD COLUMN browser_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_auth_requests ADD COLUMN code_issued_at DATETIME;

-- +goose Down
ALTER TABLE oidc_auth_requests DROP COLUMN code_issued_at;
ALTER TABLE oidc_auth_requests DROP COLUMN browser_hash;
