package projectiontest

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// Simulate builds count incidents starting at start, one every 37
// minutes, with a fixed mix of outcomes drawn from seed: prompt and late
// deliveries, acknowledgements before and after the deadline, ones never
// acknowledged and breached, failed deliveries, triage decisions with and
// without an override, and at-risk warnings. The same arguments always
// give the same events.
func Simulate(t testing.TB, count int, start time.Time, seed uint64) []*Incident {
	return SimulateRange(t, 1, count, start, 37*time.Minute, seed)
}

// SimulateRange builds incidents numbered first to first+count-1, the one
// numbered n reported at start plus (n-first) times every, with the mix
// Simulate draws from seed. Ranges of one long history built in pieces
// never share an id, so a bulk load can make a year of incidents a few
// hundred at a time.
func SimulateRange(t testing.TB, first, count int, start time.Time, every time.Duration, seed uint64) []*Incident {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]*Incident, 0, count)
	for i := range count {
		out = append(out, simulateOne(t, r, first+i, start.Add(time.Duration(i)*every)))
	}
	return out
}

func simulateOne(t testing.TB, r *rand.Rand, n int, at time.Time) *Incident {
	dash := []string{ppn.DASHStandard, ppn.DASHMedium, ppn.DASHHigh}[r.IntN(3)]
	in := NewIncident(t, IncidentID(n)).Reported(at, dash, r.IntN(5) == 0,
		Child{ID: "C-1", Present: true, Voice: r.IntN(3) > 0}, Child{ID: "C-2", Present: r.IntN(2) == 0})
	mash := NotificationID(n, 1)
	mashDue := at.Add(24 * time.Hour)
	if dash == ppn.DASHHigh {
		mashDue = at.Add(time.Hour)
	}
	in.Requested(Request{NotificationID: mash, RuleID: "R1", Kind: events.KindMASH, RecipientID: "E06000035",
		RecipientName: "Medway MASH", ChildIDs: []string{"C-1", "C-2"}, At: at.Add(5 * time.Second), Due: mashDue})
	in.Delivered(mash, at.Add(time.Duration(10+r.IntN(90))*time.Second))
	simulateTriage(in, r, mash, at, dash)
	simulateSchool(in, r, NotificationID(n, 2), at)
	if r.IntN(3) == 0 {
		simulateProbation(in, r, NotificationID(n, 3), at)
	}
	return in
}

func simulateTriage(in *Incident, r *rand.Rand, mash string, at time.Time, dash string) {
	rag := map[string]string{ppn.DASHHigh: events.RAGRed, ppn.DASHMedium: events.RAGAmber, ppn.DASHStandard: events.RAGGreen}[dash]
	chosen, reason := rag, ""
	if r.IntN(4) == 0 {
		chosen, reason = events.RAGAmber, "cumulative harm"
	}
	in.Triaged(mash, chosen, rag, reason, "mash-worker-1", at.Add(time.Duration(1+r.IntN(30))*time.Hour))
}

// simulateSchool sends an Operation Encompass notice due ten hours after
// the incident, acknowledged on time, late, or never (then breached).
func simulateSchool(in *Incident, r *rand.Rand, id string, at time.Time) {
	due := at.Add(10 * time.Hour)
	in.Requested(Request{NotificationID: id, RuleID: "R8", Kind: events.KindSchool, RecipientID: "118234",
		RecipientName: "Example Primary School", ChildIDs: []string{"C-1"}, At: at.Add(6 * time.Second), Due: due})
	// The school is told by e-mail too: the delivery lists the channel.
	delivered := at.Add(time.Duration(15+r.IntN(60)) * time.Second)
	in.DeliveredBy(id, delivered, events.ChannelReceipt{Channel: "email", AcceptedAt: delivered, ProviderID: "<" + id + "@lantern.test>"})
	switch r.IntN(4) {
	case 0, 1:
		in.Acknowledged(id, "dsl-1", due.Add(-time.Duration(1+r.IntN(300))*time.Minute))
	case 2:
		in.AtRisk(id, events.StepAcknowledgement, due.Add(-time.Hour))
		in.Acknowledged(id, "dsl-1", due.Add(time.Duration(1+r.IntN(120))*time.Minute))
	default:
		in.AtRisk(id, events.StepAcknowledgement, due.Add(-time.Hour))
		in.Breached(id, events.StepAcknowledgement, due.Add(time.Minute))
	}
}

// simulateProbation sends a probation notice that is delivered or fails.
func simulateProbation(in *Incident, r *rand.Rand, id string, at time.Time) {
	due := at.Add(4 * time.Hour)
	in.Requested(Request{NotificationID: id, RuleID: "R15", Kind: events.KindProbation, RecipientID: "KSS-CRC",
		RecipientName: "Kent probation", At: at.Add(7 * time.Second), Due: due})
	if r.IntN(4) == 0 {
		in.Failed(id, "endpoint refused the notice", at.Add(2*time.Hour))
		in.Breached(id, events.StepDelivery, due.Add(time.Minute))
		return
	}
	in.Delivered(id, at.Add(time.Duration(1+r.IntN(300))*time.Minute))
}
