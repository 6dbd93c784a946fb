// Package webhooktest is a partner's webhook endpoint for tests: it
// answers with the statuses it is given, in turn, or not at all, and keeps
// every request it received, so that a test reads exactly what a partner's
// system was sent and how often.
package webhooktest

import (
	"io"
	"net/http"
	"slices"
	"sync"
)

// Partner is a partner's webhook endpoint (an http.Handler). The nth
// request is answered with Statuses[n-1], every one after the last status
// with the last; while Hang is set no request is answered until Hang is
// closed or the request is given up. Set the fields before serving.
type Partner struct {
	Statuses []int
	Hang     chan struct{}

	mu  sync.Mutex
	got []Request
}

// Request is one request the partner received.
type Request struct {
	Header http.Header
	Body   []byte
}

// ServeHTTP keeps the request, then answers it (or hangs).
func (p *Partner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.got = append(p.got, Request{r.Header.Clone(), body})
	n := len(p.got)
	p.mu.Unlock()
	if p.Hang != nil {
		select {
		case <-p.Hang:
		case <-r.Context().Done():
		}
		return
	}
	w.WriteHeader(p.Statuses[min(n, len(p.Statuses))-1])
}

// Requests are the requests received so far, oldest first.
func (p *Partner) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}
