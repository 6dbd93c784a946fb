package sealed

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// PrepareKeys makes sure every incident of ids that was never shredded has
// a data key, and caches the keys, with one query to read those stored and
// one statement to store the missing ones, inside tx. It is for callers
// that seal many incidents' events in one transaction (a batch of the
// ledger, a bulk load): the keys are then found in the transaction's keys
// (and in the cache once it commits), not looked up one round trip at a
// time. A shredded incident gets no key, as with Seal.
func (s *Sealer) PrepareKeys(ctx context.Context, tx pgx.Tx, ids []string) error {
	have, err := s.loadKeys(ctx, tx, ids)
	if err != nil {
		return err
	}
	var missing []string
	for _, id := range ids {
		if _, ok := have[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		if err := s.createKeys(ctx, tx, missing); err != nil {
			return err
		}
		if have, err = s.loadKeys(ctx, tx, ids); err != nil {
			return err
		}
	}
	s.In(tx).remember(have, s.clock.Now())
	return nil
}

// loadKeys unwraps the stored keys of ids.
func (s *Sealer) loadKeys(ctx context.Context, tx pgx.Tx, ids []string) (map[string][]byte, error) {
	rows, err := tx.Query(ctx, `SELECT incident_id, kek_id, wrapped FROM sealed.incident_keys WHERE incident_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("reading data keys: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]byte, len(ids))
	for rows.Next() {
		var id, kekID string
		var wrapped []byte
		if err := rows.Scan(&id, &kekID, &wrapped); err != nil {
			return nil, fmt.Errorf("reading data keys: %w", err)
		}
		kek, err := s.ring.kek(kekID)
		if err != nil {
			return nil, err
		}
		if out[id], err = kek.Unwrap(ctx, wrapped, keyAAD(id)); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading data keys: %w", err)
	}
	return out, nil
}

// createKeys mints and stores keys for ids, skipping shredded incidents
// and any key another writer stored first, as createKey does for one.
func (s *Sealer) createKeys(ctx context.Context, tx pgx.Tx, ids []string) error {
	kek := s.ring.Current()
	wrapped := make([][]byte, len(ids))
	for i, id := range ids {
		key := make([]byte, keySize)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		w, err := kek.Wrap(ctx, key, keyAAD(id))
		if err != nil {
			return err
		}
		wrapped[i] = w
	}
	_, err := tx.Exec(ctx, `INSERT INTO sealed.incident_keys (incident_id, kek_id, wrapped)
		SELECT k.id, $2, k.wrapped FROM unnest($1::text[], $3::bytea[]) AS k(id, wrapped)
		WHERE NOT EXISTS (SELECT 1 FROM sealed.shredded s WHERE s.incident_id = k.id)
		ON CONFLICT (incident_id) DO NOTHING`, ids, kek.ID(), wrapped)
	if err != nil {
		return fmt.Errorf("storing data keys: %w", err)
	}
	return nil
}
