// Command ledger runs Lantern's ledger, which records every event in a
// hash-chained, append-only table and serves incident timelines.
package main

import (
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/app"
)

func main() { serverenv.Main(app.Service) }
