-- +goose Up
-- The target filter with an id alone (?target=<id>, the console's "Target")
-- had no index that starts with target_id; this one serves it, and type:id
-- too (the type is checked on the few rows of that id), in list order.
DROP INDEX audit_events_target;
CREATE INDEX audit_events_target_id ON audit_events (target_id, time DESC, id DESC);

-- +goose Down
DROP INDEX audit_events_target_id;
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, time DESC);
