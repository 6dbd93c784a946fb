-- +goose Up
-- channels: the outbound channels that carried each delivered notice
-- (notification.delivered's channels: e-mail, GOV.UK Notify, webhook),
-- each with when it accepted the notice and the provider's id for the
-- message, which names no person.
CREATE TABLE channels (
    incident_id     text        NOT NULL,
    notification_id text        NOT NULL,
    channel         text        NOT NULL,
    accepted_at     timestamptz NOT NULL,
    provider_id     text        NOT NULL,
    PRIMARY KEY (notification_id, channel, provider_id, incident_id)
);
CREATE INDEX channels_incident ON channels (incident_id);
-- The new table is filled from the ledger: every incident is projected
-- again when the ledger service next starts.
UPDATE projected SET seq = 0;

-- +goose Down
DROP TABLE channels;
