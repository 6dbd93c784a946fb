package sealed

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Schema is the PostgreSQL schema that holds the wrapped data keys; every
// service that seals or opens personal data shares it.
const Schema = "sealed"

var (
	// ErrShredded is returned for an incident whose key was destroyed:
	// its personal data is gone for good.
	ErrShredded = errors.New("sealed: the incident's personal data was shredded")
	// ErrCorrupt is returned when a ciphertext does not open under its
	// incident's key: altered, truncated or moved from elsewhere.
	ErrCorrupt = errors.New("sealed: ciphertext does not open under the incident's key")
	// ErrUnknownKEK is returned when a data key was wrapped by a KEK the
	// keyring no longer holds (a retired KEK, or a backup from elsewhere).
	ErrUnknownKEK = errors.New("sealed: data key wrapped by a key-encryption key this keyring does not hold")
)

// Migrate creates the keys tables. Several services call it; PostgreSQL's
// advisory lock in pgdb lets only one migrate at a time.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return pgdb.MigrateTable(ctx, pool, Schema, "goose_db_version", sub)
}

// Keyring is the current KEK, which wraps every new data key, and the
// retired ones still trusted to unwrap keys not yet rewrapped.
type Keyring struct {
	current KEK
	byID    map[string]KEK
}

// NewKeyring returns a keyring wrapping with current and unwrapping with
// current or any of previous.
func NewKeyring(current KEK, previous ...KEK) *Keyring {
	r := &Keyring{current: current, byID: map[string]KEK{current.ID(): current}}
	for _, k := range previous {
		r.byID[k.ID()] = k
	}
	return r
}

// Current is the KEK that wraps new data keys.
func (r *Keyring) Current() KEK { return r.current }

func (r *Keyring) kek(id string) (KEK, error) {
	k, ok := r.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w (%s)", ErrUnknownKEK, id)
	}
	return k, nil
}

// cacheTTL bounds how long an unwrapped data key lives in memory: a
// shredding in another process takes effect here within this time, and
// a busy incident costs one unwrap (one KMS call) per TTL, not per field.
const cacheTTL = 30 * time.Second

// Sealer seals and opens one incident's personal fields. It is safe for
// concurrent use.
type Sealer struct {
	pool  *pgxpool.Pool
	q     querier
	tx    pgx.Tx // the transaction q is, when In made the sealer
	ring  *Keyring
	clock clock.Clock
	cache *keyCache
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

type keyCache struct {
	mu   sync.Mutex
	keys map[string]cachedKey
}

// maxCachedKeys bounds the cache of a long-running process, which meets
// a new incident with every notice: far more than the incidents busy
// within one cacheTTL, and a few hundred kilobytes.
const maxCachedKeys = 4096

// put caches keys, read at now, for cacheTTL. A full cache drops the keys
// expired, then whichever others it must to be a quarter empty, so that
// it is swept once per many keys, not for each: a dropped key costs one
// lookup when next used.
func (c *keyCache) put(keys map[string][]byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys)+len(keys) > maxCachedKeys {
		for id, k := range c.keys {
			if !now.Before(k.expires) {
				delete(c.keys, id)
			}
		}
		for id := range c.keys {
			if len(c.keys)+len(keys) <= maxCachedKeys*3/4 {
				break
			}
			delete(c.keys, id)
		}
	}
	for id, key := range keys {
		if len(c.keys) >= maxCachedKeys {
			return
		}
		c.keys[id] = cachedKey{key: key, expires: now.Add(cacheTTL)}
	}
}

type cachedKey struct {
	key     []byte
	expires time.Time
}

// New returns a sealer keeping its keys in pool's sealed schema (created
// by Migrate).
func New(pool *pgxpool.Pool, ring *Keyring, clk clock.Clock) *Sealer {
	return &Sealer{pool: pool, q: pool, ring: ring, clock: clk, cache: &keyCache{keys: map[string]cachedKey{}}}
}

// In returns the sealer reading and making keys inside tx, for callers that
// seal while they hold a transaction: a key looked up or made on another
// pooled connection could wait for one the transaction's peers hold. A key
// made in tx is stored only if tx commits, and the keys read or made in
// tx are cached for the process only then (pgdb.OnCommit); in a
// transaction not begun by pgdb they are not cached at all.
func (s *Sealer) In(tx pgx.Tx) *Sealer {
	in := *s
	in.q = tx
	in.tx = tx
	return &in
}

