package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/telemetry"
)

// trigger says who asked for a check.
type trigger string

const (
	triggerScheduler trigger = "scheduler" // a background job: its own trace
	triggerAPI       trigger = "api"       // POST /api/monitors/{id}/check: a child of the request
)

// checkResult is what one check found and what it did to the monitor.
type checkResult struct {
	Monitor         Monitor   // after the check
	Anomalies       []anomaly // changes detected
	Alerts          []Alert
	AlertsFailed    int
	Paused          bool // this check paused the monitor
	Aborted         bool // the caller went away; nothing was counted
	Err             error
	ChangesDetected int
}

// checker runs monitor checks: fetch a time series, detect anomalies, raise
// and deliver alerts, count consecutive failures and pause at the threshold.
// Safe for concurrent use.
type checker struct {
	tracer    trace.Tracer
	sources   *sourceClient
	store     Store
	sink      AlertSink
	detector  zScoreDetector
	threshold int
	timeout   time.Duration
	log       *slog.Logger
}

func monitorAttrs(m Monitor) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("monitor.id", m.ID),
		attribute.String("company", m.Company),
		attribute.String("industry", m.Industry),
	}
}

// run checks m under a monitor.check span — a new root for the scheduler, a
// child of the request for the API — bounded by the check timeout. The span
// carries monitor.id, company, industry, monitor.error_count,
// changes_detected and alerts_generated; a pause is a monitor.paused event.
// A check abandoned by its caller (shutdown, client gone) is not counted.
func (c *checker) run(ctx context.Context, m Monitor, trig trigger) checkResult {
	opts := []trace.SpanStartOption{trace.WithAttributes(monitorAttrs(m)...), trace.WithAttributes(
		attribute.String("monitor.trigger", string(trig)),
		attribute.Int64("monitor.interval", int64(m.Interval.Seconds())),
	)}
	if trig == triggerScheduler {
		opts = append(opts, trace.WithNewRoot())
	}
	ctx, span := c.tracer.Start(ctx, "monitor.check", opts...)
	defer span.End()
	ctx = telemetry.WithAttributes(ctx, monitorAttrs(m)...)

	checkCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	now := time.Now()
	res := c.guarded(checkCtx, span, m, now)
	err := res.Err
	if err != nil && ctx.Err() != nil {
		res.Aborted = true
		res.Monitor = m
		span.SetStatus(codes.Error, "check abandoned: "+ctx.Err().Error())
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(ctx.Err())))
		return res
	}
	if err != nil && errors.Is(checkCtx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("monitor check timed out after %s: %w", c.timeout, err)
	}

	updated, uerr := c.store.UpdateMonitor(context.WithoutCancel(ctx), m.ID, func(mm *Monitor) error {
		res.Paused = false // a store may retry update
		mm.Checks++
		mm.LastCheckAt = now
		mm.ChangesDetected += res.ChangesDetected
		mm.AlertsGenerated += len(res.Alerts)
		mm.RecentAlerts = append(mm.RecentAlerts, res.Alerts...)
		if over := len(mm.RecentAlerts) - maxRecentAlerts; over > 0 {
			mm.RecentAlerts = append(mm.RecentAlerts[:0:0], mm.RecentAlerts[over:]...)
		}
		if err == nil {
			mm.ErrorCount, mm.LastError = 0, ""
			return nil
		}
		mm.ErrorCount++
		mm.LastError = err.Error()
		if mm.Status == MonitorActive && mm.ErrorCount >= c.threshold {
			mm.Status, mm.PausedAt = MonitorPaused, now
			res.Paused = true
		}
		return nil
	})
	if uerr != nil {
		// Deleted meanwhile, or the store failed: the check's own outcome
		// still stands on the span.
		err = errors.Join(err, fmt.Errorf("recording the check of monitor %s: %w", m.ID, uerr))
		updated = m
	}
	res.Monitor, res.Err = updated, err
	span.SetAttributes(
		attribute.Int("monitor.error_count", updated.ErrorCount),
		attribute.Int("changes_detected", res.ChangesDetected),
		attribute.Int("alerts_generated", len(res.Alerts)),
		attribute.Int("alerts_failed", res.AlertsFailed),
		attribute.String("monitor.status", string(updated.Status)),
	)
	if res.Paused {
		span.AddEvent("monitor.paused", trace.WithAttributes(
			attribute.Int("monitor.pause_threshold", c.threshold),
			attribute.Int("monitor.error_count", updated.ErrorCount),
		))
		c.log.WarnContext(ctx, "monitor paused after consecutive failed checks",
			"monitor_id", m.ID, "threshold", c.threshold, "last_error", updated.LastError)
	}
	if err != nil {
		failSpan(span, err)
	}
	return res
}

// guarded runs the check's steps, turning a panic into a failed check: a
// scheduler worker must survive a bug in one check.
func (c *checker) guarded(ctx context.Context, span trace.Span, m Monitor, now time.Time) (res checkResult) {
	defer func() {
		if v := recover(); v != nil {
			recordPanic(span, v, debug.Stack())
			res.Err = recordedError{fmt.Errorf("panic in monitor check: %v", v)}
		}
	}()
	series, err := c.sources.fetch(ctx, epFinnhubCandles, query{Company: m.Company, Industry: m.Industry, Seq: uint64(m.Checks) + 1})
	if err != nil {
		res.Err = fmt.Errorf("fetching the time series: %w", err)
		return res
	}
	found, err := c.detect(ctx, series.Series)
	if err != nil {
		res.Err = err
		return res
	}
	res.Anomalies, res.ChangesDetected = found, len(found)
	res.Alerts = alertsFor(m, found, now)
	var failed []error
	for i := range res.Alerts {
		if err := c.deliver(ctx, res.Alerts[i]); err != nil {
			failed = append(failed, err)
			continue
		}
		res.Alerts[i].Delivered = true
	}
	if len(failed) > 0 {
		res.AlertsFailed = len(failed)
		res.Err = fmt.Errorf("%d of %d alerts undelivered: %w", len(failed), len(res.Alerts), failed[0])
	}
	return res
}

// detect runs anomaly detection under its own span, where a failure is
// recorded.
func (c *checker) detect(ctx context.Context, series []float64) ([]anomaly, error) {
	_, span := c.tracer.Start(ctx, "monitor.detect_anomalies", trace.WithAttributes(
		attribute.String("anomaly.method", "zscore"),
		attribute.Int("anomaly.window", c.detector.Window),
		attribute.Float64("anomaly.threshold", c.detector.Threshold),
		attribute.Int("anomaly.points", len(series)),
	))
	defer span.End()
	found, err := c.detector.detect(series)
	if err != nil {
		return nil, failSpan(span, fmt.Errorf("detecting anomalies: %w", err))
	}
	span.SetAttributes(attribute.Int("changes_detected", len(found)))
	return found, nil
}

// deliver sends one alert under its own client span, where a failure is
// recorded.
func (c *checker) deliver(ctx context.Context, a Alert) error {
	ctx, span := c.tracer.Start(ctx, "alert.deliver", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("alert.id", a.ID),
		attribute.String("alert.severity", a.Severity),
		semconv.ServicePeerName("alerts-webhook"),
	))
	defer span.End()
	if err := c.sink.Deliver(ctx, a); err != nil {
		return failSpan(span, err)
	}
	return nil
}
