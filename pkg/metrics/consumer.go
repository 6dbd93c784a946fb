package metrics

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
)

// Consumers counts and times the events a service's durable consumers
// handle, and reads each durable's lag from JetStream at scrape time.
type Consumers struct {
	handled     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	redelivered *prometheus.CounterVec
	lag         *lagCollector
}

// NewConsumers registers the consumer metrics with reg; lag is read from
// js for every durable passed to Middleware.
func NewConsumers(reg prometheus.Registerer, js jetstream.JetStream) *Consumers {
	c := &Consumers{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "consumer",
			Name: "events_total", Help: "Events handled, by durable consumer, event type and outcome (ok, retry, permanent, refused)."},
			[]string{"durable", "type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "consumer",
			Name: "handle_duration_seconds", Help: "Time a handler took over one event, by durable consumer.",
			Buckets: prometheus.DefBuckets}, []string{"durable"}),
		redelivered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "consumer",
			Name: "redeliveries_total", Help: "Deliveries after the first of a message, by durable consumer: retries, and redeliveries after a crash or an ack wait."},
			[]string{"durable"}),
		lag: &lagCollector{js: js, durables: map[string]bool{},
			pending: prometheus.NewDesc(Namespace+"_consumer_pending_messages",
				"Messages on the durable's subjects not yet delivered to it (its lag), as JetStream reports.", []string{"durable"}, nil),
			ackPending: prometheus.NewDesc(Namespace+"_consumer_ack_pending_messages",
				"Messages delivered to the durable and not yet acknowledged.", []string{"durable"}, nil),
			redelivering: prometheus.NewDesc(Namespace+"_consumer_redelivered_pending_messages",
				"Messages awaiting acknowledgement that were delivered more than once.", []string{"durable"}, nil),
		},
	}
	reg.MustRegister(c.handled, c.duration, c.redelivered, c.lag)
	return c
}

// Middleware counts, times and tells redeliveries of every event the
// durable handles, and adds the durable to those whose lag is scraped.
func (c *Consumers) Middleware(durable string) bus.Middleware {
	c.lag.add(durable)
	// The durable's series are looked up once here, not per event; made
	// now, the redeliveries are a rate from zero before the first.
	redelivered := c.redelivered.WithLabelValues(durable)
	duration := c.duration.WithLabelValues(durable)
	handled := c.handled.MustCurryWith(prometheus.Labels{"durable": durable})
	return func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, e cloudevent.Event) error {
			if bus.Delivery(ctx) > 1 {
				redelivered.Inc()
			}
			start := time.Now()
			err := next(ctx, e)
			duration.Observe(time.Since(start).Seconds())
			handled.WithLabelValues(e.Type(), outcome(err)).Inc()
			return err
		}
	}
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case bus.IsRefusal(err):
		return "refused"
	case bus.IsPermanent(err):
		return "permanent"
	}
	return "retry"
}

// lagCollector asks JetStream for each durable's state when scraped.
type lagCollector struct {
	mu                                sync.Mutex
	js                                jetstream.JetStream
	durables                          map[string]bool
	order                             []string
	pending, ackPending, redelivering *prometheus.Desc
}

func (l *lagCollector) add(durable string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.durables[durable] {
		l.durables[durable] = true
		l.order = append(l.order, durable)
	}
}

func (l *lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- l.pending
	ch <- l.ackPending
	ch <- l.redelivering
}

func (l *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := scrapeContext()
	defer cancel()
	l.mu.Lock()
	durables := append([]string(nil), l.order...)
	l.mu.Unlock()
	for _, d := range durables {
		info, err := consumerInfo(ctx, l.js, d)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(l.pending, err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(l.pending, prometheus.GaugeValue, float64(info.NumPending), d)
		ch <- prometheus.MustNewConstMetric(l.ackPending, prometheus.GaugeValue, float64(info.NumAckPending), d)
		ch <- prometheus.MustNewConstMetric(l.redelivering, prometheus.GaugeValue, float64(info.NumRedelivered), d)
	}
}

func consumerInfo(ctx context.Context, js jetstream.JetStream, durable string) (*jetstream.ConsumerInfo, error) {
	if js == nil {
		return nil, errors.New("no broker")
	}
	// Looking the consumer up fetches its state already: one request per
	// durable and scrape.
	cons, err := js.Consumer(ctx, bus.EventsStream, durable)
	if err != nil {
		return nil, err
	}
	return cons.CachedInfo(), nil
}
