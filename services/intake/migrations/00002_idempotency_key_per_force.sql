-- +goose Up
-- An Idempotency-Key is the sending force's own: two forces' systems may
-- well pick the same key, and one must never be answered with the other's
-- incident, nor refused because of it. It is unique per force.
ALTER TABLE incidents DROP CONSTRAINT incidents_idempotency_key_key;
ALTER TABLE incidents ADD CONSTRAINT incidents_force_idempotency_key UNIQUE (force_code, idempotency_key);

-- +goose Down
ALTER TABLE incidents DROP CONSTRAINT incidents_force_idempotency_key;
ALTER TABLE incidents ADD CONSTRAINT incidents_idempotency_key_key UNIQUE (idempotency_key);
