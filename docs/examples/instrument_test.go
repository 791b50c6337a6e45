package examples_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/telemetry"
)

var tracer = otel.Tracer("github.com/acme/shop")

// Who the request acts for, and its ID: on the server span and every span
// started under the returned context.
func withRequestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ctx = telemetry.WithRequestID(ctx, r.Header.Get("X-Request-ID"))
		ctx = telemetry.WithUser(ctx, telemetry.User{ID: r.Header.Get("X-User-ID"), Tier: "pro"})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func Example_requestContext() {
	_ = withRequestContext(http.HandlerFunc(createOrder))
}

type monitor struct {
	ID, Company string
	Interval    time.Duration
}

// A scheduled job: its own trace, the job's context on every span of it.
func checkMonitor(ctx context.Context, m monitor) error {
	ctx, span := tracer.Start(ctx, "monitor.check", trace.WithNewRoot(), trace.WithAttributes(
		attribute.String("monitor.id", m.ID),
		attribute.Int64("monitor.interval", int64(m.Interval.Seconds())),
	))
	defer span.End()
	ctx = telemetry.WithAttributes(ctx,
		attribute.String("monitor.id", m.ID),
		attribute.String("company", m.Company),
	)
	return fetchSeries(ctx, m)
}

func Example_monitorContext() {
	_ = checkMonitor(context.Background(), monitor{ID: "mon_1", Company: "Tesla", Interval: time.Minute})
}

// An agent: one span per run, its name on every span below it.
func runAgent(ctx context.Context, name string, timeout time.Duration) error {
	ctx, span := tracer.Start(ctx, "agent.execute", trace.WithAttributes(
		attribute.String("agent.name", name),
		attribute.Int64("agent.timeout", timeout.Milliseconds()),
	))
	defer span.End()
	ctx = telemetry.WithAttributes(ctx, attribute.String("agent.name", name))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	start := time.Now()
	span.AddEvent("agent.started")
	records, err := callDataSource(ctx)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return fmt.Errorf("%s: %w", name, err)
	}
	span.SetAttributes(
		attribute.Float64("execution_time", float64(time.Since(start).Microseconds())/1000),
		attribute.Int("data_source.records", records),
	)
	span.AddEvent("agent.succeeded", trace.WithAttributes(attribute.Int("records", records)))
	return nil
}

func Example_agentContext() {
	_ = runAgent(context.Background(), "FinancialAgent", 2*time.Second)
}

var errUnavailable = errors.New("finnhub answered 503 Service Unavailable")

// The error is recorded once, where it happens; callers only mark their
// spans failed as it passes through.
func callDataSource(ctx context.Context) (int, error) {
	ctx, span := tracer.Start(ctx, "GET /api/v1/stock/metric", trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	span.AddEvent("cache.miss", trace.WithAttributes(attribute.String("cache.key", "metric:TSLA")))
	records, err := fetchMetric(ctx)
	if err != nil {
		span.RecordError(err, trace.WithStackTrace(true))
		span.SetStatus(codes.Error, err.Error())
		return 0, err
	}
	return records, nil
}

func fetchMetric(context.Context) (int, error) { return 0, errUnavailable }

func fetchSeries(ctx context.Context, _ monitor) error {
	_, err := callDataSource(ctx)
	return err
}
