//go:build !lantern_broken_relay

package outbox

// awaitAcks is true in every real build: the relay marks a row published
// only once the broker has acknowledged storing its event.
const awaitAcks = true

// republishes is true in every real build: the relay publishes its
// re-publish horizon again whenever the broker may have lost writes.
const republishes = true
