package devstack

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

func printBanner(w io.Writer, o Options, l topology.Layout, c Credentials, users string) {
	fmt.Fprintf(w, `
================================================================
 Lantern is running.

 Sign in to the workspace:   http://%[1]s/
 Intake API and timelines:   http://%[1]s/v1/incidents
 Development credentials:    %[2]s  (every sample user is listed there)

 Sample users (password, role, organisation):
%[7]s
 Police intake token (Authorization: Bearer …):
   %[3]s

 Try it: post the sample notice, then read its timeline:
   curl -sS -X POST http://%[1]s/v1/incidents \
     -H "Authorization: Bearer %[3]s" \
     -H "Content-Type: application/json" \
     --data @docs/sample-ppn.json
   curl -sS http://%[1]s/v1/incidents/<incident_id>/timeline \
     -H "Authorization: Bearer %[3]s"

 PostgreSQL: %[4]s
 NATS:       %[5]s
             anonymous clients are refused; each service has its own identity, and the read-only
             observer's credentials for sg.> are in dev-credentials.json ("nats_observer")
 Reference data: %[6]s
%[10]s%[11]s
 Service health (GET /healthz alive, GET /readyz ready, with reasons):
%[9]s
 The lantern command finds these servers in %[8]s while this runs;
 from elsewhere, export DATABASE_URL and NATS_URL as above (bin/lantern --help).
 Press Ctrl-C to stop.
================================================================
`, o.HTTPAddr, filepath.Join(o.StateDir, "dev-credentials.json"), c.PoliceIntakeToken, config.Redact(o.DatabaseURL), o.NATSURL, o.ReferenceDir, indent(users), filepath.Join(o.StateDir, localenv.FileName), adminTable(l), jaegerLine(), mailpitLine())
}

func indent(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("   " + line + "\n")
	}
	return b.String()
}

func adminTable(l topology.Layout) string {
	var b strings.Builder
	for _, name := range topology.Names() {
		fmt.Fprintf(&b, "   %-11s http://%s/readyz\n", name, l.Admin[name])
	}
	return b.String()
}
