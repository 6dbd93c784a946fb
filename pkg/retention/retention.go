// Package retention is how long Lantern keeps what, as policy data
// (domain brief 8.5): pipeline message bodies until acknowledgement plus
// 30 days, then crypto-shredded; audit metadata at least two years (the
// JTAI look-back); each configurable per partnership, named by its local
// authority code, in a YAML file (LANTERN_RETENTION_FILE, default
// policy/retention.yaml).
package retention

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Day is 24 hours: retention periods are whole days, not calendar days,
// so that a clock change never shortens one.
const Day = 24 * time.Hour

// Periods are the retention periods of one partnership.
type Periods struct {
	// MessageBodies is how long personal data is kept after the last
	// notice about an incident was acknowledged (or gave up).
	MessageBodies time.Duration
	// Unacknowledged bounds how long an incident is kept when some notice
	// was never acknowledged, counted from its report.
	Unacknowledged time.Duration
	// AuditMetadata is how long ids, times, recipients, rules and hashes
	// are kept; the ledger's chain is never cut before it.
	AuditMetadata time.Duration
}

// Policy is the default periods and each partnership's own.
type Policy struct {
	Version      string
	Default      Periods
	Partnerships map[string]Periods
}

// Default is domain brief 8.5's proposal: bodies acknowledgement + 30
// days, audit metadata two years, and an unacknowledged incident kept a
// year from its report so that nobody loses a notice still being chased.
func Default() Policy {
	return Policy{Version: "default", Default: Periods{
		MessageBodies: 30 * Day, Unacknowledged: 365 * Day, AuditMetadata: 730 * Day,
	}}
}

// For returns the periods of the partnership of local authority code la.
func (p Policy) For(la string) Periods {
	if o, ok := p.Partnerships[la]; ok {
		return o
	}
	return p.Default
}

// StreamMaxAge is the age at which JetStream drops an event: the longest
// message-body period of any partnership. The stream is the transport,
// not the record: by then every consumer has stored the event (sealed)
// in PostgreSQL, and an event dropped before its incident is shredded is
// kept no longer than the policy allows.
func (p Policy) StreamMaxAge() time.Duration {
	longest := p.Default.MessageBodies
	for _, o := range p.Partnerships {
		longest = max(longest, o.MessageBodies)
	}
	return longest
}

// EnvFile names the retention policy file.
const EnvFile = "LANTERN_RETENTION_FILE"

// FromEnv loads LANTERN_RETENTION_FILE, or returns Default when it is
// unset.
func FromEnv() (Policy, error) {
	path := os.Getenv(EnvFile)
	if path == "" {
		return Default(), nil
	}
	return Load(path)
}

// Load reads a retention policy file.
func Load(path string) (Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("reading retention policy: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

type filePeriods struct {
	MessageBodies  string `yaml:"message_bodies_after_acknowledgement"`
	Unacknowledged string `yaml:"unacknowledged_after_report"`
	AuditMetadata  string `yaml:"audit_metadata"`
}

type file struct {
	Version      string                 `yaml:"version"`
	Default      filePeriods            `yaml:"default"`
	Partnerships map[string]filePeriods `yaml:"partnerships"`
}

// Parse reads a policy: a version, default periods and per-partnership
// overrides. Periods are days ("30d") or Go durations ("720h"). An
// unknown field, a missing period or audit metadata kept less than two
// years is refused, naming the field.
func Parse(b []byte) (Policy, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return Policy{}, fmt.Errorf("retention policy: %w", err)
	}
	if f.Version == "" {
		return Policy{}, errors.New("retention policy: version: required")
	}
	def, err := f.Default.periods("default", Periods{})
	if err != nil {
		return Policy{}, err
	}
	p := Policy{Version: f.Version, Default: def, Partnerships: map[string]Periods{}}
	for la, fp := range f.Partnerships {
		if p.Partnerships[la], err = fp.periods("partnerships."+la, def); err != nil {
			return Policy{}, err
		}
	}
	return p, nil
}

// minAudit is the JTAI look-back: audit metadata is never kept less.
const minAudit = 730 * Day

func (f filePeriods) periods(where string, inherit Periods) (Periods, error) {
	var out Periods
	var errs []error
	for _, field := range []struct {
		name string
		text string
		def  time.Duration
		dst  *time.Duration
	}{
		{"message_bodies_after_acknowledgement", f.MessageBodies, inherit.MessageBodies, &out.MessageBodies},
		{"unacknowledged_after_report", f.Unacknowledged, inherit.Unacknowledged, &out.Unacknowledged},
		{"audit_metadata", f.AuditMetadata, inherit.AuditMetadata, &out.AuditMetadata},
	} {
		d, err := parsePeriod(field.text, field.def)
		if err != nil {
			errs = append(errs, fmt.Errorf("retention policy: %s.%s: %w", where, field.name, err))
			continue
		}
		*field.dst = d
	}
	if len(errs) == 0 && out.AuditMetadata < minAudit {
		errs = append(errs, fmt.Errorf("retention policy: %s.audit_metadata: %v is less than the two-year look-back", where, out.AuditMetadata))
	}
	return out, errors.Join(errs...)
}

func parsePeriod(text string, def time.Duration) (time.Duration, error) {
	if text == "" {
		if def == 0 {
			return 0, errors.New("required")
		}
		return def, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(text, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q: want whole days like 30d", text)
		}
		d = time.Duration(n) * Day
	} else {
		var err error
		if d, err = time.ParseDuration(text); err != nil {
			return 0, fmt.Errorf("%q: want days (30d) or a duration (720h)", text)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: must be positive", text)
	}
	return d, nil
}
