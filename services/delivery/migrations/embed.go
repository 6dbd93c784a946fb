// Package migrations holds the delivery service's schema, applied by goose at
// start-up into the PostgreSQL schema "delivery".
package migrations

import "embed"

// FS holds the numbered migration files.
//
//go:embed *.sql
var FS embed.FS