// Keyring is the keyring the sealer wraps and unwraps with.
func (s *Sealer) Keyring() *Keyring { return s.ring }

// version tags the ciphertext layout so that it can change later.
const version = 1

// Seal encrypts plaintext for incidentID, creating the incident's data key
// on first use. purpose names the field ("ppn", "notice"), so that one
// field's ciphertext cannot stand in for another's.
func (s *Sealer) Seal(ctx context.Context, incidentID, purpose string, plaintext []byte) ([]byte, error) {
	aead, err := s.incidentAEAD(ctx, incidentID, true)
	if err != nil {
		return nil, err
	}
	body, err := seal(aead, plaintext, fieldAAD(incidentID, purpose))
	if err != nil {
		return nil, err
	}
	return append([]byte{version}, body...), nil
}

// Open decrypts what Seal returned for the same incident and purpose. It
// returns ErrShredded once the incident's key is gone.
func (s *Sealer) Open(ctx context.Context, incidentID, purpose string, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) == 0 || ciphertext[0] != version {
		return nil, ErrCorrupt
	}
	aead, err := s.incidentAEAD(ctx, incidentID, false)
	if err != nil {
		return nil, err
	}
	return open(aead, ciphertext[1:], fieldAAD(incidentID, purpose))
}

// incidentAEAD is the cipher of incidentID's data key, the key made on
// first use when create is set.
func (s *Sealer) incidentAEAD(ctx context.Context, incidentID string, create bool) (cipher.AEAD, error) {
	key, err := s.dataKey(ctx, incidentID, create)
	if err != nil {
		return nil, err
	}
	return newAEAD(key)
}

// textPrefix marks sealed text, so that a reader can tell a sealed value
// from a plaintext one written before sealing was switched on.
const textPrefix = "sealed:v1:"

// SealText is Seal for text columns and JSON strings: the ciphertext in
// base64 behind a recognisable prefix.
func (s *Sealer) SealText(ctx context.Context, incidentID, purpose string, plaintext []byte) (string, error) {
	ct, err := s.Seal(ctx, incidentID, purpose, plaintext)
	if err != nil {
		return "", err
	}
	return textPrefix + base64.RawStdEncoding.EncodeToString(ct), nil
}

// OpenText opens what SealText returned.
func (s *Sealer) OpenText(ctx context.Context, incidentID, purpose, text string) ([]byte, error) {
	rest, ok := strings.CutPrefix(text, textPrefix)
	if !ok {
		return nil, ErrCorrupt
	}
	ct, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return nil, ErrCorrupt
	}
	return s.Open(ctx, incidentID, purpose, ct)
}

// IsSealedText reports whether text is a SealText value.
func IsSealedText(text string) bool { return strings.HasPrefix(text, textPrefix) }

func fieldAAD(incidentID, purpose string) []byte {
	return []byte("lantern-field\x00" + incidentID + "\x00" + purpose)
}

func keyAAD(incidentID string) []byte {
	return []byte("lantern-incident-key\x00" + incidentID)
}

// dataKey returns the incident's data key from the cache or the table,
// creating it when create is set and it has never existed.
func (s *Sealer) dataKey(ctx context.Context, incidentID string, create bool) ([]byte, error) {
	now := s.clock.Now()
	s.cache.mu.Lock()
	c, ok := s.cache.keys[incidentID]
	s.cache.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.key, nil
	}
	pending := s.txKeys()
	if key, ok := pending[incidentID]; ok {
		return key, nil
	}
	key, err := s.loadKey(ctx, incidentID)
	if errors.Is(err, pgx.ErrNoRows) && create {
		key, err = s.createKey(ctx, incidentID)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, s.missing(ctx, incidentID)
	}
	if err != nil {
		return nil, err
	}
	s.remember(map[string][]byte{incidentID: key}, now)
	return key, nil
}

