package chaos

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// Workload offers notices at a steady rate from a few concurrent clients,
// the way several police systems would, and keeps what each client learnt.
type Workload struct {
	gen     *Generator
	client  *Client
	every   time.Duration
	workers int

	ctx    context.Context
	cancel context.CancelFunc
	stop   chan struct{}
	halt   sync.Once
	loop   sync.WaitGroup
	busy   sync.WaitGroup

	mu    sync.Mutex
	subs  []*Submission
	acked int
	err   error
}

// NewWorkload returns a workload that offers rate notices a second through
// at most workers requests in flight. It does nothing until Start.
func NewWorkload(gen *Generator, client *Client, rate float64, workers int) *Workload {
	ctx, cancel := context.WithCancel(context.Background())
	return &Workload{gen: gen, client: client, every: time.Duration(float64(time.Second) / rate), workers: workers,
		ctx: ctx, cancel: cancel, stop: make(chan struct{})}
}

// Start begins offering notices.
func (w *Workload) Start() {
	w.loop.Add(1)
	go w.offer()
}

func (w *Workload) offer() {
	defer w.loop.Done()
	slots := make(chan struct{}, w.workers)
	tick := time.NewTicker(w.every)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
		// A full set of busy clients holds the next notice back, so a
		// stalled Lantern sees the offered load fall, as it would from
		// real police systems waiting on their own requests.
		select {
		case <-w.stop:
			return
		case slots <- struct{}{}:
		}
		n, err := w.gen.Next()
		if err != nil {
			w.fail(err)
			return
		}
		w.busy.Add(1)
		go func() {
			defer w.busy.Done()
			defer func() { <-slots }()
			w.record(w.client.Submit(w.ctx, n))
		}()
	}
}

func (w *Workload) record(s *Submission) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.subs = append(w.subs, s)
	if s.Outcome == OK {
		w.acked++
	}
}

func (w *Workload) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = err
}

// Acked is how many notices have been acknowledged so far.
func (w *Workload) Acked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acked
}

// Stop offers no more notices and waits until every notice already offered
// has its outcome, retries included. It returns every submission and the
// first error in generating notices. It may be called more than once.
func (w *Workload) Stop() ([]*Submission, error) {
	w.halt.Do(func() { close(w.stop) })
	w.loop.Wait()
	w.busy.Wait()
	w.cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*Submission(nil), w.subs...), w.err
}

// Abort ends every retry at once; Stop still has to be called.
func (w *Workload) Abort() { w.cancel() }

// Snapshot returns the submissions whose outcome is known so far.
func (w *Workload) Snapshot() []*Submission {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*Submission(nil), w.subs...)
}

// NewFeed is a steady feed for a test outside the fault suite: notices
// generated from the reference data in refDir, each with a police
// reference starting with tag, offered at rate a second from four
// clients through the given entry points in turn, each notice retried
// with its key for up to three minutes. It does nothing until Start.
func NewFeed(refDir, tag string, entryPoints []string, token string, rate float64) (*Workload, error) {
	ref, err := refdata.Load(refDir)
	if err != nil {
		return nil, err
	}
	seed := uint64(time.Now().UnixNano())
	gen, err := NewGenerator(ref, fmt.Sprintf("%s-%06x", tag, seed&0xffffff), seed, time.Now)
	if err != nil {
		return nil, err
	}
	client := &Client{BaseURLs: entryPoints, Token: token, HTTP: &http.Client{Timeout: 15 * time.Second},
		RetryFor: 3 * time.Minute, Backoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, Rand: LockedRand(seed)}
	return NewWorkload(gen, client, rate, 4), nil
}
