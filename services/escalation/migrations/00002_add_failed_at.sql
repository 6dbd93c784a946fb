-- +goose Up
-- failed_at is when delivery gave the notice up (notification.failed): the
-- recipient will not have it until someone intervenes, so its delivery
-- step is put at risk at once instead of at the usual lead time.
ALTER TABLE notifications ADD COLUMN failed_at timestamptz;

-- +goose Down
ALTER TABLE notifications DROP COLUMN failed_at;
