-- +goose Up
-- Bumped in the transaction of every change to a user's roles or status, so
-- every instance drops its cached roles of users within one poll interval.
ALTER TABLE authz_state ADD COLUMN roles_version BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE authz_state DROP COLUMN roles_version;
