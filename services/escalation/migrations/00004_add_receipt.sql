-- +goose Up
-- received_at is when Lantern accepted the incident (the MASH's receipt,
-- R1's stop) and force_code the force that sent it: a MASH notice received
-- after its due_at raises one receipt breach, which also tells the force.
ALTER TABLE notifications ADD COLUMN received_at timestamptz;
ALTER TABLE notifications ADD COLUMN force_code text;
ALTER TABLE escalations ADD COLUMN police_contact text;
ALTER TABLE steps DROP CONSTRAINT steps_step_check;
ALTER TABLE steps ADD CONSTRAINT steps_step_check CHECK (step IN ('delivery', 'acknowledgement', 'triage', 'receipt'));

-- +goose Down
DELETE FROM escalations WHERE step = 'receipt';
DELETE FROM steps WHERE step = 'receipt';
ALTER TABLE steps DROP CONSTRAINT steps_step_check;
ALTER TABLE steps ADD CONSTRAINT steps_step_check CHECK (step IN ('delivery', 'acknowledgement', 'triage'));
ALTER TABLE escalations DROP COLUMN police_contact;
ALTER TABLE notifications DROP COLUMN force_code;
ALTER TABLE notifications DROP COLUMN received_at;
