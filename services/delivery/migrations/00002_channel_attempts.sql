-- +goose Up
-- channel_attempt holds one row for every channel and address a notice is
-- sent to besides the inbox (contract.md section 5): written in the same
-- transaction as the inbox row, so a notice accepted is never forgotten by
-- its channels, and updated after each attempt, so that a crash between a
-- provider's acceptance and the commit sends the same message again (same
-- Message-ID, same webhook-id), never a different one. A notice is
-- delivered when every one of its rows is accepted.
CREATE TABLE channel_attempt (
    notification_id uuid        NOT NULL REFERENCES inbox (notification_id),
    channel         text        NOT NULL,
    address         text        NOT NULL,
    secret_ref      text        NOT NULL DEFAULT '',
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    -- next_at is when the row is next due: held until the recipient's
    -- hours, pushed back by backoff after a failure, and leased forward
    -- while an attempt is in flight.
    next_at         timestamptz NOT NULL,
    last_error      text        NOT NULL DEFAULT '',
    accepted_at     timestamptz,
    provider_id     text        NOT NULL DEFAULT '',
    PRIMARY KEY (notification_id, channel, address)
);
CREATE INDEX channel_attempt_due ON channel_attempt (next_at) WHERE state = 'pending';

-- +goose Down
DROP TABLE channel_attempt;
