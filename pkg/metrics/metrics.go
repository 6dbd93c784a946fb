// Package metrics is Lantern's Prometheus instrumentation, built on the
// Prometheus client library: one registry per service served on its admin
// listener at /metrics, HTTP and consumer middleware written once for every
// service, and collectors that read a service's own tables at scrape time
// (outbox depth, deadlines, the ledger's head), so that a figure is never
// kept twice and cannot drift from the database.
//
// No label ever carries personal data: labels are service, listener and
// route names, event types, durable names, recipient kinds, local
// authority codes, channels and outcomes, all from closed sets.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Namespace prefixes every Lantern metric.
const Namespace = "lantern"

// scrapeTimeout bounds each collector's database or broker query, so that
// a slow dependency makes a scrape incomplete rather than hang.
const scrapeTimeout = 3 * time.Second

// NewRegistry returns a registry holding the Go runtime and process
// collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Registerer is reg with every metric registered through it labelled
// service=name.
func Registerer(reg prometheus.Registerer, service string) prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"service": service}, reg)
}

// Handler serves reg in the Prometheus text or OpenMetrics format; a
// collector that fails is logged and the rest are still served.
func Handler(reg *prometheus.Registry, log *zap.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          zap.NewStdLog(log.With(zap.String("component", "metrics"))),
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}

// scrapeContext is the context a collector queries within.
func scrapeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), scrapeTimeout)
}
