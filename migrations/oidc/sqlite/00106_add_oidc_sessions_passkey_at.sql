-- +goose Up
-- passkey_at is when a passkey was last proven in the session. Step-up
-- (acr_values=phr) needs a passkey proven during the authorization request;
-- auth_time alone cannot tell, since a later password sign-in also moves it
-- while amr keeps the earlier hwk.
ALTER TABLE oidc_sessions ADD COLUMN passkey_at DATETIME;

-- +goose Down
ALTER TABLE oidc_sessions DROP COLUMN passkey_at;
