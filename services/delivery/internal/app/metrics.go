package app

import (
	"encoding/json"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/metrics"
)

// deliveryMetrics counts the deliveries and failures the relay announced,
// per channel and recipient kind: counted when the stream acknowledged the
// announcement, so that a handler rolled back or redone is never counted.
type deliveryMetrics struct {
	delivered *prometheus.CounterVec
	failed    *prometheus.CounterVec
}

func newDeliveryMetrics(reg prometheus.Registerer) *deliveryMetrics {
	labels := []string{"channel", "recipient_kind"}
	m := &deliveryMetrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: "deliveries_total",
			Help: "Notices delivered, by channel and recipient kind."}, labels),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: "delivery_failures_total",
			Help: "Notices given up on (notification.failed), by channel and recipient kind."}, labels),
	}
	reg.MustRegister(m.delivered, m.failed)
	// Every kind starts at zero on the channel the service delivers by,
	// so that a rate of failures is defined before the first one.
	for _, k := range events.RecipientKinds() {
		m.delivered.WithLabelValues(channelInbox, string(k))
		m.failed.WithLabelValues(channelInbox, string(k))
	}
	return m
}

// channelInbox is the channel of a notice put in a workspace inbox.
const channelInbox = "inbox"

// outcome is the part of a delivered or failed event's data the metrics
// read: nothing personal.
type outcome struct {
	Channel   string           `json:"channel"`
	Recipient events.Recipient `json:"recipient"`
}

// published is the relay's observer.
func (m *deliveryMetrics) published(_ string, e cloudevent.Event, duplicate bool) {
	var vec *prometheus.CounterVec
	switch events.Type(e.Type()) {
	case events.NotificationDelivered:
		vec = m.delivered
	case events.NotificationFailed:
		vec = m.failed
	}
	if vec == nil || duplicate {
		return
	}
	var o outcome
	_ = json.Unmarshal(e.Data(), &o)
	if o.Channel == "" {
		o.Channel = "unspecified"
	}
	kind := "unknown"
	if o.Recipient.Kind.Valid() {
		kind = string(o.Recipient.Kind)
	}
	vec.WithLabelValues(o.Channel, kind).Inc()
}
