package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelsentry/otelsentry/processors"
	"github.com/otelsentry/otelsentry/sampling"
)

// Stats is a snapshot of the pipeline's own counters: what it started,
// exported, dropped (and why), redacted and reported to Sentry. Counters only
// grow; fields named as current values are gauges.
type Stats struct {
	SpansStarted uint64
	// Exporters holds one entry per configured exporter, by name.
	Exporters map[string]processors.BatcherStats
	// Sampling is the tail keep stage's (zero when tail keep is off).
	Sampling sampling.Stats
	// Errors is the Sentry error bridge's (zero without a DSN).
	Errors processors.ErrorsStats
	// Redactions counts replacements by rule name.
	Redactions map[string]uint64
	// Crons is the check-in stage's (zero without a DSN or with crons off).
	Crons processors.CronsStats
	// Sentry is the Sentry transport's: delivered, spooled, dropped (zero
	// without a DSN or with a transport of the caller's own).
	Sentry SentryTransportStats
}

// Stats returns the pipeline's counters now. Safe for concurrent use.
func (p *Pipeline) Stats() Stats {
	st := Stats{Exporters: map[string]processors.BatcherStats{}}
	if p.started != nil {
		st.SpansStarted = p.started.Load()
	}
	for i, b := range p.batchers {
		st.Exporters[p.batcherNames[i]] = b.Stats()
	}
	if p.keeper != nil {
		st.Sampling = p.keeper.Stats()
	}
	if p.errors != nil {
		st.Errors = p.errors.Stats()
	}
	if p.engine != nil {
		st.Redactions = p.engine.Counts()
	}
	if p.crons != nil {
		st.Crons = p.crons.Stats()
	}
	if p.sentry != nil {
		if t, ok := p.sentry.Transport.(*spoolingTransport); ok {
			st.Sentry = t.stats()
		}
	}
	return st
}

// MetricsHandler serves the pipeline's counters in the Prometheus text
// format (through the OpenTelemetry Prometheus exporter), for a service to
// mount at GET /metrics. It never shows configuration values such as the DSN
// or OTLP headers.
func (p *Pipeline) MetricsHandler() http.Handler {
	if p.metricsHandler == nil {
		return http.NotFoundHandler()
	}
	return p.metricsHandler
}

