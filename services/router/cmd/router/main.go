// Command router runs Lantern's router, which decides who must be told of
// each incident.
package main

import (
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/router/internal/app"
)

func main() { serverenv.Main(app.Service) }
