package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/lantern-safeguarding/lantern/pkg/auditlog"
	"github.com/lantern-safeguarding/lantern/pkg/projection"
)

func auditTimeline(ctx context.Context, args []string, out, _ io.Writer) error {
	fs := flag.NewFlagSet("audit timeline", flag.ContinueOnError)
	format := fs.String("format", "text", "text or json")
	who := addReaderFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (*format != "text" && *format != "json") {
		return errors.New("usage: lantern audit timeline [--format text|json] <incident_id>")
	}
	s, err := openLive(ctx, who)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.record(ctx, "timeline", pos[0]); err != nil {
		return err
	}
	tl, err := projection.IncidentTimeline(ctx, s.pool, pos[0])
	if errors.Is(err, auditlog.ErrNotFound) {
		return fmt.Errorf("no ledger entries for incident %s", pos[0])
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(tl)
	}
	return writeTimelineText(out, tl)
}
