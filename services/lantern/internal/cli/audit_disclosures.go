package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/ledger/disclosure"
)

func newDisclosuresCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "disclosures",
		Short: "every notice that named a person (by NHS number or police person id): when, to whom, under which rule, profile and lawful basis, who opened it",
		Long: `disclosures answers a right of access request (UK GDPR Art. 15) from the ledger. It opens the
incidents' sealed notices, so it needs the key-encryption key (LANTERN_KEK, as the services have it).
Every search is recorded as a consultation, with --actor and --purpose. An incident already shredded
names nobody any more.`,
		Args: command.Args(),
	}
	var q disclosure.Query
	cmd.Flags().StringVar(&q.NHSNumber, "nhs-number", "", "the person's NHS number")
	cmd.Flags().StringVar(&q.PolicePersonID, "police-person-id", "", "the police's person id on the notices")
	cmd.Flags().StringVar(&q.ForceCode, "force", "", "with --police-person-id: the force whose id it is")
	format := cmd.Flags().String("format", "text", "text, json or html (a printable page)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *format != "text" && *format != "json" && *format != "html" {
			return command.Usagef("--format: want text, json or html, got %q", *format)
		}
		if (q.NHSNumber == "") == (q.PolicePersonID == "") {
			return command.Usagef("name the person with one of --nhs-number or --police-person-id")
		}
		// The search is recorded with the kind of identifier only: the
		// consultation log holds no personal data.
		subject := "nhs_number"
		if q.PolicePersonID != "" {
			subject = "police_person_id"
		}
		return readLive(cmd, "disclosures", subject, func(ctx context.Context, s *session) error {
			sealer, err := s.sealer(ctx)
			if err != nil {
				return err
			}
			found, err := disclosure.Find(ctx, s.pool, sealer, q)
			if err != nil {
				return err
			}
			return writeDisclosures(cmd.OutOrStdout(), *format, q, found)
		})
	}
	return cmd
}

func writeDisclosures(w io.Writer, format string, q disclosure.Query, found []disclosure.Disclosure) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"disclosures": nonNilList(found)})
	case "html":
		return disclosuresPage.Execute(w, map[string]any{"Query": q, "Found": found, "At": clock.System.Now().UTC()})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "requested\tincident\tperson\torganisation\trule\tprofile\tlawful basis\tdelivered\topened by\topened")
	for _, d := range found {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%s %s\t%s\t%s\t%s\t%s\t%s\t%s\n", stamp(d.RequestedAt), d.IncidentID, d.PersonID,
			d.RecipientKind, d.RecipientID, d.RecipientName, d.RuleID, d.Profile, d.LawfulBasis, stamp(d.DeliveredAt),
			orDefault(d.AcknowledgedBy, "-"), stamp(d.AcknowledgedAt))
	}
	fmt.Fprintf(tw, "%d notices named the person\n", len(found))
	return tw.Flush()
}

func nonNilList(l []disclosure.Disclosure) []disclosure.Disclosure {
	if l == nil {
		return []disclosure.Disclosure{}
	}
	return l
}

// stamp shows a time or an optional time, "-" for none.
func stamp(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

var disclosuresPage = template.Must(template.New("disclosures").Funcs(template.FuncMap{"stamp": stamp}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Disclosure log</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}th,td{border:1px solid #444;padding:.3em;text-align:left;font-size:.9em}@media print{body{margin:0}}</style>
</head><body>
<h1>Disclosure log</h1>
<p>Every notice that named the person{{if .Query.NHSNumber}} with NHS number {{.Query.NHSNumber}}{{else}} with police person id {{.Query.PolicePersonID}}{{with .Query.ForceCode}} ({{.}}){{end}}{{end}}, as the ledger recorded it on {{stamp .At}}.</p>
<table>
<thead><tr><th scope="col">Requested</th><th scope="col">Incident</th><th scope="col">Organisation</th><th scope="col">Rule</th><th scope="col">Profile</th><th scope="col">Lawful basis</th><th scope="col">Delivered</th><th scope="col">Opened by</th><th scope="col">Opened</th></tr></thead>
<tbody>{{range .Found}}<tr><td>{{stamp .RequestedAt}}</td><td>{{.IncidentID}} ({{.PoliceReference}}, {{.LocalAuthority}})</td><td>{{.RecipientName}} ({{.RecipientKind}} {{.RecipientID}})</td><td>{{.RuleID}}</td><td>{{.Profile}}</td><td>{{.LawfulBasis}}</td><td>{{stamp .DeliveredAt}}</td><td>{{.AcknowledgedBy}}</td><td>{{stamp .AcknowledgedAt}}</td></tr>
{{else}}<tr><td colspan="9">No notice named the person.</td></tr>{{end}}</tbody>
</table>
</body></html>
`))
