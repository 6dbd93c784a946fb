package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/problem"
)

// Outcome is what a client finally knows about one notice.
type Outcome string

// The three things a client can know about a notice it sent.
const (
	// OK means Lantern acknowledged the notice (202, or 200 for a repeat).
	OK Outcome = "ok"
	// Fail means Lantern said definitely that it did not accept the notice.
	Fail Outcome = "fail"
	// Unknown means the client never learnt: every attempt timed out, was
	// reset or was answered with an error that leaves the outcome open.
	Unknown Outcome = "unknown"
)

// Verdict classifies one HTTP attempt.
type Verdict string

// Verdicts of an attempt.
const (
	// Accepted is a 2xx: the notice is stored.
	Accepted Verdict = "accepted"
	// Rejected is a 4xx the client must not retry unchanged.
	Rejected Verdict = "rejected"
	// Refused is a definite "not now": 503, 429 or 408, nothing stored;
	// the client retries with the same key.
	Refused Verdict = "refused"
	// Ambiguous is any other failure: a reset, a timeout, a 502, 504 or
	// 500, or any answer whose problem says the outcome is unknown. The
	// notice may or may not be stored; the client retries with the same
	// key to find out.
	Ambiguous Verdict = "ambiguous"
)

// OutcomeUnknownProblem is the problem type Lantern answers with when a
// request may or may not have been stored: the gateway's upstream died
// after the request reached it, or the intake's commit went unanswered.
const OutcomeUnknownProblem = problem.TypeBase + "outcome-unknown"

// Classify gives the verdict on an attempt that got status (0 when there
// was no response) with problem type problemType.
func Classify(status int, problemType string) Verdict {
	switch {
	case status >= 200 && status < 300:
		return Accepted
	case problemType == OutcomeUnknownProblem:
		return Ambiguous
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout:
		return Refused
	case status >= 400 && status < 500:
		return Rejected
	default:
		return Ambiguous
	}
}

// Attempt is one HTTP request for a notice.
type Attempt struct {
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
	// Status is 0 when no response arrived.
	Status int `json:"status"`
	// Problem is the problem type of an error response, or the transport
	// error when no response arrived.
	Problem string `json:"problem,omitempty"`
}

// Verdict classifies the attempt.
func (a Attempt) Verdict() Verdict { return Classify(a.Status, a.Problem) }

// Submission is everything a client did and learnt for one notice.
type Submission struct {
	Notice   Notice    `json:"-"`
	Ref      string    `json:"reference"`
	Attempts []Attempt `json:"attempts"`
	Outcome  Outcome   `json:"outcome"`
	// IncidentID is the id Lantern answered with, when it did.
	IncidentID string `json:"incident_id,omitempty"`
	// Status is the status of the last attempt.
	Status int `json:"status"`
}

// FirstSent is when the first attempt started.
func (s *Submission) FirstSent() time.Time {
	if len(s.Attempts) == 0 {
		return time.Time{}
	}
	return s.Attempts[0].Start
}

// Client posts notices as a police system would: it retries anything that
// is not a definite answer, always with the same Idempotency-Key, backing
// off with jitter, until it knows the outcome or RetryFor has passed.
type Client struct {
	BaseURL string
	// BaseURLs, when set, replaces BaseURL with several entry points
	// (gateways of one Lantern): each notice starts at the next one and
	// each retry moves on to the one after, as a police system with a
	// list of addresses would.
	BaseURLs []string
	Token    string
	HTTP     *http.Client
	// RetryFor bounds how long one notice is retried.
	RetryFor time.Duration
	// Backoff is the first pause between attempts; it doubles up to
	// MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Rand jitters the backoff; it must be safe for concurrent use.
	Rand func() float64

	// turn picks the entry point of the next notice.
	turn atomic.Uint64
}

// Submit posts n until its outcome is known or the retry time runs out.
func (c *Client) Submit(ctx context.Context, n Notice) *Submission {
	s := &Submission{Notice: n, Ref: n.Reference}
	deadline := time.Now().Add(c.RetryFor)
	pause := c.Backoff
	// One ambiguous attempt leaves the outcome open until a later answer
	// settles it: a refusal afterwards does not prove nothing was stored.
	s.Outcome = Fail
	first := c.turn.Add(1)
	for try := first; ; try++ {
		a, incidentID := c.attempt(ctx, c.baseURL(try), n)
		s.Attempts = append(s.Attempts, a)
		s.Status = a.Status
		switch a.Verdict() {
		case Accepted:
			s.Outcome, s.IncidentID = OK, incidentID
			return s
		case Rejected:
			s.Outcome = Fail
			return s
		case Ambiguous:
			s.Outcome = Unknown
		}
		if time.Now().Add(pause).After(deadline) || !clock.Sleep(ctx, c.jitter(pause)) {
			return s
		}
		pause = min(2*pause, c.MaxBackoff)
	}
}

// jitter spreads retries between half and all of d, so that clients
// refused together do not return together.
func (c *Client) jitter(d time.Duration) time.Duration {
	r := 0.5
	if c.Rand != nil {
		r = c.Rand()
	}
	return d/2 + time.Duration(r*float64(d/2))
}

// baseURL is the entry point of the try'th attempt.
func (c *Client) baseURL(try uint64) string {
	if len(c.BaseURLs) == 0 {
		return c.BaseURL
	}
	return c.BaseURLs[try%uint64(len(c.BaseURLs))]
}

func (c *Client) attempt(ctx context.Context, base string, n Notice) (Attempt, string) {
	a := Attempt{Start: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/incidents", bytes.NewReader(n.Body))
	if err != nil {
		a.Problem = err.Error()
		a.Duration = time.Since(a.Start)
		return a, ""
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Idempotency-Key", n.IdempotencyKey)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		a.Problem = transportProblem(err)
		a.Duration = time.Since(a.Start)
		return a, ""
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a.Duration = time.Since(a.Start)
	if err != nil {
		// The status line arrived but the body did not: the answer is
		// incomplete, so the outcome is open.
		a.Problem = transportProblem(err)
		return a, ""
	}
	a.Status = resp.StatusCode
	var body struct {
		IncidentID string `json:"incident_id"`
		Type       string `json:"type"`
	}
	_ = json.Unmarshal(raw, &body)
	a.Problem = body.Type
	if a.Verdict() == Accepted && body.IncidentID == "" {
		a.Status, a.Problem = 0, fmt.Sprintf("status %d without an incident id", resp.StatusCode)
	}
	return a, body.IncidentID
}

// transportProblem names a failure without a response in a few words.
func transportProblem(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() {
		return "timeout"
	}
	return "transport: " + err.Error()
}

// LockedRand returns a jitter source seeded with seed that is safe for
// concurrent use.
func LockedRand(seed uint64) func() float64 {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed+1))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64()
	}
}
