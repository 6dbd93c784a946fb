// Package e2e holds Lantern's end-to-end tests: every service runs as its own
// process against an in-process NATS JetStream server and a real PostgreSQL,
// and tests post notices through the gateway, kill processes, and check what
// reached the inboxes and the ledger.
package e2e