// newSelfMetrics builds the meter provider behind MetricsHandler. Every
// instrument is observable: values are read from the stages' own atomic
// counters at scrape time, so the span hot path pays nothing for metrics.
func newSelfMetrics(p *Pipeline, res *resource.Resource) (*sdkmetric.MeterProvider, http.Handler, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: creating the Prometheus exporter for self-metrics: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
	m := mp.Meter("github.com/otelsentry/otelsentry/telemetry")

	var errs []error
	counter := func(name, desc string) metric.Int64ObservableCounter {
		c, err := m.Int64ObservableCounter(name, metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	gauge := func(name, desc string) metric.Int64ObservableGauge {
		g, err := m.Int64ObservableGauge(name, metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	started := counter("otelsentry.spans.started", "Spans started through the pipeline.")
	exported := counter("otelsentry.spans.exported", "Spans an exporter accepted, by exporter.")
	dropped := counter("otelsentry.spans.dropped", "Spans not exported, by reason (and exporter where one applies).")
	kept := counter("otelsentry.traces.kept", "Local traces kept by the tail stage, by reason.")
	queue := gauge("otelsentry.export.queue.depth", "Spans queued or being exported, by exporter.")
	capacity := gauge("otelsentry.export.queue.capacity", "Export queue bound, by exporter.")
	held := gauge("otelsentry.tail.held_spans", "Spans held by the tail stage awaiting their trace's decision.")
	exportTime, err := m.Float64ObservableCounter("otelsentry.export.duration", metric.WithUnit("s"),
		metric.WithDescription("Time spent exporting, by exporter; divide by otelsentry.exports for the mean latency."))
	errs = append(errs, err)
	exports := counter("otelsentry.exports", "Export calls, by exporter.")
	redactions := counter("otelsentry.redactions", "Values redacted, by rule.")
	errEvents := counter("otelsentry.errors.captured", "Sentry error events built and handed to the Sentry client.")
	errDropped := counter("otelsentry.errors.dropped", "Exceptions not reported, by reason.")
	checkIns := counter("otelsentry.crons.checkins", "Sentry Crons check-ins sent from monitor.check runs.")
	checkInsDropped := counter("otelsentry.crons.dropped", "Job runs not checked in, by reason.")
	sentrySent := counter("otelsentry.sentry.events.sent", "Events the Sentry backend accepted (replayed from the spool included).")
	sentrySpooled := counter("otelsentry.sentry.events.spooled", "Events written to the on-disk spool while Sentry was unreachable or rate-limiting.")
	sentryDropped := counter("otelsentry.sentry.events.dropped", "Events the Sentry transport gave up, by reason.")
	spoolBytes := gauge("otelsentry.sentry.spool.bytes", "Bytes held in the error spool.")
	sentryQueue := gauge("otelsentry.sentry.queue.depth", "Events in the Sentry transport's memory queue.")
	for _, e := range errs {
		if e != nil {
			return nil, nil, fmt.Errorf("telemetry: creating self-metrics instruments: %w", e)
		}
	}

	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := p.Stats()
		o.ObserveInt64(started, int64(st.SpansStarted))
		for _, name := range sortedKeys(st.Exporters) {
			b := st.Exporters[name]
			ex := metric.WithAttributes(attribute.String("exporter", name))
			o.ObserveInt64(exported, int64(b.Exported), ex)
			o.ObserveInt64(dropped, int64(b.DroppedQueueFull), metric.WithAttributes(attribute.String("exporter", name), attribute.String("reason", "queue_full")))
			o.ObserveInt64(dropped, int64(b.Failed), metric.WithAttributes(attribute.String("exporter", name), attribute.String("reason", "export_failed")))
			o.ObserveInt64(queue, b.InFlight, ex)
			o.ObserveInt64(capacity, b.Capacity, ex)
			o.ObserveInt64(exports, int64(b.Exports), ex)
			o.ObserveFloat64(exportTime, b.ExportTime.Seconds(), ex)
		}
		s := st.Sampling
		for r := sampling.DropReason(0); r < sampling.NumDropReasons; r++ {
			o.ObserveInt64(dropped, int64(s.DroppedSpans[r]), metric.WithAttributes(attribute.String("reason", "tail_"+r.String())))
		}
		o.ObserveInt64(kept, int64(s.KeptErrorTraces), metric.WithAttributes(attribute.String("reason", "error")))
		o.ObserveInt64(kept, int64(s.KeptLatencyTraces), metric.WithAttributes(attribute.String("reason", "latency")))
		o.ObserveInt64(held, int64(s.HeldSpans))
		for _, rule := range sortedKeys(st.Redactions) {
			o.ObserveInt64(redactions, int64(st.Redactions[rule]), metric.WithAttributes(attribute.String("rule", rule)))
		}
		e := st.Errors
		o.ObserveInt64(errEvents, int64(e.Events))
		for reason, n := range map[string]uint64{"queue_full": e.QueueDropped, "sampled_out": e.SampledOut, "duplicate": e.Duplicates} {
			o.ObserveInt64(errDropped, int64(n), metric.WithAttributes(attribute.String("reason", reason)))
		}
		c := st.Crons
		o.ObserveInt64(checkIns, int64(c.CheckIns))
		for reason, n := range map[string]uint64{"throttled": c.Throttled, "too_many_open": c.OpenDropped,
			"queue_full": c.QueueDropped, "bad_slug": c.BadSlugs, "unfinished": c.Unfinished} {
			o.ObserveInt64(checkInsDropped, int64(n), metric.WithAttributes(attribute.String("reason", reason)))
		}
		if st.Sentry.Dropped != nil {
			o.ObserveInt64(sentrySent, int64(st.Sentry.Sent))
			o.ObserveInt64(sentrySpooled, int64(st.Sentry.Spooled))
			for _, reason := range sortedKeys(st.Sentry.Dropped) {
				o.ObserveInt64(sentryDropped, int64(st.Sentry.Dropped[reason]), metric.WithAttributes(attribute.String("reason", reason)))
			}
			o.ObserveInt64(spoolBytes, st.Sentry.SpoolBytes)
			o.ObserveInt64(sentryQueue, st.Sentry.QueueDepth)
		}
		return nil
	}, started, exported, dropped, kept, queue, capacity, held, exportTime, exports, redactions, errEvents, errDropped,
		checkIns, checkInsDropped, sentrySent, sentrySpooled, sentryDropped, spoolBytes, sentryQueue)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: registering self-metrics: %w", err)
	}
	return mp, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// logSummary writes the one shutdown line: what the pipeline did and, above
// all, what it could not deliver.
func (p *Pipeline) logSummary(l *slog.Logger) {
	st := p.Stats()
	var exported, queueFull, failed uint64
	var lost int64
	for _, b := range st.Exporters {
		exported += b.Exported
		queueFull += b.DroppedQueueFull
		failed += b.Failed
		lost += b.InFlight
	}
	var tailDropped uint64
	for _, n := range st.Sampling.DroppedSpans {
		tailDropped += n
	}
	var redacted uint64
	for _, n := range st.Redactions {
		redacted += n
	}
	var sentryDropped uint64
	for _, n := range st.Sentry.Dropped {
		sentryDropped += n
	}
	level := slog.LevelInfo
	if queueFull+failed > 0 || lost > 0 || st.Errors.QueueDropped > 0 || sentryDropped > 0 {
		level = slog.LevelWarn
	}
	l.Log(context.Background(), level, "telemetry shutdown summary",
		"spans_started", st.SpansStarted, "spans_exported", exported,
		"dropped_queue_full", queueFull, "dropped_export_failed", failed, "lost_at_shutdown", lost,
		"tail_dropped", tailDropped, "tail_kept_error_traces", st.Sampling.KeptErrorTraces,
		"tail_kept_latency_traces", st.Sampling.KeptLatencyTraces, "redactions", redacted,
		"errors_captured", st.Errors.Events, "errors_dropped_queue_full", st.Errors.QueueDropped,
		"sentry_sent", st.Sentry.Sent, "sentry_spooled", st.Sentry.Spooled, "sentry_dropped", sentryDropped,
		"sentry_spool_files", st.Sentry.SpoolFiles)
}
