-- +goose Up
-- channels lists the outbound channels that carried each notice besides the
-- inbox, with when each accepted it (notification.delivered's channels), so
-- that a recipient and an auditor can see that a school was told by e-mail
-- at 06:31. Deliveries recorded before channels existed have none.
ALTER TABLE deliveries ADD COLUMN channels jsonb NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE deliveries DROP COLUMN channels;
