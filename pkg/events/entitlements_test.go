package events

import (
	"slices"
	"testing"
)

func TestEveryTypeHasAPublisherThatIsAService(t *testing.T) {
	for _, s := range Catalogue() {
		if len(s.Sources) == 0 {
			t.Errorf("%s: no source may publish it", s.Type)
		}
		for _, src := range s.Sources {
			if _, ok := ServiceOf(src); !ok {
				t.Errorf("%s: source %q is not a Lantern service", s.Type, src)
			}
		}
	}
}

func TestTypeOfSubject(t *testing.T) {
	cases := map[string]Type{
		"sg.incident.reported":                    IncidentReported,
		"sg.notification.acknowledged.school":     NotificationAcknowledged,
		"sg.notification.requested.early_years":   NotificationRequested,
		"sg.notification.requested.declared_kind": NotificationRequested,
		"sg.access.recorded":                      AccessRecorded,
	}
	for subject, want := range cases {
		got, ok := TypeOfSubject(subject)
		if !ok || got.Type != want {
			t.Errorf("TypeOfSubject(%q) = %v, %v; want %s", subject, got.Type, ok, want)
		}
	}
	for _, bad := range []string{"sg.incident.reported.school", "sg.notification.requested", "sg.notification.requested.Bad",
		"sg.notification.requested.a.b", "sg.other", "dlq.router"} {
		if got, ok := TypeOfSubject(bad); ok {
			t.Errorf("TypeOfSubject(%q) = %s; want none", bad, got.Type)
		}
	}
}

func TestEveryConsumedTypeIsPublishedAndEveryConsumerIsAService(t *testing.T) {
	for _, c := range Consumers() {
		if !slices.Contains(Services(), c.Service) {
			t.Errorf("consumer %s: %q is not a service", c.Durable, c.Service)
		}
		for _, typ := range c.Types {
			if _, ok := Lookup(typ); !ok {
				t.Errorf("consumer %s: %s is not in the catalogue", c.Durable, typ)
			}
		}
		if len(c.Subjects()) == 0 {
			t.Errorf("consumer %s receives nothing", c.Durable)
		}
	}
	if got := PublishedBy("workspace"); !slices.Equal(got, []Type{NotificationAcknowledged, TriageDecided, AccessRecorded}) {
		t.Errorf("PublishedBy(workspace) = %v", got)
	}
	if got := PublishedBy("ledger"); !slices.Equal(got, []Type{IncidentShredded}) {
		t.Errorf("the ledger records incident.shredded only, got %v", got)
	}
}
