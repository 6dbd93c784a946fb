package timeliness

import (
	"fmt"
	"math"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

// clockTime formats t as a reader in England reads it, with the zone
// (GMT or BST) so that a time near a clock change is never ambiguous.
func clockTime(t time.Time) string { return t.In(calendar.London).Format("2006-01-02 15:04 MST") }

// Duration formats d briefly: 45s, 12m, 2h 05m, 3d 04h.
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < 0:
		return "-" + Duration(-d)
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// seconds formats a statistic in seconds as a duration, or "–" for none.
func seconds(s *float64) string {
	if s == nil {
		return "–"
	}
	return Duration(time.Duration(math.Round(*s)) * time.Second)
}

// percent formats a share, or "–" for none.
func percent(s *float64) string {
	if s == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", *s*100)
}
