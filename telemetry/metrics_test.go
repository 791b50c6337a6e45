package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

// TestMetricsEndpoint drives spans through a pipeline with every stage on
// and scrapes /metrics: the counters add up, and no configuration secret
// (the DSN key, OTLP headers) shows.
func TestMetricsEndpoint(t *testing.T) {
	clearEnv(t)
	collector := fakebackend.NewOTLP(t)
	fake := fakebackend.NewSentry(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20otlp-header-secret-123")
	var log syncBuffer
	p, err := Setup(context.Background(), testOptions(&log, WithDSN(fake.DSN()), WithExporters("otlp"), WithSampleRate(0))...)
	if err != nil {
		t.Fatal(err)
	}
	tr := p.TracerProvider().Tracer("m")
	for i := 0; i < 10; i++ {
		ctx, root := tr.Start(context.Background(), "GET /x", trace.WithAttributes(attribute.String("user.email", "bob@example.com")))
		_, child := tr.Start(ctx, "work")
		if i < 3 {
			child.RecordError(errors.New("boom"))
			child.SetStatus(codes.Error, "boom")
		}
		child.End()
		root.End()
	}
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	p.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		"otelsentry_spans_started_total 20",
		`otelsentry_spans_exported_total{exporter="otlp"} 6`,
		`otelsentry_traces_kept_total{reason="error"} 3`,
		`otelsentry_spans_dropped_total{reason="tail_sampled_out"} 14`,
		`otelsentry_errors_captured_total 3`,
		`otelsentry_export_queue_capacity{exporter="otlp"} 8192`,
		`otelsentry_redactions_total{rule="key_email"}`,
		`otelsentry_sentry_events_dropped_total{reason="queue_full"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, secret := range []string{"otlp-header-secret-123", "public@", "bob@example.com"} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics shows %q", secret)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "telemetry shutdown summary") || !strings.Contains(log.String(), "spans_started=20") {
		t.Errorf("no shutdown summary line:\n%s", log.String())
	}
	if strings.Contains(log.String(), "otlp-header-secret-123") {
		t.Error("logs show the OTLP header value")
	}
}
