-- +goose Up
-- alarm holds each of escalation's sla.at_risk and sla.breached events that
-- delivery tells a manager about by the notice channels (contract.md section
-- 5: "Escalation's manager contacts are told by the same channels"): one row
-- per event, keyed by its id, so a redelivered event is told once. data is
-- the event's data, which names organisations and team mailboxes only.
CREATE TABLE alarm (
    event_id        text        PRIMARY KEY,
    notification_id uuid        NOT NULL,
    received_at     timestamptz NOT NULL,
    data            jsonb       NOT NULL
);

-- alarm_attempt is channel_attempt for alarms: one row per channel and
-- address, written with the alarm, updated after each try, so that a crash
-- after the provider's acceptance sends the same message (same Message-ID,
-- same Notify reference) again, never a different one.
CREATE TABLE alarm_attempt (
    event_id        text        NOT NULL REFERENCES alarm (event_id),
    channel         text        NOT NULL,
    address         text        NOT NULL,
    secret_ref      text        NOT NULL DEFAULT '',
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_at         timestamptz NOT NULL,
    last_error      text        NOT NULL DEFAULT '',
    accepted_at     timestamptz,
    provider_id     text        NOT NULL DEFAULT '',
    PRIMARY KEY (event_id, channel, address)
);
CREATE INDEX alarm_attempt_due ON alarm_attempt (next_at) WHERE state = 'pending';

-- +goose Down
DROP TABLE alarm_attempt;
DROP TABLE alarm;
