-- +goose Up
-- triage_due_at is R2's deadline as the router computed it from the policy
-- in force, counted from the MASH's receipt; it is on MASH notices only.
-- default_rag is no longer read: the rating only chose the limit, and the
-- router now applies it.
ALTER TABLE notifications ADD COLUMN triage_due_at timestamptz;

-- +goose Down
ALTER TABLE notifications DROP COLUMN triage_due_at;
