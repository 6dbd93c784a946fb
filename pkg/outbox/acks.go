//go:build !lantern_broken_relay

package outbox

// awaitAcks is true in every real build: the relay marks a row published
// only once the broker has acknowledged storing its event.
const awaitAcks = true