// remember caches keys read at now: at once when they were read on the
// pool, and only once the transaction commits when read or made in one
// (In). A key may exist only in its transaction: cached before the commit,
// it would outlive a rollback and seal the next attempt under a key never
// stored. Until then the transaction keeps its keys for itself.
func (s *Sealer) remember(keys map[string][]byte, now time.Time) {
	if s.tx == nil {
		s.cache.put(keys, now)
		return
	}
	pending := s.txKeys()
	if pending == nil {
		return
	}
	for id, key := range keys {
		pending[id] = key
	}
	pgdb.OnCommit(s.tx, func() { s.cache.put(keys, now) })
}

// txKeys are the keys read or made in the sealer's transaction (In), kept
// for it until it commits; nil on the pool or in a transaction pgdb did
// not begin.
func (s *Sealer) txKeys() map[string][]byte {
	if s.tx == nil {
		return nil
	}
	v, _ := pgdb.TxValue(s.tx, txKeysKey{s.cache}, func() any { return map[string][]byte{} }).(map[string][]byte)
	return v
}

// txKeysKey names a sealer's keys in one transaction.
type txKeysKey struct{ cache *keyCache }

func (s *Sealer) loadKey(ctx context.Context, incidentID string) ([]byte, error) {
	var kekID string
	var wrapped []byte
	err := s.q.QueryRow(ctx,
		`SELECT kek_id, wrapped FROM sealed.incident_keys WHERE incident_id = $1`, incidentID).Scan(&kekID, &wrapped)
	if err != nil {
		return nil, err
	}
	kek, err := s.ring.kek(kekID)
	if err != nil {
		return nil, err
	}
	return kek.Unwrap(ctx, wrapped, keyAAD(incidentID))
}

// createKey mints a data key for an incident that has none. Two services
// may race to create the same incident's key: the first insert wins and
// both use its key. A shredded incident never gets a new key.
func (s *Sealer) createKey(ctx context.Context, incidentID string) ([]byte, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	kek := s.ring.Current()
	wrapped, err := kek.Wrap(ctx, key, keyAAD(incidentID))
	if err != nil {
		return nil, err
	}
	_, err = s.q.Exec(ctx, `INSERT INTO sealed.incident_keys (incident_id, kek_id, wrapped)
		SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM sealed.shredded WHERE incident_id = $1)
		ON CONFLICT (incident_id) DO NOTHING`, incidentID, kek.ID(), wrapped)
	if err != nil {
		return nil, fmt.Errorf("storing data key: %w", err)
	}
	return s.loadKey(ctx, incidentID)
}

// missing explains why an incident has no key: shredded, or never sealed.
func (s *Sealer) missing(ctx context.Context, incidentID string) error {
	var shredded bool
	err := s.q.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM sealed.shredded WHERE incident_id = $1)`, incidentID).Scan(&shredded)
	if err != nil {
		return err
	}
	if shredded {
		return ErrShredded
	}
	return fmt.Errorf("sealed: incident %s has no data key", incidentID)
}

// Shred destroys the incident's data key in tx and records the shredding,
// so that it commits with whatever else the caller records. It reports
// whether this call did the shredding (false when it had been done
// already). Other processes drop their cached copy within cacheTTL.
func (s *Sealer) Shred(ctx context.Context, tx pgx.Tx, incidentID string, at time.Time) (bool, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM sealed.incident_keys WHERE incident_id = $1`, incidentID); err != nil {
		return false, fmt.Errorf("shredding %s: %w", incidentID, err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO sealed.shredded (incident_id, shredded_at) VALUES ($1, $2)
		ON CONFLICT (incident_id) DO NOTHING`, incidentID, at)
	if err != nil {
		return false, fmt.Errorf("shredding %s: %w", incidentID, err)
	}
	s.Forget(incidentID)
	return tag.RowsAffected() == 1, nil
}

// Forget drops an incident's cached data key from this process.
func (s *Sealer) Forget(incidentID string) {
	s.cache.mu.Lock()
	delete(s.cache.keys, incidentID)
	s.cache.mu.Unlock()
}

// Shredded reports whether the incident was shredded.
func (s *Sealer) Shredded(ctx context.Context, incidentID string) (bool, error) {
	var shredded bool
	err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM sealed.shredded WHERE incident_id = $1)`, incidentID).Scan(&shredded)
	return shredded, err
}
