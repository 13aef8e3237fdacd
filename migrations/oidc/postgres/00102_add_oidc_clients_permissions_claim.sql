-- +goose Up
-- Per-client option: put the user's permissions (authz PermissionsFor) in
-- the ID token, the access token and userinfo as a "permissions" claim.
ALTER TABLE oidc_clients ADD COLUMN permissions_claim BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE oidc_clients DROP COLUMN permissions_claim;
