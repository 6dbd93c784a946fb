package routing

import "time"

// MemoryHistory counts earlier incidents as the router's store does, from
// identity keys held in memory: for a simulation, which routes a period's
// incidents again without touching the router's records.
type MemoryHistory struct {
	rows []identityRow
}

type identityRow struct {
	kind, hash, incidentID string
	occurredAt             time.Time
	nhsKnown               bool
}

// Record keeps the identity keys of a routed incident.
func (m *MemoryHistory) Record(incidentID string, occurredAt time.Time, ids Identities) {
	ids.EachKey(func(kind, hash string, nhsKnown bool) {
		m.rows = append(m.rows, identityRow{kind: kind, hash: hash, incidentID: incidentID, occurredAt: occurredAt, nhsKnown: nhsKnown})
	})
}

// History counts, for q, the other incidents recorded within q.Months of
// its occurrence: the same counts as the store's.
func (m *MemoryHistory) History(q HistoryQuery) History {
	h := History{ChildIncidents: map[string]int{}}
	from, to := q.OccurredAt.AddDate(0, -q.Months, 0), q.OccurredAt.AddDate(0, q.Months, 0)
	within := func(r identityRow) bool {
		return r.incidentID != q.IncidentID && !r.occurredAt.Before(from) && !r.occurredAt.After(to)
	}
	for _, c := range q.IDs.Children {
		if c.NHS == "" && c.Name == "" {
			continue
		}
		seen := map[string]bool{}
		for _, r := range m.rows {
			match := (r.kind == "child_nhs" && r.hash == c.NHS && c.NHS != "") ||
				(r.kind == "child_name" && r.hash == c.Name && (c.NHS == "" || !r.nhsKnown))
			if match && within(r) {
				seen[r.incidentID] = true
			}
		}
		h.ChildIncidents[c.PersonID] = len(seen)
	}
	for _, p := range q.IDs.Pairs {
		seen := map[string]bool{}
		for _, r := range m.rows {
			if r.kind == "pair" && r.hash == p && within(r) {
				seen[r.incidentID] = true
			}
		}
		h.SamePartiesIncidents = max(h.SamePartiesIncidents, len(seen))
	}
	return h
}
