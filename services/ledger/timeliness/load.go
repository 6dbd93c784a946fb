package timeliness

import (
	"context"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
)

// Load reads the projection rows the report needs from the database and
// computes it.
func Load(ctx context.Context, q projection.Querier, o Options) (Report, error) {
	from := o.From.In(calendar.London)
	to := o.To.AddDays(1).In(calendar.London)
	s, err := projection.LoadRange(ctx, q, from, to)
	if err != nil {
		return Report{}, err
	}
	return Compute(s, o), nil
}
