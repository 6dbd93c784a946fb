-- +goose Up
-- entries is Lantern's append-only record of every event. Each entry's hash
-- covers the previous entry's hash, its own sequence number and the event
-- bytes, so any later update, deletion or reordering breaks the chain at the
-- first altered entry. Sequence numbers are assigned under the head lock, so
-- they have no gaps.
CREATE TABLE entries (
    seq          bigint      PRIMARY KEY,
    event_id     text        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    nats_subject text        NOT NULL,
    incident_id  text        NOT NULL,
    subject      text        NOT NULL DEFAULT '',
    actor        text        NOT NULL DEFAULT '',
    source       text        NOT NULL,
    event_time   timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL,
    event        bytea       NOT NULL,
    prev_hash    bytea       NOT NULL,
    hash         bytea       NOT NULL
);
CREATE INDEX entries_incident ON entries (incident_id, seq);

-- head is the single row holding the chain's last sequence number and hash.
-- Appends lock it, which serialises them into one total order.
CREATE TABLE head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint  NOT NULL,
    hash      bytea   NOT NULL
);
INSERT INTO head (seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- +goose Down
DROP TABLE head;
DROP TABLE entries;
