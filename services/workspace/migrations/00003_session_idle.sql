-- +goose Up
-- last_seen_at is when a session was last used, so that a session left
-- alone ends after the idle timeout, well before its absolute expiry.
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz;
UPDATE sessions SET last_seen_at = created_at;
ALTER TABLE sessions ALTER COLUMN last_seen_at SET NOT NULL;

-- +goose Down
ALTER TABLE sessions DROP COLUMN last_seen_at;
