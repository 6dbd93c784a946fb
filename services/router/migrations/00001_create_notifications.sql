-- +goose Up
-- notifications records every routing decision: one row per recipient per
-- incident. The primary key is derived from (incident, rule, recipient), so
-- the same decision taken twice cannot produce a second notice.
CREATE TABLE notifications (
    notification_id uuid        PRIMARY KEY,
    incident_id     uuid        NOT NULL,
    rule_id         text        NOT NULL,
    policy_version  text        NOT NULL,
    recipient_kind  text        NOT NULL,
    recipient_id    text        NOT NULL,
    due_at          timestamptz NOT NULL,
    requested_at    timestamptz NOT NULL
);
CREATE INDEX notifications_incident ON notifications (incident_id);

-- +goose Down
DROP TABLE notifications;
