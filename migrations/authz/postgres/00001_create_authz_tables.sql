-- +goose Up
CREATE TABLE authz_policies (
    id         TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    resource   TEXT NOT NULL,
    action     TEXT NOT NULL,
    effect     TEXT NOT NULL,
    condition  TEXT NOT NULL DEFAULT '',
    built_in   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX authz_policies_rule ON authz_policies (subject, resource, action, effect, condition);
CREATE INDEX authz_policies_resource ON authz_policies (resource);

CREATE TABLE authz_role_parents (
    role       TEXT NOT NULL,
    parent     TEXT NOT NULL,
    built_in   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (role, parent)
);

CREATE TABLE authz_state (
    id      INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO authz_state (id, version) VALUES (1, 1);

-- Gatehouse's own built-in rules (cannot be deleted through the API).
INSERT INTO authz_policies (id, subject, resource, action, effect, condition, built_in, created_at) VALUES
    ('00000000-0000-7000-8000-000000000001', 'role:admin',      '*:*',         '*',      'allow', '', TRUE, CURRENT_TIMESTAMP),
    ('00000000-0000-7000-8000-000000000002', 'role:user-admin', 'users:*',     '*',      'allow', '', TRUE, CURRENT_TIMESTAMP),
    ('00000000-0000-7000-8000-000000000003', 'role:user-admin', 'roles:*',     '*',      'allow', '', TRUE, CURRENT_TIMESTAMP),
    ('00000000-0000-7000-8000-000000000004', 'role:user-admin', 'roles:admin', 'assign', 'deny',  '!(''admin'' IN r.sub.roles)', TRUE, CURRENT_TIMESTAMP),
    ('00000000-0000-7000-8000-000000000005', 'role:auditor',    '*:*',         'read',   'allow', '', TRUE, CURRENT_TIMESTAMP);

-- +goose Down
DROP TABLE authz_state;
DROP TABLE authz_role_parents;
DROP TABLE authz_policies;
