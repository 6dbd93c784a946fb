package auditlog

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
)

// HashSize is the length of every chain hash.
const HashSize = sha256.Size

// Genesis is the hash that entry 1 links to.
var Genesis = make([]byte, HashSize)

// ChainHash is the hash of entry seq: SHA-256 over the previous hash, the
// sequence number (8 bytes, big-endian) and the SHA-256 of the event bytes.
func ChainHash(prev []byte, seq int64, event []byte) []byte {
	bodySum := sha256.Sum256(event)
	h := sha256.New()
	h.Write(prev)
	_ = binary.Write(h, binary.BigEndian, seq)
	h.Write(bodySum[:])
	return h.Sum(nil)
}

// Entry is one row of the ledger as stored.
type Entry struct {
	Seq         int64
	EventID     string
	EventType   string
	NATSSubject string
	IncidentID  string
	Subject     string
	Actor       string
	Source      string
	EventTime   time.Time
	RecordedAt  time.Time
	// Event is the CloudEvent in JSON (structured) form: the bytes the hash
	// covers.
	Event    []byte
	PrevHash []byte
	Hash     []byte
}

// Head is the ledger's last sequence number and hash, as its head row says.
type Head struct {
	Seq  int64
	Hash []byte
}

// CloudEvent decodes the entry's event.
func (e Entry) CloudEvent() (cloudevent.Event, error) {
	ev := event.New()
	if err := ev.UnmarshalJSON(e.Event); err != nil {
		return cloudevent.Event{}, fmt.Errorf("ledger entry %d is unreadable: %w", e.Seq, err)
	}
	return ev, nil
}
