package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/refimport"
)

func newRefdataCommand() *cobra.Command {
	return command.NewGroup("refdata", "reference data: make Lantern's files from the public registers", newRefdataImportCommand())
}

func newRefdataImportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import --out DIR [--gias FILE] [--ods FILE] [--bank-holidays FILE]",
		Short: "write a reference folder from GIAS, NHS ODS epraccur and GOV.UK bank holidays, saying what was left out and why",
		Long: `Write a reference data folder (contract section 3) from the registers a partnership holds:

  --gias            the GIAS establishment download (edubasealldata CSV): open schools of the local
                    authorities mapped with --la become schools.csv, their phase as GIAS names it
  --ods             the NHS ODS GP practice file (epraccur.csv): active GP practices become gp_practices.csv
  --bank-holidays   the GOV.UK bank holidays JSON; its england-and-wales division is used

Registers hold no safeguarding addresses: --contacts names them, one row a school or practice
(kind,code,email,day_start,calendar_id; kind school or gp). A school or practice without one is left
out. Every other file (local authorities, services, term calendars) is copied from --base, and the
folder written is checked as make run would load it.`,
		Example: `  lantern refdata import --gias edubasealldata.csv --ods epraccur.csv --bank-holidays bank-holidays.json \
    --contacts safeguarding-contacts.csv --la 887=E06000035 --la 886=E10000016 \
    --calendar-id medway-standard --out reference-2027`,
		Args: command.Args(),
	}
	var o refimport.Options
	var las []string
	f := cmd.Flags()
	f.StringVar(&o.GIAS, "gias", "", "GIAS establishment download (CSV)")
	f.StringVar(&o.ODS, "ods", "", "NHS ODS epraccur file (CSV, no header)")
	f.StringVar(&o.BankHolidays, "bank-holidays", "", "GOV.UK bank holidays JSON")
	f.StringVar(&o.Contacts, "contacts", "", "the partnership's safeguarding contacts: kind,code,email,day_start,calendar_id")
	f.StringArrayVar(&las, "la", nil, "GIAS LA code = ONS code of local_authorities.csv, such as 887=E06000035 (repeat for each)")
	f.StringVar(&o.DayStart, "day-start", "08:30", "a school's day start when its contacts row has none")
	f.StringVar(&o.CalendarID, "calendar-id", "", "a school's term calendar when its contacts row has none")
	f.StringVar(&o.Base, "base", envOrDefault("LANTERN_REFERENCE_DIR", "reference"), "reference folder the other files are copied from")
	f.StringVar(&o.Out, "out", "", "the folder to write; new or empty (required)")
	for _, name := range []string{"gias", "ods", "bank-holidays", "contacts"} {
		_ = cmd.MarkFlagFilename(name, "csv", "json")
	}
	_ = cmd.MarkFlagDirname("base")
	_ = cmd.MarkFlagDirname("out")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var err error
		if o.LACodes, err = parseLACodes(las); err != nil {
			return err
		}
		if o.Out == "" {
			return command.Usagef("needs a folder to write: type lantern refdata import --out reference-new …")
		}
		if o.GIAS == "" && o.ODS == "" && o.BankHolidays == "" {
			return command.Usagef("needs at least one register: --gias, --ods or --bank-holidays")
		}
		sum, err := refimport.Import(o)
		sum.Write(cmd.OutOrStdout())
		if err != nil {
			return err
		}
		abs, _ := filepath.Abs(o.Out)
		fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s; it loads. Use it with LANTERN_REFERENCE_DIR=%s make run\n", o.Out, abs)
		return nil
	}
	return cmd
}

func parseLACodes(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		gias, ons, ok := strings.Cut(p, "=")
		if !ok || gias == "" || ons == "" {
			return nil, command.Usagef("--la %q is not GIAS=ONS: type --la 887=E06000035", p)
		}
		out[strings.TrimSpace(gias)] = strings.TrimSpace(ons)
	}
	return out, nil
}
