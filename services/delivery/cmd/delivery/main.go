// Command delivery runs Lantern's delivery service, which puts each notice in
// its recipient's inbox.
package main

import (
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/app"
)

func main() { serverenv.Main(app.Service) }
