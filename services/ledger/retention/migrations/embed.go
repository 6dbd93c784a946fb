// Package migrations holds the retention tables' SQL, kept in the ledger's
// schema with a version table of their own.
package migrations

import "embed"

// FS holds the migrations.
//
//go:embed *.sql
var FS embed.FS
