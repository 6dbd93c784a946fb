-- +goose Up
-- The workspace's projection of the events it consumes. Every table here can
-- be rebuilt by replaying the event stream from the start, so none of it is
-- the system of record: the events are.

-- notices holds each notice requested for a recipient, with the minimised
-- content that recipient may see, exactly as the router built it.
CREATE TABLE notices (
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
    purpose         text        NOT NULL,
    repeat          boolean     NOT NULL,
    flags           text[]      NOT NULL,
    notice          jsonb       NOT NULL,
    occurred_at     timestamptz NOT NULL,
    requested_at    timestamptz NOT NULL,
    due_at          timestamptz NOT NULL
);
CREATE INDEX notices_recipient ON notices (recipient_kind, recipient_id, due_at);
CREATE INDEX notices_incident ON notices (incident_id);

-- deliveries says when each notice reached its recipient's inbox. It is a
-- table of its own so that a delivery applied before its request (after a
-- redelivery) is kept, not lost.
CREATE TABLE deliveries (
    notification_id uuid        PRIMARY KEY,
    delivered_at    timestamptz NOT NULL,
    channel         text        NOT NULL
);

-- acknowledgements holds the one acknowledgement of a notice: the primary
-- key makes a second press, a retried request or a replayed event change
-- nothing.
CREATE TABLE acknowledgements (
    notification_id uuid        PRIMARY KEY,
    incident_id     uuid        NOT NULL,
    acknowledged_at timestamptz NOT NULL,
    user_id         text        NOT NULL,
    role            text        NOT NULL,
    event_id        uuid        NOT NULL UNIQUE
);

-- triage_decisions holds the MASH's one decision on an incident.
CREATE TABLE triage_decisions (
    incident_id     uuid        PRIMARY KEY,
    notification_id uuid        NOT NULL,
    rag             text        NOT NULL,
    default_rag     text        NOT NULL,
    rag_reason      text        NOT NULL,
    decision        text        NOT NULL,
    decided_at      timestamptz NOT NULL,
    user_id         text        NOT NULL,
    role            text        NOT NULL,
    event_id        uuid        NOT NULL UNIQUE
);

-- mash_people indexes the people of every full (profile A) MASH notice, so
-- that the MASH sees its own earlier incidents about the same people. Names
-- are kept normalised for matching only; the notice holds them as sent.
CREATE TABLE mash_people (
    notification_id uuid        NOT NULL,
    incident_id     uuid        NOT NULL,
    recipient_id    text        NOT NULL,
    person_id       text        NOT NULL,
    name_key        text        NOT NULL,
    date_of_birth   text        NOT NULL,
    nhs_number      text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    PRIMARY KEY (notification_id, person_id)
);
CREATE INDEX mash_people_nhs ON mash_people (recipient_id, nhs_number) WHERE nhs_number <> '';
CREATE INDEX mash_people_name ON mash_people (recipient_id, name_key, date_of_birth) WHERE date_of_birth <> '';

-- +goose Down
DROP TABLE mash_people;
DROP TABLE triage_decisions;
DROP TABLE acknowledgements;
DROP TABLE deliveries;
DROP TABLE notices;
