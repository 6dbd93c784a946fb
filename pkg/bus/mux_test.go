package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/schemas"
)

// example reads the shipped example event of type t.
func example(t *testing.T, typ events.Type) cloudevent.Event {
	t.Helper()
	raw, err := schemas.FS.ReadFile("examples/" + string(typ) + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var e cloudevent.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestMuxDerivesSubjectsFromTheCatalogue(t *testing.T) {
	m := bus.NewMux()
	bus.On(m, events.IncidentReported, func(context.Context, cloudevent.Event, events.IncidentReportedData) error { return nil })
	bus.On(m, events.NotificationDelivered, func(context.Context, cloudevent.Event, events.NotificationDeliveredData) error { return nil })
	want := []string{"sg.incident.reported", "sg.notification.delivered.>"}
	if diff := cmp.Diff(want, m.Subjects()); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
}

func TestMuxDecodesValidDataAndRefusesInvalidDataPermanently(t *testing.T) {
	var got []events.TriageDecidedData
	m := bus.NewMux()
	bus.On(m, events.TriageDecided, func(_ context.Context, _ cloudevent.Event, d events.TriageDecidedData) error {
		got = append(got, d)
		return nil
	})
	e := example(t, events.TriageDecided)
	if err := m.Handle(t.Context(), e); err != nil {
		t.Fatalf("valid event: %v", err)
	}
	if len(got) != 1 || got[0].IncidentID != "273ec4c6-58d1-4ae9-90fa-cbe7e5cbf512" {
		t.Fatalf("handler saw %+v, want the example's triage decision", got)
	}

	bad := e.Clone()
	if err := bad.SetData("application/json", map[string]any{"incident_id": "not a uuid"}); err != nil {
		t.Fatal(err)
	}
	err := m.Handle(t.Context(), bad)
	if !bus.IsPermanent(err) {
		t.Errorf("invalid data: %v, want a Permanent error", err)
	}
	if len(got) != 1 {
		t.Errorf("the handler ran on invalid data")
	}
	if err := m.Handle(t.Context(), example(t, events.IncidentReported)); err != nil {
		t.Errorf("an event of a type with no handler: %v, want it ignored", err)
	}
}

func TestChainRunsMiddlewareOutermostFirst(t *testing.T) {
	var order []string
	step := func(name string) bus.Middleware {
		return func(next bus.Handler) bus.Handler {
			return func(ctx context.Context, e cloudevent.Event) error {
				order = append(order, name)
				return next(ctx, e)
			}
		}
	}
	stop := errors.New("handled")
	h := bus.Chain(func(context.Context, cloudevent.Event) error { order = append(order, "handler"); return stop },
		step("trace"), step("metrics"))
	if err := h(t.Context(), cloudevent.Event{}); !errors.Is(err, stop) {
		t.Errorf("Chain lost the handler's error: %v", err)
	}
	if diff := cmp.Diff([]string{"trace", "metrics", "handler"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
