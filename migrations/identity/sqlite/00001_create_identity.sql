-- +goose Up
CREATE TABLE identity_users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    username         TEXT,
    name             TEXT NOT NULL DEFAULT '',
    name_normalized  TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    email_verified   BOOLEAN NOT NULL DEFAULT FALSE,
    machine          BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash    TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    last_sign_in_at  DATETIME
);
CREATE UNIQUE INDEX identity_users_email ON identity_users (email_normalized);
CREATE UNIQUE INDEX identity_users_username ON identity_users (username);
CREATE INDEX identity_users_name ON identity_users (name_normalized, id);
CREATE INDEX identity_users_status ON identity_users (status, id);

CREATE TABLE identity_roles (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    built_in    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);

CREATE TABLE identity_user_roles (
    user_id    TEXT NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    role_name  TEXT NOT NULL REFERENCES identity_roles (name) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (user_id, role_name)
);
CREATE INDEX identity_user_roles_role ON identity_user_roles (role_name, user_id);

CREATE TABLE identity_setup_tokens (
    token_hash TEXT PRIMARY KEY,
    expires_at DATETIME NOT NULL,
    created_at DATETIME NOT NULL
);

INSERT INTO identity_roles (name, description, built_in, created_at, updated_at) VALUES
    ('admin', 'Full control of Gatehouse.', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('user-admin', 'Manages users, roles and role assignments (granting admin requires admin).', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('auditor', 'Reads everything, including the audit log; changes nothing.', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

-- +goose Down
DROP TABLE identity_setup_tokens;
DROP TABLE identity_user_roles;
DROP TABLE identity_roles;
DROP TABLE identity_users;
