// Package ratelimit bounds how often one client may call an endpoint: the
// sign-in and token endpoints, against password guessing and floods of
// half-started sign-ins, and police intake, against a runaway or stolen
// credential. Each client (an address, a credential, a user name) has a
// token bucket of golang.org/x/time/rate that holds a minute's worth of
// requests and refills continuously; a client over its limit is answered
// 429 as an RFC 9457 problem, with Retry-After saying when to try again.
//
// The clock is injected, so tests move time instead of sleeping, and
// buckets left untouched long enough to be full again are forgotten, so
// memory stays bounded by the clients of the last few minutes.
package ratelimit

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/problem"
)

// Limiter is one limit applied to each client separately.
type Limiter struct {
	perMinute int
	clock     clock.Clock
	// idle is how long an untouched bucket takes to be full again, after
	// which forgetting it changes nothing.
	idle time.Duration

	mu        sync.Mutex
	clients   map[string]*client
	lastSweep time.Time
}

type client struct {
	bucket *rate.Limiter
	seen   time.Time
}

// New returns a limiter of perMinute requests a minute for each client,
// any of them at once.
func New(perMinute int, c clock.Clock) *Limiter {
	if perMinute < 1 {
		panic(fmt.Sprintf("ratelimit: %d requests a minute", perMinute))
	}
	if c == nil {
		c = clock.System
	}
	return &Limiter{perMinute: perMinute, clock: c, idle: time.Minute, clients: map[string]*client{}}
}

// Allow takes one request from key's bucket. When the bucket is empty it
// takes nothing and says how long until a request would be allowed.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	c := l.clients[key]
	if c == nil {
		c = &client{bucket: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)}
		l.clients[key] = c
	}
	c.seen = now
	r := c.bucket.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets buckets full again, at most once a minute.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.idle {
		return
	}
	l.lastSweep = now
	for key, c := range l.clients {
		if now.Sub(c.seen) > l.idle {
			delete(l.clients, key)
		}
	}
}

// Clients is how many clients the limiter remembers.
func (l *Limiter) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// KeyFunc names the client of a request; an empty key is not limited.
type KeyFunc func(*http.Request) string

// Handler limits next by key, answering 429 when a client is over.
func (l *Limiter) Handler(key KeyFunc, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := key(r); k != "" {
			if ok, wait := l.Allow(k); !ok {
				TooMany(w, r, wait)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// TooMany answers 429 with Retry-After in whole seconds, rounded up.
func TooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	seconds := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	problem.Write(w, r, problem.New(http.StatusTooManyRequests, "too-many-requests", "Too many requests",
		fmt.Sprintf("Too many requests from this client; nothing was done. Retry after %d seconds.", seconds)))
}
