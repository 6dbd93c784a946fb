package refdata

import (
	"errors"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/reload"
)

// Store holds the reference data a running service uses and replaces it
// when the folder changes, without a restart. A new version is used only if
// it loads without a single problem; until then the last good set stays in
// use, so a half-finished edit can never route a notice to the wrong place.
type Store = reload.Value[Set]

// NewStore loads the folder dir. It fails if the folder has any problem,
// because a service must not start without good reference data.
func NewStore(dir string, log *zap.Logger) (*Store, error) {
	return reload.New(reload.Source[Set]{
		Name: "reference data", WhereKey: "dir", Where: dir,
		Read: func() (string, func() (*Set, error), error) {
			snap, err := readSnapshot(dir)
			if err != nil {
				return "unreadable: " + err.Error(), nil, err
			}
			return snap.version, func() (*Set, error) { return build(snap) }, nil
		},
		Version: (*Set).Version,
		Fields:  setFields,
		// The log names where each problem is but never the values, which
		// may be people's email addresses.
		ErrorFields: loadErrorFields,
		Taken:       func(set *Set) { logWarnings(log, set) },
	}, log)
}

func loadErrorFields(err error) []zap.Field {
	var loadErr *LoadError
	if errors.As(err, &loadErr) {
		return []zap.Field{zap.Int("problems", len(loadErr.Problems)), zap.Strings("locations", loadErr.Locations())}
	}
	return []zap.Field{zap.Error(err)}
}

// logWarnings names where each warning of set is, without the values,
// which may be personal data.
func logWarnings(log *zap.Logger, set *Set) {
	if ws := set.Warnings(); len(ws) > 0 {
		log.Warn("reference data loaded with warnings", zap.String("version", set.Version()),
			zap.Strings("locations", (&LoadError{Problems: ws}).Locations()))
	}
}

// setFields describes a set for the log by its version and sizes.
func setFields(set *Set) []zap.Field {
	return []zap.Field{
		zap.String("version", set.Version()),
		zap.Int("local_authorities", len(set.localAuthorities)),
		zap.Int("schools", len(set.schools)),
		zap.Int("gp_practices", len(set.gpPractices)),
		zap.Int("services", len(set.services)),
		zap.Int("bank_holidays", len(set.holidays)),
	}
}
