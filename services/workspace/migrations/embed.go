// Package migrations holds the workspace's schema, applied by goose at
// start-up into the PostgreSQL schema "workspace".
package migrations

import "embed"

// FS holds the numbered migration files.
//
//go:embed *.sql
var FS embed.FS
