-- +goose Up
-- resource is the API (RFC 8707 identifier) the authorization request named:
-- a refresh of the grant gives access tokens for it without repeating
-- resource= (RFC 8707 §2.2). Empty: the grant is not bound to an API.
ALTER TABLE oidc_refresh_tokens ADD COLUMN resource TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oidc_refresh_tokens DROP COLUMN resource;
