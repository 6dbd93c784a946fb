// Package projection derives the read models that auditors and services
// look at (incident timelines, notification deadline states, recipients'
// inboxes, triage decisions, recorded breaches, and the incident figures
// the timeliness report counts) from the event sequence, as pure functions
// of the events.
//
// The same code runs in two places. The ledger service keeps the
// projection tables (schema "audit") current: each time it appends an
// event it recomputes that incident's rows from all of the incident's
// entries, in the same transaction. `lantern audit replay` rebuilds the
// tables from scratch, from the JetStream stream or from the ledger, into
// an empty database. Both are then read back and hashed the same way
// (Digest), so equal digests mean that what the services kept up event by
// event is exactly what the raw record implies.
//
// Projections depend only on what the events say, never on when they were
// received or in which order: events are deduplicated by id and ordered by
// their own time and id. That is what lets a stream replay, whose order can
// differ from the ledger's after a redelivery, reach the same state.
//
// Nothing here holds personal data: rows carry identifiers, times, rules,
// organisations and counts, never names, dates of birth or notice text.
package projection
