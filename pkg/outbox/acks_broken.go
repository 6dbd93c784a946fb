//go:build lantern_broken_relay

package outbox

// awaitAcks is false only in the deliberately broken build that the fault
// suite uses to prove its checker can fail: the relay marks rows published
// as soon as their events are sent, before the broker acknowledges them,
// so an event dropped on the way is lost for good.
const awaitAcks = false

// republishes is false in the broken build too: its relay never publishes
// its horizon again, which would otherwise restore, after the reconnect
// that ends a network fault, the events it lost.
const republishes = false
