// Command escalation runs Lantern's escalation service, which raises
// sla.at_risk and sla.breached when a notice's deadline is near or missed and
// names the recipient organisation's manager to warn.
package main

import (
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/app"
)

func main() { serverenv.Main(app.Service) }
