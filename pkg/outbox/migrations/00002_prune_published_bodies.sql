-- +goose Up
-- A published event's body is in the stream; the outbox keeps only the row
-- (its id, subject and times), never the personal data a body may carry.
UPDATE outbox SET event = ''::bytea WHERE published_at IS NOT NULL;

-- +goose Down
SELECT 1;
