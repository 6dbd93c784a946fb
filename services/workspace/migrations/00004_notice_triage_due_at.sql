-- +goose Up
-- triage_due_at is when R2 wants the MASH's rating, counted from the MASH's
-- receipt; it differs from due_at (R1, police to MASH, from the incident)
-- and is what the triage queue is ordered by. Notices recorded before the
-- router sent it have none and fall back to due_at.
ALTER TABLE notices ADD COLUMN triage_due_at timestamptz;

-- +goose Down
ALTER TABLE notices DROP COLUMN triage_due_at;
