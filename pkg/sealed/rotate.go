package sealed

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

// rewrapBatch is how many keys one transaction rewraps: small enough that
// no row stays locked for long while the services keep sealing.
const rewrapBatch = 100

// Rewrap moves every data key not wrapped by the keyring's current KEK
// onto it, in small transactions, and returns how many it moved. Services
// keep running throughout: until a key is rewrapped they unwrap it with
// the KEK that wrapped it, which must still be in their keyrings. progress,
// if not nil, is told the running count after each batch.
func (s *Sealer) Rewrap(ctx context.Context, progress func(done int)) (int, error) {
	done := 0
	for {
		n, err := s.rewrapBatch(ctx)
		if err != nil {
			return done, err
		}
		done += n
		if n > 0 && progress != nil {
			progress(done)
		}
		if n < rewrapBatch {
			return done, nil
		}
	}
}

func (s *Sealer) rewrapBatch(ctx context.Context) (int, error) {
	current := s.ring.Current()
	n := 0
	err := pgdb.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT incident_id, kek_id, wrapped FROM sealed.incident_keys
			WHERE kek_id <> $1 ORDER BY incident_id LIMIT $2 FOR UPDATE SKIP LOCKED`, current.ID(), rewrapBatch)
		if err != nil {
			return err
		}
		type row struct {
			id, kek string
			wrapped []byte
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.kek, &r.wrapped); err != nil {
				return err
			}
			batch = append(batch, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range batch {
			if err := s.rewrapOne(ctx, tx, current, r.id, r.kek, r.wrapped); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

func (s *Sealer) rewrapOne(ctx context.Context, tx pgx.Tx, current KEK, id, kekID string, wrapped []byte) error {
	old, err := s.ring.kek(kekID)
	if err != nil {
		return fmt.Errorf("rewrapping the key of %s: %w", id, err)
	}
	key, err := old.Unwrap(ctx, wrapped, keyAAD(id))
	if err != nil {
		return fmt.Errorf("rewrapping the key of %s: %w", id, err)
	}
	fresh, err := current.Wrap(ctx, key, keyAAD(id))
	if err != nil {
		return fmt.Errorf("rewrapping the key of %s: %w", id, err)
	}
	_, err = tx.Exec(ctx, `UPDATE sealed.incident_keys SET kek_id = $2, wrapped = $3, rewrapped_at = now()
		WHERE incident_id = $1`, id, current.ID(), fresh)
	return err
}

// Counts reports how many data keys each KEK wraps, so that an operator
// can see a rotation finish before retiring the old KEK.
func (s *Sealer) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT kek_id, count(*) FROM sealed.incident_keys GROUP BY kek_id`)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
