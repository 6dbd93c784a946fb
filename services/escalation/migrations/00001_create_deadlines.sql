-- +goose Up
-- notifications gathers, fact by fact, what the escalation service has heard
-- of each notice. The events that tell it arrive in any order (a delivery or
-- an acknowledgement can be seen before the request it answers, after a
-- replay or a redelivery), so every fact is kept as it comes and the
-- requested_* columns stay empty until notification.requested arrives. No
-- notice content is kept: deadlines need none of it.
CREATE TABLE notifications (
    notification_id uuid        PRIMARY KEY,
    incident_id     uuid        NOT NULL,
    requested_at    timestamptz,
    rule_id         text,
    recipient_kind  text,
    recipient_id    text,
    recipient_name  text,
    recipient_email text,
    due_at          timestamptz,
    -- The RAG rating the router proposed to the MASH, which sets the length
    -- of the triage deadline; empty for other recipients.
    default_rag     text,
    delivered_at    timestamptz,
    acknowledged_at timestamptz,
    CHECK ((requested_at IS NULL) = (rule_id IS NULL)),
    CHECK ((requested_at IS NULL) = (recipient_kind IS NULL)),
    CHECK ((requested_at IS NULL) = (due_at IS NULL))
);
CREATE INDEX notifications_incident ON notifications (incident_id);

-- triage_decisions holds the earliest triage decision seen for each incident.
-- It completes the triage step of every MASH notice of the incident, whether
-- that step exists yet or is only made when a late request arrives.
CREATE TABLE triage_decisions (
    incident_id uuid        PRIMARY KEY,
    decided_at  timestamptz NOT NULL
);

-- steps are the deadlines being watched: one row per notice and step. They
-- live here rather than in a timer so that a restart loses none: the
-- scheduler finds every deadline that passed while it was down. state only
-- moves forward (watching, at_risk, breached) and changes in the same
-- transaction that puts the matching event in the outbox, so each event is
-- raised exactly once. The deadline is fixed when the step is made; a later
-- change of reference data does not move it.
CREATE TABLE steps (
    notification_id uuid        NOT NULL REFERENCES notifications,
    step            text        NOT NULL CHECK (step IN ('delivery', 'acknowledgement', 'triage')),
    rule_id         text        NOT NULL,
    starts_at       timestamptz NOT NULL,
    at_risk_at      timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    state           text        NOT NULL DEFAULT 'watching' CHECK (state IN ('watching', 'at_risk', 'breached')),
    -- When the step was done, as the event that did it says; the earliest
    -- such time wins.
    done_at         timestamptz,
    PRIMARY KEY (notification_id, step),
    CHECK (at_risk_at <= due_at)
);
-- The scheduler's two questions, each answered from a small partial index:
-- which open steps have reached their at-risk time, and which at-risk steps
-- have passed their deadline.
CREATE INDEX steps_awaiting_at_risk ON steps (at_risk_at) WHERE done_at IS NULL AND state = 'watching';
CREATE INDEX steps_awaiting_breach ON steps (due_at) WHERE done_at IS NULL AND state = 'at_risk';

-- escalations records each time a recipient organisation's manager was
-- told about a step: one row per SLA event raised, with the contact it named
-- and where that contact came from, so that an auditor can see who was
-- warned and on what authority.
CREATE TABLE escalations (
    event_id        uuid        PRIMARY KEY,
    notification_id uuid        NOT NULL,
    step            text        NOT NULL,
    level           text        NOT NULL CHECK (level IN ('at_risk', 'breached')),
    due_at          timestamptz NOT NULL,
    observed_at     timestamptz NOT NULL,
    manager_name    text,
    manager_contact text,
    contact_source  text        NOT NULL,
    UNIQUE (notification_id, step, level),
    FOREIGN KEY (notification_id, step) REFERENCES steps
);

-- +goose Down
DROP TABLE escalations;
DROP TABLE steps;
DROP TABLE triage_decisions;
DROP TABLE notifications;
