-- +goose Up
-- Each client chooses the algorithm of its access tokens: ES256 (the
-- default, cheapest to sign), RS256 or EdDSA (Ed25519, RFC 8037).
ALTER TABLE oidc_clients ADD COLUMN access_token_alg TEXT NOT NULL DEFAULT 'ES256';

-- +goose Down
ALTER TABLE oidc_clients DROP COLUMN access_token_alg;
