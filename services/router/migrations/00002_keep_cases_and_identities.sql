-- +goose Up
-- The full routing policy needs three things the first schema lacked.
--
-- cases keeps, for each routed incident, only what the rules that wait for
-- the MASH's triage decision need to build their health notices (R11, R12,
-- R14): never the narrative, the DASH answers, the officer or other adults.
CREATE TABLE cases (
    incident_id          uuid        PRIMARY KEY,
    occurred_at          timestamptz NOT NULL,
    received_at          timestamptz NOT NULL,
    local_authority_code text        NOT NULL,
    default_rag          text        NOT NULL CHECK (default_rag IN ('red', 'amber', 'green')),
    repeat_children      text[]      NOT NULL DEFAULT '{}',
    incident             jsonb       NOT NULL,
    policy_version       text        NOT NULL,
    recorded_at          timestamptz NOT NULL
);

-- identity_keys lets the router count repeat incidents of the same child or
-- the same two adults (R16, R17) without storing who they are: each key is a
-- keyed hash of an NHS number, of a name and date of birth, or of a pair of
-- adults. nhs_known marks a name key whose child also had an NHS number, so
-- that a later incident with a different NHS number is not matched on the
-- name alone.
CREATE TABLE identity_keys (
    key_kind    text        NOT NULL CHECK (key_kind IN ('child_nhs', 'child_name', 'pair')),
    key_hash    text        NOT NULL,
    incident_id uuid        NOT NULL,
    occurred_at timestamptz NOT NULL,
    nhs_known   boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (key_kind, key_hash, incident_id)
);
CREATE INDEX identity_keys_lookup ON identity_keys (key_kind, key_hash, occurred_at);

-- send_by is R8's latest send time and policy_digest the exact policy text
-- behind each decision, both kept for the audit of a notice.
ALTER TABLE notifications
    ADD COLUMN send_by       timestamptz,
    ADD COLUMN policy_digest text;

-- +goose Down
ALTER TABLE notifications DROP COLUMN policy_digest, DROP COLUMN send_by;
DROP TABLE identity_keys;
DROP TABLE cases;
