package ledger_test

import (
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/projection"
	pt "github.com/lantern-safeguarding/lantern/pkg/projection/projectiontest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/ledger"
)

// TestLedgerConformsToTheConsumerSuite: the ledger records every event on
// the bus as it came, so what it must refuse is an event it cannot file: one
// that names no incident.
func TestLedgerConformsToTheConsumerSuite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) conformance.Consumer {
		_, pool := pt.NewDatabase(t)
		l := ledger.New(pool, clock.NewFake(t0), zaptest.NewLogger(t))
		if err := l.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return conformance.Consumer{Handler: l.Handle, Subjects: []string{bus.EventsSubjects},
			Digest: conformance.SchemaDigest(pool, ledger.Schema, projection.Schema), Invalid: withoutIncident}
	}, conformance.Simulated(t, 6, 14))
}

func withoutIncident(m conformance.Message) conformance.Message {
	e := m.Event.Clone()
	e.SetID(cloudevent.DeriveID(m.Event.ID(), "no-incident"))
	e.SetExtension(events.ExtIncidentID, nil)
	return conformance.Message{Event: e, Subject: m.Subject}
}
