package projection

import (
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// The bulk paths (a batch of the ledger, a rebuild) decode millions of
// stored events, and decoding them through the CloudEvents SDK and
// encoding/json was most of a replay's time. FastFactOfEntry reads only
// the members the projections use, with the faster JSON decoder set to
// match encoding/json's leniency (any case of a member's name, duplicate
// names, invalid UTF-8), and falls back to FactOfEntry for anything it is
// not sure of, so that both always give the same fact.

// v1Lenient makes the v2 decoder accept what encoding/json accepts.
var v1Lenient = jsonv2.JoinOptions(jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

func fastUnmarshal(data []byte, v any) error { return jsonv2.Unmarshal(data, v, v1Lenient) }

// envelope is the part of a structured-mode CloudEvent a fact needs.
type envelope struct {
	SpecVersion     string         `json:"specversion"`
	ID              string         `json:"id"`
	Type            string         `json:"type"`
	Time            string         `json:"time"`
	DataContentType string         `json:"datacontenttype"`
	IncidentID      string         `json:"incidentid"`
	Actor           string         `json:"actor"`
	Data            jsontext.Value `json:"data"`
	DataBase64      []byte         `json:"data_base64"`
}

// FastFactOfEntry is FactOfEntry, faster: the same fact, ok and unreadable
// marking for every entry.
func FastFactOfEntry(e auditlog.Entry) (Fact, bool) {
	var env envelope
	if err := fastUnmarshal(e.Event, &env); err != nil || !plain(env) {
		return FactOfEntry(e)
	}
	read, known := readers[events.Type(env.Type)]
	if !known {
		return Fact{}, false
	}
	f := Fact{EventID: env.ID, Type: events.Type(env.Type), IncidentID: env.IncidentID, Actor: env.Actor}
	if env.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, env.Time)
		if err != nil {
			return FactOfEntry(e)
		}
		f.Time = norm(t)
	}
	data := []byte(env.Data)
	if env.DataBase64 != nil {
		data = env.DataBase64
	}
	if err := read(&f, data, fastUnmarshal); err != nil {
		return FactOfEntry(e)
	}
	return f, true
}

// plain says whether an envelope is the kind every Lantern event is: a
// CloudEvents 1.0 event with JSON data in one of the two members, or none.
// Anything else takes the SDK's path.
func plain(env envelope) bool {
	if env.SpecVersion != "1.0" || env.ID == "" || (env.Data != nil && env.DataBase64 != nil) {
		return false
	}
	if env.Data != nil && env.Data.Kind() != '{' {
		return false
	}
	return env.DataContentType == "application/json"
}

// fastFactsOfEntries is FactsOfEntries with FastFactOfEntry.
func fastFactsOfEntries(entries []auditlog.Entry) (facts []Fact, unreadable int) {
	return factsOfEntries(entries, FastFactOfEntry)
}
