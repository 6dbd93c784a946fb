package projection

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// TableDigest is the SHA-256 of one projection's canonical dump: each row
// as a JSON array on its own line, in canonical order.
type TableDigest struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

// Digest fingerprints every projection. Total is the SHA-256 over the
// lines "<name> <rows> <sha256>" of the tables in order.
type Digest struct {
	Tables []TableDigest `json:"tables"`
	Total  string        `json:"total"`
}

// String formats the digest as an aligned table, one projection a line.
func (d Digest) String() string {
	var b strings.Builder
	for _, t := range d.Tables {
		fmt.Fprintf(&b, "%-14s %8d  sha256:%s\n", t.Name, t.Rows, t.SHA256)
	}
	fmt.Fprintf(&b, "%-14s %8s  sha256:%s\n", "total", "", d.Total)
	return b.String()
}

// Differences names the projections whose digests differ between d and o.
func (d Digest) Differences(o Digest) []string {
	var out []string
	for i, t := range d.Tables {
		if i >= len(o.Tables) || o.Tables[i] != t {
			out = append(out, t.Name)
		}
	}
	return out
}

type tableHash struct {
	h    hash.Hash
	rows int64
}

func (t *tableHash) row(line []byte) {
	t.h.Write(line)
	t.h.Write([]byte{'\n'})
	t.rows++
}

func hashRows[T any](tb table[T], rows []T) TableDigest {
	th := &tableHash{h: sha256.New()}
	for i := range rows {
		th.row(canonical(tb.fields(&rows[i])))
	}
	return TableDigest{Name: tb.name, Rows: th.rows, SHA256: hex.EncodeToString(th.h.Sum(nil))}
}

// DigestOf fingerprints s, which must be in canonical order (as Project
// and Load return it).
func DigestOf(s Set) Digest {
	return total([]TableDigest{
		hashRows(incidentsTable, s.Incidents),
		hashRows(stepsTable, s.Steps),
		hashRows(notificationsTable, s.Notifications),
		hashRows(inboxTable, s.Inbox),
		hashRows(triageTable, s.Triage),
		hashRows(breachesTable, s.Breaches),
		hashRows(channelsTable, s.Channels),
	})
}

// DigestDatabase fingerprints the projection tables in the database,
// streaming each so that a large database is never held in memory.
func DigestDatabase(ctx context.Context, q Querier) (Digest, error) {
	var tables []TableDigest
	add := func(td TableDigest, err error) error {
		tables = append(tables, td)
		return err
	}
	err := firstError(
		func() error { return add(hashTable(ctx, q, incidentsTable)) },
		func() error { return add(hashTable(ctx, q, stepsTable)) },
		func() error { return add(hashTable(ctx, q, notificationsTable)) },
		func() error { return add(hashTable(ctx, q, inboxTable)) },
		func() error { return add(hashTable(ctx, q, triageTable)) },
		func() error { return add(hashTable(ctx, q, breachesTable)) },
		func() error { return add(hashTable(ctx, q, channelsTable)) },
	)
	if err != nil {
		return Digest{}, err
	}
	return total(tables), nil
}

func hashTable[T any](ctx context.Context, q Querier, tb table[T]) (TableDigest, error) {
	th := &tableHash{h: sha256.New()}
	err := scanTable(ctx, q, tb, "", nil, func(r T) error {
		th.row(canonical(tb.fields(&r)))
		return nil
	})
	return TableDigest{Name: tb.name, Rows: th.rows, SHA256: hex.EncodeToString(th.h.Sum(nil))}, err
}

func total(tables []TableDigest) Digest {
	h := sha256.New()
	for _, t := range tables {
		fmt.Fprintf(h, "%s %d %s\n", t.Name, t.Rows, t.SHA256)
	}
	return Digest{Tables: tables, Total: hex.EncodeToString(h.Sum(nil))}
}
