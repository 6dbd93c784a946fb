-- +goose Up
-- incident_keys holds each incident's data key, wrapped by a
-- key-encryption key named by kek_id. Deleting a row shreds the incident:
-- nothing sealed with its key can be opened again.
CREATE TABLE incident_keys (
    incident_id text        PRIMARY KEY,
    kek_id      text        NOT NULL,
    wrapped     bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    rewrapped_at timestamptz
);
CREATE INDEX incident_keys_kek ON incident_keys (kek_id);

-- shredded remembers which incidents were shredded, so that no service
-- mints a fresh key for one and seals new personal data under it.
CREATE TABLE shredded (
    incident_id text        PRIMARY KEY,
    shredded_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE shredded;
DROP TABLE incident_keys;
