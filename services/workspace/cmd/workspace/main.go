// Command workspace runs Lantern's workspace, the pages and API where the
// people who receive notices read, acknowledge and triage them. Its
// dev-users subcommand writes the development identity provider's sample
// users for a reference data folder.
package main

import (
	"os"

	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/app"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "dev-users" {
		os.Exit(devUsers(os.Args[2:], os.Stdout, os.Stderr))
	}
	serverenv.Main(app.Service)
}
