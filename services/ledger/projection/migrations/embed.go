// Package migrations holds the projection tables, applied by goose into the
// PostgreSQL schema "audit" by projection.Migrate.
package migrations

import "embed"

// FS holds the numbered migration files.
//
//go:embed *.sql
var FS embed.FS
