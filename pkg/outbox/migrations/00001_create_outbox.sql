-- +goose Up
-- The outbox holds every event a service has decided to publish, written in
-- the same transaction as the state change that caused it, so that an event
-- is published if and only if its cause was committed.
CREATE TABLE outbox (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     text        NOT NULL UNIQUE,
    subject      text        NOT NULL,
    -- The CloudEvent in JSON structured form, byte for byte as built.
    event        bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- consumed_events records every event this service has applied, in the same
-- transaction as its effects, so a redelivered event changes nothing.
CREATE TABLE consumed_events (
    consumer    text        NOT NULL,
    event_id    text        NOT NULL,
    consumed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- +goose Down
DROP TABLE consumed_events;
DROP TABLE outbox;
