-- +goose Up
-- inbox holds every notice delivered to a recipient organisation: one row per
-- notification, so a redelivered request can never deliver twice. Rows are
-- read only through the workspace, which records every read.
CREATE TABLE inbox (
    notification_id uuid        PRIMARY KEY,
    incident_id     uuid        NOT NULL,
    rule_id         text        NOT NULL,
    policy_version  text        NOT NULL,
    recipient_kind  text        NOT NULL,
    recipient_id    text        NOT NULL,
    recipient_name  text        NOT NULL,
    child_ids       text[]      NOT NULL,
    profile         text        NOT NULL,
    calendar        text        NOT NULL,
    lawful_basis    text        NOT NULL,
    due_at          timestamptz NOT NULL,
    requested_at    timestamptz NOT NULL,
    delivered_at    timestamptz NOT NULL,
    request         jsonb       NOT NULL
);
CREATE INDEX inbox_recipient ON inbox (recipient_kind, recipient_id, due_at);
CREATE INDEX inbox_incident ON inbox (incident_id);

-- +goose Down
DROP TABLE inbox;
