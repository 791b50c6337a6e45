package app

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Alert is raised by a monitor check for a significant anomaly.
type Alert struct {
	ID        string    `json:"id"`
	MonitorID string    `json:"monitor_id"`
	Severity  string    `json:"severity"` // warning | critical
	Value     float64   `json:"value"`
	ZScore    float64   `json:"z_score"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
	Delivered bool      `json:"delivered"`
}

// AlertSink delivers alerts (a webhook, chat, email…). Deliver must return
// when ctx is done. The service wraps every delivery in its own span.
type AlertSink interface {
	Deliver(ctx context.Context, a Alert) error
}

// Alert thresholds, in standard deviations: an anomaly (|z| ≥ 3) is a change;
// only a marked one is worth waking someone.
const (
	alertWarningZ  = 3.5
	alertCriticalZ = 5
)

// alertsFor turns a check's anomalies into alerts.
func alertsFor(m Monitor, found []anomaly, now time.Time) []Alert {
	var alerts []Alert
	for _, a := range found {
		z := math.Abs(a.Z)
		if z < alertWarningZ {
			continue
		}
		sev := "warning"
		if z >= alertCriticalZ {
			sev = "critical"
		}
		alerts = append(alerts, Alert{
			ID: newID("alt_"), MonitorID: m.ID, Severity: sev, Value: a.Value, ZScore: a.Z,
			Message:   fmt.Sprintf("%s signal moved %.1fσ from its recent mean (%.2f → %.2f)", m.Company, a.Z, a.Mean, a.Value),
			CreatedAt: now,
		})
	}
	return alerts
}

// simulatedWebhook stands in for a real alert webhook: tens of milliseconds,
// and a share refuseRate of deliveries answered 503 (one in twenty for the
// service's default sink).
type simulatedWebhook struct {
	scale      float64
	refuseRate float64
}

// webhookRefuseRate is the default sink's share of deliveries answered 503.
const webhookRefuseRate = 0.05

func newSimulatedWebhook(scale float64) AlertSink {
	return simulatedWebhook{scale: scale, refuseRate: webhookRefuseRate}
}

func (w simulatedWebhook) Deliver(ctx context.Context, a Alert) error {
	if err := sleep(ctx, jitter(30*time.Millisecond, w.scale)); err != nil {
		return fmt.Errorf("delivering alert %s: %w", a.ID, err)
	}
	if w.refuseRate > 0 && rand.Float64() < w.refuseRate {
		return fmt.Errorf("delivering alert %s: %w", a.ID, &upstreamError{Source: "alerts-webhook", Status: 503})
	}
	return nil
}
