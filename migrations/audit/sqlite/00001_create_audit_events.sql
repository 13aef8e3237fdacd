-- +goose Up
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    time        DATETIME NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_time ON audit_events (time DESC, id DESC);
CREATE INDEX audit_events_actor ON audit_events (actor_id, time DESC);
CREATE INDEX audit_events_action ON audit_events (action, time DESC);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, time DESC);

-- +goose Down
DROP TABLE audit_events;
