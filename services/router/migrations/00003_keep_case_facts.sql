-- +goose Up
-- facts are what the routing policy's expressions read of the incident
-- (DASH level and ticks, ages, education types, counts, the proposed
-- rating; no names, dates of birth or narrative), kept so that the rules
-- that fire on triage read exactly what the incident-time rules read.
ALTER TABLE cases ADD COLUMN facts jsonb;

-- +goose Down
ALTER TABLE cases DROP COLUMN facts;
