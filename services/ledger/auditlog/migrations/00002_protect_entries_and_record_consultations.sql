-- +goose Up
-- Entries are append-only. These triggers stop an UPDATE, DELETE or
-- TRUNCATE by mistake; they are not a defence against a superuser, who can
-- disable them, which is why the chain is also checked against signed
-- checkpoints kept outside the database.
-- +goose StatementBegin
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger.% is append-only', TG_TABLE_NAME;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- consultations records every read of the ledger's personal data by the
-- auditors' tools: who, when, what and why (DPA 2018 s.62 consultation
-- logs). It holds identifiers only, never the data read.
CREATE TABLE consultations (
    id      bigserial   PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text        NOT NULL,
    action  text        NOT NULL,
    subject text        NOT NULL DEFAULT '',
    purpose text        NOT NULL
);
CREATE TRIGGER consultations_append_only BEFORE UPDATE OR DELETE ON consultations
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- +goose Down
DROP TABLE consultations;
DROP TRIGGER entries_no_truncate ON entries;
DROP TRIGGER entries_append_only ON entries;
DROP FUNCTION refuse_change();
