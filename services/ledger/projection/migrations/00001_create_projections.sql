-- +goose Up
-- The audit schema holds read models derived from the ledger by the code
-- in services/ledger/projection. Every row can be rebuilt from the events, so these
-- tables are evidence only in so far as their digest matches a replay.
-- They hold identifiers, times and counts, never personal data.

-- incidents: what the timeliness report counts about each incident.
CREATE TABLE incidents (
    incident_id                text        PRIMARY KEY,
    received_at                timestamptz NOT NULL,
    occurred_at                timestamptz NOT NULL,
    force_code                 text        NOT NULL,
    local_authority            text        NOT NULL,
    dash_level                 text        NOT NULL,
    child_ids                  text[]      NOT NULL,
    children_present           integer     NOT NULL,
    children_with_voice        integer     NOT NULL,
    unborn_victim              boolean     NOT NULL,
    same_parties_incidents_12m integer     NOT NULL
);
CREATE INDEX incidents_received ON incidents (received_at);

-- steps: every event of every incident's timeline.
CREATE TABLE steps (
    incident_id     text        NOT NULL,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    event_time      timestamptz NOT NULL,
    at              timestamptz NOT NULL,
    actor           text        NOT NULL,
    notification_id text        NOT NULL,
    recipient_kind  text        NOT NULL,
    recipient_id    text        NOT NULL,
    rule_id         text        NOT NULL,
    child_ids       text[]      NOT NULL,
    due_at          timestamptz,
    sla_step        text        NOT NULL,
    PRIMARY KEY (incident_id, event_id)
);

-- notifications: each recipient's notice and the state of its deadline.
CREATE TABLE notifications (
    notification_id text        NOT NULL,
    incident_id     text        NOT NULL,
    rule_id         text        NOT NULL,
    policy_version  text        NOT NULL,
    recipient_kind  text        NOT NULL,
    recipient_id    text        NOT NULL,
    recipient_name  text        NOT NULL,
    child_ids       text[]      NOT NULL,
    calendar        text        NOT NULL,
    profile         text        NOT NULL,
    repeat          boolean     NOT NULL,
    requested_at    timestamptz,
    due_at          timestamptz,
    watched_step    text        NOT NULL,
    delivered_at    timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text        NOT NULL,
    failed_at       timestamptz,
    failure_reason  text        NOT NULL,
    state           text        NOT NULL,
    outcome         text        NOT NULL,
    PRIMARY KEY (notification_id, incident_id)
);
CREATE INDEX notifications_incident ON notifications (incident_id);
CREATE INDEX notifications_requested ON notifications (requested_at);

-- inbox: the notices that reached each recipient.
CREATE TABLE inbox (
    recipient_kind  text        NOT NULL,
    recipient_id    text        NOT NULL,
    notification_id text        NOT NULL,
    incident_id     text        NOT NULL,
    rule_id         text        NOT NULL,
    delivered_at    timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text        NOT NULL,
    PRIMARY KEY (recipient_kind, recipient_id, notification_id, incident_id)
);
CREATE INDEX inbox_incident ON inbox (incident_id);

-- triage: every MASH decision; whether a reason was given, not the reason.
CREATE TABLE triage (
    event_id        text        PRIMARY KEY,
    incident_id     text        NOT NULL,
    notification_id text        NOT NULL,
    rag             text        NOT NULL,
    default_rag     text        NOT NULL,
    decision        text        NOT NULL,
    overridden      boolean     NOT NULL,
    reason_given    boolean     NOT NULL,
    decided_at      timestamptz NOT NULL,
    decided_by      text        NOT NULL
);
CREATE INDEX triage_incident ON triage (incident_id);

-- breaches: every deadline breach the escalation service recorded.
CREATE TABLE breaches (
    event_id        text        PRIMARY KEY,
    notification_id text        NOT NULL,
    incident_id     text        NOT NULL,
    rule_id         text        NOT NULL,
    recipient_kind  text        NOT NULL,
    step            text        NOT NULL,
    due_at          timestamptz,
    observed_at     timestamptz NOT NULL
);
CREATE INDEX breaches_incident ON breaches (incident_id);

-- projected is the ledger sequence number the tables are current to, so
-- that a ledger service that was down, or older, catches up at start.
CREATE TABLE projected (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint  NOT NULL
);
INSERT INTO projected (seq) VALUES (0);

-- +goose Down
DROP TABLE projected;
DROP TABLE breaches;
DROP TABLE triage;
DROP TABLE inbox;
DROP TABLE notifications;
DROP TABLE steps;
DROP TABLE incidents;
