-- +goose Up
-- The notice is stored sealed with its incident's data key (pkg/sealed):
-- ppn_sealed holds the ciphertext, and the plaintext column is left empty
-- for new rows. The keys and times beside it stay in clear.
ALTER TABLE incidents ALTER COLUMN ppn DROP NOT NULL;
ALTER TABLE incidents ADD COLUMN ppn_sealed bytea;
ALTER TABLE incidents ADD CONSTRAINT incidents_ppn_kept CHECK (ppn IS NOT NULL OR ppn_sealed IS NOT NULL);

-- +goose Down
ALTER TABLE incidents DROP CONSTRAINT incidents_ppn_kept;
ALTER TABLE incidents DROP COLUMN ppn_sealed;
