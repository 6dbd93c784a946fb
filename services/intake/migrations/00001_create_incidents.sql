-- +goose Up
-- incidents holds every Public Protection Notice intake has accepted. The
-- natural key (force_code, police_reference) and the optional
-- Idempotency-Key are unique so that a repeat can never create a second
-- incident, even when two copies arrive at the same instant.
CREATE TABLE incidents (
    incident_id      uuid        PRIMARY KEY,
    force_code       text        NOT NULL,
    police_reference text        NOT NULL,
    idempotency_key  text        UNIQUE,
    content_hash     text        NOT NULL,
    ppn              jsonb       NOT NULL,
    received_at      timestamptz NOT NULL,
    UNIQUE (force_code, police_reference)
);

-- +goose Down
DROP TABLE incidents;
