package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
)

// Sender posts notices to an intake, as a police force's system would.
type Sender struct {
	// BaseURL is Lantern's one address, such as http://127.0.0.1:8080.
	BaseURL string
	Token   string
	Client  *http.Client
}

// NewSender returns a sender with a client sized for concurrency
// requests in flight.
func NewSender(baseURL, token string, concurrency int) *Sender {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = concurrency
	transport.MaxIdleConnsPerHost = concurrency
	return &Sender{BaseURL: strings.TrimRight(baseURL, "/"), Token: token,
		Client: &http.Client{Timeout: 30 * time.Second, Transport: transport}}
}

// Result is the intake's answer to one notice.
type Result struct {
	// Status is the HTTP status, or 0 when no answer came.
	Status     int
	IncidentID string
	Latency    time.Duration
	Err        error
}

// Send posts one notice and waits for the answer.
func (s *Sender) Send(ctx context.Context, n Notice) Result {
	body, err := n.Body()
	if err != nil {
		return Result{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.BaseURL+"/v1/incidents", bytes.NewReader(body))
	if err != nil {
		return Result{Err: fmt.Errorf("building request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Idempotency-Key", n.IdempotencyKey)
	start := time.Now()
	resp, err := s.Client.Do(req)
	if err != nil {
		return Result{Latency: time.Since(start), Err: fmt.Errorf("posting notice: %w", err)}
	}
	defer resp.Body.Close()
	var answer struct {
		IncidentID string `json:"incident_id"`
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	res := Result{Status: resp.StatusCode, Latency: time.Since(start), Err: err}
	if resp.StatusCode < 300 && json.Unmarshal(raw, &answer) == nil {
		res.IncidentID = answer.IncidentID
	}
	return res
}

// Plan is how a feed is sent.
type Plan struct {
	// Rate is notices per second; 0 sends as fast as Concurrency allows,
	// as a backlog arriving at once would.
	Rate float64
	// Count stops the feed after this many notices; 0 is no limit.
	Count int
	// Duration stops the feed after this long; 0 is no limit.
	Duration time.Duration
	// Concurrency bounds the requests in flight.
	Concurrency int
}

// ErrEndOfFeed, returned by a feed's source, ends the feed early with no
// error of its own.
var ErrEndOfFeed = errors.New("end of feed")

// Drive sends notices from next with send, paced by plan, until the plan
// is complete, next fails or ctx ends. It reports progress to progress
// once a second and returns what happened. The schedule is open-loop: each
// notice is due at start + i/Rate whatever happened to earlier ones, so a
// slow intake shows as latency and a falling rate rather than being hidden.
func Drive(ctx context.Context, plan Plan, next func() (Notice, error), send func(context.Context, Notice) Result, progress io.Writer) (*Stats, error) {
	if plan.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, plan.Duration)
		defer cancel()
	}
	stats := newStats()
	stopProgress := reportProgress(stats, progress)
	slots := make(chan struct{}, max(plan.Concurrency, 1))
	var wg sync.WaitGroup
	var feedErr error
	for i := 0; plan.Count == 0 || i < plan.Count; i++ {
		if !clock.Sleep(ctx, time.Until(stats.start.Add(plan.due(i)))) || !acquire(ctx, slots) {
			break
		}
		n, err := next()
		if err != nil {
			<-slots
			if !errors.Is(err, ErrEndOfFeed) {
				feedErr = err
			}
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			stats.add(send(context.WithoutCancel(ctx), n))
		})
	}
	wg.Wait()
	stats.finish()
	stopProgress()
	return stats, feedErr
}

// due is when the ith notice is due after the start.
func (p Plan) due(i int) time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(i) / p.Rate * float64(time.Second))
}

func acquire(ctx context.Context, slots chan struct{}) bool {
	select {
	case <-ctx.Done():
		return false
	case slots <- struct{}{}:
		return true
	}
}

// reportProgress writes a line a second until the returned function is
// called, which writes a last line.
func reportProgress(stats *Stats, w io.Writer) func() {
	if w == nil {
		return func() {}
	}
	stop := clock.Every(time.Second, func() { fmt.Fprintln(w, stats.progressLine()) })
	return func() {
		stop()
		fmt.Fprintln(w, stats.progressLine())
	}
}

// Stats counts a feed's outcomes. It is safe for concurrent use.
type Stats struct {
	mu        sync.Mutex
	start     time.Time
	end       time.Time
	statuses  map[int]int
	errors    int
	latencies []time.Duration
	// IncidentIDs lists the incidents accepted, in the order answered.
	IncidentIDs []string
}

func newStats() *Stats { return &Stats{start: time.Now(), statuses: map[int]int{}} }

func (s *Stats) add(r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencies = append(s.latencies, r.Latency)
	if r.Status == 0 {
		s.errors++
		return
	}
	s.statuses[r.Status]++
	if r.Status == http.StatusAccepted && r.IncidentID != "" {
		s.IncidentIDs = append(s.IncidentIDs, r.IncidentID)
	}
}

func (s *Stats) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.end = time.Now()
	slices.Sort(s.latencies)
}

// Sent is how many notices were sent, answered or not.
func (s *Stats) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.latencies)
}

// Status is how many answers had the HTTP status code.
func (s *Stats) Status(code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statuses[code]
}

// Unanswered is how many notices got no HTTP answer at all (timeouts,
// refused connections): their outcome is unknown.
func (s *Stats) Unanswered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errors
}

// Failed is how many notices were neither accepted nor recognised as
// repeats.
func (s *Stats) Failed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.errors
	for code, count := range s.statuses {
		if code != http.StatusAccepted && code != http.StatusOK {
			n += count
		}
	}
	return n
}

// Elapsed is how long the feed ran.
func (s *Stats) Elapsed() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.end
	if end.IsZero() {
		end = time.Now()
	}
	return end.Sub(s.start)
}

// Latency returns the q quantile (0 to 1) of the answer times, once the
// feed has finished.
func (s *Stats) Latency(q float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return quantile(s.latencies, q)
}

// quantile returns the q quantile of sorted durations by the nearest-rank
// method.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func (s *Stats) progressLine() string {
	sent, elapsed := s.Sent(), s.Elapsed()
	return fmt.Sprintf("simulate: %6.1fs sent %d accepted %d repeated %d failed %d (%.1f/s)",
		elapsed.Seconds(), sent, s.Status(http.StatusAccepted), s.Status(http.StatusOK), s.Failed(),
		float64(sent)/max(elapsed.Seconds(), 1e-9))
}

// WriteSummary writes the feed's outcome: every status with its count and
// the answer times.
func (s *Stats) WriteSummary(w io.Writer) {
	sent, elapsed := s.Sent(), s.Elapsed()
	fmt.Fprintf(w, "sent %d notices in %s (%.1f/s)\n", sent, elapsed.Round(time.Millisecond),
		float64(sent)/max(elapsed.Seconds(), 1e-9))
	s.mu.Lock()
	codes := slices.Sorted(maps.Keys(s.statuses))
	s.mu.Unlock()
	for _, code := range codes {
		fmt.Fprintf(w, "  %d %-22s %d\n", code, http.StatusText(code), s.Status(code))
	}
	if n := s.Unanswered(); n > 0 {
		fmt.Fprintf(w, "  no answer                  %d\n", n)
	}
	fmt.Fprintf(w, "latency p50 %s  p90 %s  p99 %s  max %s\n", s.Latency(0.50).Round(time.Microsecond*100),
		s.Latency(0.90).Round(time.Microsecond*100), s.Latency(0.99).Round(time.Microsecond*100),
		s.Latency(1).Round(time.Microsecond*100))
}
