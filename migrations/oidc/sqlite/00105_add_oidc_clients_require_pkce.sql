-- +goose Up
-- PKCE is required for every client using the code flow (RFC 9700 §2.1.1);
-- a confidential client may opt out (legacy apps), a public one never.
-- Existing clients are required too.
ALTER TABLE oidc_clients ADD COLUMN require_pkce BOOLEAN NOT NULL DEFAULT TRUE;

-- +goose Down
ALTER TABLE oidc_clients DROP COLUMN require_pkce;
