-- +goose Up
-- A relay claims a batch of unpublished rows with a lease in one short
-- statement, publishes them with no transaction open, and marks them in a
-- second statement. The lease keeps other replicas off the batch meanwhile;
-- one that expires (its relay died) lets any relay claim the rows again.
ALTER TABLE outbox ADD COLUMN claimed_until timestamptz;

-- +goose Down
ALTER TABLE outbox DROP COLUMN claimed_until;
