// Package migrations holds the ledger's schema, applied by goose into the
// PostgreSQL schema "ledger" by auditlog.Migrate.
package migrations

import "embed"

// FS holds the numbered migration files.
//
//go:embed *.sql
var FS embed.FS
