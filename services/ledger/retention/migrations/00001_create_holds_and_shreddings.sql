-- +goose Up
-- holds keeps an incident's personal data past its retention: a MASH
-- manager or an auditor placed it, with a reason, and it stands until
-- released. Releases are kept, so the record of every hold remains.
CREATE TABLE holds (
    id          bigserial   PRIMARY KEY,
    incident_id text        NOT NULL,
    held_by     text        NOT NULL,
    role        text        NOT NULL CHECK (role IN ('mash_manager', 'auditor')),
    reason      text        NOT NULL CHECK (reason <> ''),
    held_at     timestamptz NOT NULL,
    released_by text,
    released_at timestamptz
);
CREATE UNIQUE INDEX holds_open ON holds (incident_id) WHERE released_at IS NULL;

-- shreddings records each incident shredded, once: the primary key makes
-- a second run, or a second scheduler, shred nothing twice.
CREATE TABLE shreddings (
    incident_id text        PRIMARY KEY,
    due_at      timestamptz NOT NULL,
    shredded_at timestamptz NOT NULL,
    policy      text        NOT NULL,
    entry_seq   bigint      NOT NULL
);

-- +goose Down
DROP TABLE shreddings;
DROP TABLE holds;
