// Package migrations holds the escalation service's schema, applied by goose
// at start-up into the PostgreSQL schema "escalation".
package migrations

import "embed"

// FS holds the numbered migration files.
//
//go:embed *.sql
var FS embed.FS
