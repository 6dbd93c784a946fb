package ppn

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// canonicalTime writes every timestamp in UTC, so that 23:15+01:00 and
// 22:15Z, the same instant, encode alike. Formatting cannot fail, unlike
// time.Time's own encoding of years past 9999.
var canonicalTime = json.MarshalToFunc(func(enc *jsontext.Encoder, t time.Time) error {
	return enc.WriteToken(jsontext.String(t.UTC().Format(time.RFC3339Nano)))
})

// Canonical encodes the notice as canonical JSON: the Incident's fields
// (absent optional fields omitted, false and 0 written out, so that leaving
// out "pregnant" and sending "pregnant": false encode alike), times
// normalised to UTC RFC 3339, then put in the RFC 8785 canonical form
// (members sorted, no insignificant space, one spelling for each string and
// number). Two notices with the same meaning encode to the same bytes.
// Names and free text are kept exactly as sent, without Unicode
// normalisation: a different spelling of a name is different content.
func (in *Incident) Canonical() []byte {
	raw, err := json.Marshal(in,
		json.WithMarshalers(canonicalTime),
		jsontext.AllowInvalidUTF8(true),
		json.Deterministic(true),
	)
	if err != nil {
		// Every field of Incident is a string, a number, a bool or a time
		// that canonicalTime formats, so encoding has nothing that can fail.
		panic(fmt.Sprintf("ppn: encoding an incident: %v", err))
	}
	value := jsontext.Value(raw)
	if err := value.Canonicalize(); err != nil {
		panic(fmt.Sprintf("ppn: canonicalising an incident: %v", err))
	}
	return value
}

// ContentHash is the hex SHA-256 of Canonical. The intake compares it when
// a notice's key arrives again: the same hash is an identical repeat, a
// different one a conflicting notice.
func (in *Incident) ContentHash() string {
	sum := sha256.Sum256(in.Canonical())
	return hex.EncodeToString(sum[:])
}
