// Command intake runs Lantern's police intake API.
package main

import (
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/app"
)

func main() { serverenv.Main(app.Service) }
