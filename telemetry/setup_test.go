package telemetry

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
	"github.com/otelsentry/otelsentry/sampling"
)

// syncBuffer is a bytes.Buffer safe for the exporter goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testOptions keeps a test's pipeline private: no globals, a captured log,
// no git call.
func testOptions(log *syncBuffer, extra ...Option) []Option {
	return append([]Option{
		WithGlobals(false),
		WithRelease("test-release"),
		WithLogger(slog.New(slog.NewTextHandler(log, nil))),
	}, extra...)
}

func clearEnv(t *testing.T) {
	for _, k := range []string{"SENTRY_DSN", "SENTRY_ENVIRONMENT", "ENVIRONMENT", "SENTRY_RELEASE", "SENTRY_TRACES_SAMPLE_RATE",
		"OTEL_TRACES_EXPORTER", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_SDK_DISABLED", "OTEL_TRACES_SAMPLER",
		"OTEL_TRACES_SAMPLER_ARG", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_PROPAGATORS", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT"} {
		t.Setenv(k, "")
	}
}

// otlpBackend clears the environment and points the "otlp" exporter,
// chosen by environment variables, at a fake OTLP receiver.
func otlpBackend(t *testing.T) *fakebackend.OTLP {
	t.Helper()
	clearEnv(t)
	rcv := fakebackend.NewOTLP(t)
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	return rcv
}

// makeSpans ends n spans, each a root with one child, and returns the trace
// IDs.
func makeSpans(tp trace.TracerProvider, n int) []trace.TraceID {
	tr := tp.Tracer("test")
	var ids []trace.TraceID
	for i := 0; i < n; i++ {
		ctx, root := tr.Start(context.Background(), "GET /items/{id}", trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.route", "/items/{id}"), attribute.Int("item", i)))
		_, child := tr.Start(ctx, "db.query")
		child.End()
		root.End()
		ids = append(ids, root.SpanContext().TraceID())
	}
	return ids
}

// TestOTLPExporterDeliversProtobuf is the "otlp" backend: the same pipeline,
// chosen by environment variables only, delivers OTLP protobuf to a
// receiver, and Shutdown flushes: N spans ended before Shutdown → N received.
func TestOTLPExporterDeliversProtobuf(t *testing.T) {
	rcv := otlpBackend(t)
	t.Setenv("OTEL_SERVICE_NAME", "checkout")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "team=payments,deployment.environment.name=qa")

	var log syncBuffer
	// qa is not a known environment (production's rate would apply): every
	// span must arrive here, so the rate is explicit.
	p, err := Setup(context.Background(), testOptions(&log, WithSampleRate(1))...)
	if err != nil {
		t.Fatal(err)
	}
	const n = 250
	ids := makeSpans(p.TracerProvider(), n)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	spans := rcv.Spans()
	if len(spans) != 2*n {
		t.Fatalf("received %d spans, want %d", len(spans), 2*n)
	}
	seen := map[string]bool{}
	for _, s := range spans {
		seen[hex.EncodeToString(s.TraceId)] = true
	}
	for _, id := range ids {
		if !seen[id.String()] {
			t.Fatalf("trace %s not received", id)
		}
	}
	reqs := rcv.Requests()
	// No export carries more than defaultBatchSize spans.
	for _, r := range reqs {
		if r.Spans > defaultBatchSize {
			t.Errorf("an export of %d spans, want at most %d", r.Spans, defaultBatchSize)
		}
	}
	if reqs[0].Path != "/v1/traces" || !strings.HasPrefix(reqs[0].Header.Get("Content-Type"), "application/x-protobuf") {
		t.Errorf("request path %q content-type %q, want /v1/traces protobuf", reqs[0].Path, reqs[0].Header.Get("Content-Type"))
	}
	res := map[string]string{}
	for _, kv := range rcv.Resources()[0].Attributes {
		res[kv.Key] = kv.Value.GetStringValue()
	}
	for k, want := range map[string]string{"service.name": "checkout", "team": "payments",
		"deployment.environment.name": "qa", "service.version": "test-release"} {
		if res[k] != want {
			t.Errorf("resource %s = %q, want %q", k, res[k], want)
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown = %v, want the first call's nil", err)
	}
}

// TestExportBatchSizeFromEnvironment: OTEL_BSP_MAX_EXPORT_BATCH_SIZE bounds
// every export, and nothing is lost to the smaller batches.
func TestExportBatchSizeFromEnvironment(t *testing.T) {
	rcv := otlpBackend(t)
	t.Setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "30")
	var log syncBuffer
	p, err := Setup(context.Background(), testOptions(&log, WithSampleRate(1))...)
	if err != nil {
		t.Fatal(err)
	}
	makeSpans(p.TracerProvider(), 100)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	total, most := 0, 0
	for _, r := range rcv.Requests() {
		total += r.Spans
		most = max(most, r.Spans)
	}
	if total != 200 || most != 30 {
		t.Errorf("received %d spans, at most %d per export; want 200, 30", total, most)
	}
}

// TestSentryExporterPostsToDSNEndpoint is the "sentry" backend: OTLP posted to
// the DSN's project endpoint with X-Sentry-Auth carrying the public key, and
// the environment and release as span attributes (Sentry reads them there).
func TestSentryExporterPostsToDSNEndpoint(t *testing.T) {
	clearEnv(t)
	rcv := fakebackend.NewOTLP(t)
	dsn := "http://pubkey42@" + strings.TrimPrefix(rcv.URL, "http://") + "/42"
	t.Setenv("SENTRY_DSN", dsn)
	t.Setenv("SENTRY_ENVIRONMENT", "staging")
	var log syncBuffer
	p, err := Setup(context.Background(), testOptions(&log, WithSampleRate(1))...)
	if err != nil {
		t.Fatal(err)
	}
	makeSpans(p.TracerProvider(), 3)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	var otlp []fakebackend.Request
	for _, r := range rcv.Requests() {
		if strings.Contains(r.Path, "/integration/otlp/") {
			otlp = append(otlp, r)
		}
	}
	if len(otlp) == 0 {
		t.Fatalf("no OTLP request on the Sentry endpoint; got %d requests", len(rcv.Requests()))
	}
	if otlp[0].Path != "/api/42/integration/otlp/v1/traces/" {
		t.Errorf("path = %q", otlp[0].Path)
	}
	if auth := otlp[0].Header.Get("X-Sentry-Auth"); !strings.Contains(auth, "sentry_key=pubkey42") {
		t.Errorf("X-Sentry-Auth = %q, want sentry_key=pubkey42", auth)
	}
	if enc := otlp[0].Header.Get("Content-Encoding"); enc != "gzip" {
		t.Errorf("Content-Encoding = %q, want gzip", enc)
	}
	spans := rcv.Spans()
	if len(spans) != 6 {
		t.Fatalf("received %d spans, want 6", len(spans))
	}
	for _, s := range spans {
		if v, _ := fakebackend.SpanAttr(s, "sentry.environment"); v != "staging" {
			t.Errorf("span %s sentry.environment = %q", s.Name, v)
		}
		if v, _ := fakebackend.SpanAttr(s, "sentry.release"); v != "test-release" {
			t.Errorf("span %s sentry.release = %q", s.Name, v)
		}
	}
	line := log.String()
	if !strings.Contains(line, "Sentry initialized") || !strings.Contains(line, "environment=staging") ||
		!strings.Contains(line, "dsn_host=127.0.0.1") || !strings.Contains(line, "exporters=sentry") {
		t.Errorf("start-up line = %q", line)
	}
	if strings.Contains(line, "pubkey42") {
		t.Errorf("start-up line leaks the DSN key: %q", line)
	}
}

func TestStartupLineWithoutDSN(t *testing.T) {
	clearEnv(t)
	var log, out syncBuffer
	p, err := Setup(context.Background(), testOptions(&log, WithConsoleWriter(&out))...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	if !strings.Contains(log.String(), "Sentry disabled (SENTRY_DSN not set); traces -> console") {
		t.Errorf("start-up line = %q", log.String())
	}
}

// TestConsoleExporterTree checks the default backend prints one block per
// trace with children indented under their parent, errors marked.
func TestConsoleExporterTree(t *testing.T) {
	clearEnv(t)
	var log, out syncBuffer
	p, err := Setup(context.Background(), testOptions(&log, WithConsoleWriter(&out))...)
	if err != nil {
		t.Fatal(err)
	}
	tr := p.TracerProvider().Tracer("test")
	ctx, root := tr.Start(context.Background(), "POST /api/analyze", trace.WithSpanKind(trace.SpanKindServer))
	_, child := tr.Start(ctx, "agent.execute", trace.WithAttributes(attribute.String("agent.name", "FinancialAgent")))
	child.RecordError(fmt.Errorf("upstream timeout"))
	child.SetStatus(codes.Error, "upstream timeout")
	child.End()
	root.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	want := []string{
		"trace " + root.SpanContext().TraceID().String() + "\n",
		"\n  POST /api/analyze  ",
		"\n    ! agent.execute  ",
		`ERROR "upstream timeout"`,
		"agent.name=FinancialAgent",
		"      ! exception +",
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("console output lacks %q:\n%s", w, got)
		}
	}
}

func TestDisabledPipelineIsNoop(t *testing.T) {
	clearEnv(t)
	t.Setenv("OTEL_SDK_DISABLED", "true")
	t.Setenv("SENTRY_DSN", "not even parsed")
	var log syncBuffer
	p, err := Setup(context.Background(), testOptions(&log)...)
	if err != nil {
		t.Fatal(err)
	}
	_, s := p.TracerProvider().Tracer("t").Start(context.Background(), "x")
	if s.IsRecording() || s.SpanContext().IsValid() {
		t.Error("disabled pipeline records spans")
	}
	s.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}

// The kill switch turns telemetry off, not production: a disabled pipeline
// still reports the environment and release the service runs with (the
// reference service refuses fault injection in production by it), also
// when the environment comes from OTEL_RESOURCE_ATTRIBUTES.
func TestDisabledPipelineKeepsEnvironmentAndRelease(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"ENVIRONMENT": "production"}, "production"},
		{map[string]string{"SENTRY_ENVIRONMENT": "staging", "ENVIRONMENT": "production"}, "staging"},
		{map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=production"}, "production"},
		{map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "not a list"}, "development"},
	} {
		clearEnv(t)
		t.Setenv("OTEL_SDK_DISABLED", "true")
		t.Setenv("SENTRY_RELEASE", "v1.2.3")
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		var log syncBuffer
		p, err := Setup(context.Background(), WithGlobals(false), WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
		if err != nil {
			t.Fatalf("%v: %v", c.env, err)
		}
		if p.Environment() != c.want || p.Release() != "v1.2.3" {
			t.Errorf("%v: environment %q release %q, want %q and v1.2.3", c.env, p.Environment(), p.Release(), c.want)
		}
		_ = p.Shutdown(context.Background())
	}
}

// TestShutdownHonoursDeadline: a backend that never answers cannot hold
// Shutdown past the caller's deadline.
func TestShutdownHonoursDeadline(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	rcv := otlpBackend(t)
	rcv.Config.Handler = fakebackend.Hang(block)
	var log syncBuffer
	p, err := Setup(context.Background(), testOptions(&log)...)
	if err != nil {
		t.Fatal(err)
	}
	makeSpans(p.TracerProvider(), 5)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Shutdown(ctx) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Shutdown against a hung backend returned nil, want the deadline error")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown did not return after its deadline")
	}
}

// TestHostileSpanInputIsBounded: attribute values and counts are bounded by
// the span limits, whatever the caller puts on a span.
func TestHostileSpanInputIsBounded(t *testing.T) {
	clearEnv(t)
	rcv := fakebackend.NewOTLP(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	var log syncBuffer
	p, err := Setup(context.Background(), testOptions(&log, WithExporters("otlp"), WithSampleRate(1))...)
	if err != nil {
		t.Fatal(err)
	}
	_, s := p.TracerProvider().Tracer("h").Start(context.Background(), "big")
	s.SetAttributes(attribute.String("body", strings.Repeat("a", 1<<20)))
	for i := 0; i < 1000; i++ {
		s.SetAttributes(attribute.Int(fmt.Sprintf("k%d", i), i))
		s.AddEvent("e")
	}
	s.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := rcv.Spans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans", len(spans))
	}
	sp := spans[0]
	if len(sp.Attributes) > 128 || len(sp.Events) > 128 {
		t.Errorf("span kept %d attributes and %d events, want at most 128 each", len(sp.Attributes), len(sp.Events))
	}
	if sp.DroppedAttributesCount == 0 || sp.DroppedEventsCount == 0 {
		t.Errorf("drops not reported: attributes %d events %d", sp.DroppedAttributesCount, sp.DroppedEventsCount)
	}
	for _, kv := range sp.Attributes {
		if n := len(kv.Value.GetStringValue()); n > maxAttributeValueLength {
			t.Errorf("attribute %s is %d bytes, want at most %d", kv.Key, n, maxAttributeValueLength)
		}
	}
}

// TestSamplingAttributesOnTheWire: every exported span carries
// sampling.reason and sentry.sample_rate exactly once — head-sampled spans
// the rate of the rule that matched their root (added at export, see
// processors.AnnotateExports), tail-kept spans reason=error and rate 1 — and
// a span that set sampling.reason itself is not exported with two.
func TestSamplingAttributesOnTheWire(t *testing.T) {
	clearEnv(t)
	rcv := fakebackend.NewOTLP(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	var log syncBuffer
	p, err := Setup(context.Background(), testOptions(&log, WithExporters("otlp"), WithSampleRate(0),
		WithSamplingRules(sampling.Rule{Name: "GET /half", Rate: 0.5}))...)
	if err != nil {
		t.Fatal(err)
	}
	tr := p.TracerProvider().Tracer("test")
	const n = 60
	for range n {
		ctx, root := tr.Start(context.Background(), "GET /half",
			trace.WithAttributes(attribute.String("sampling.reason", "set-by-the-app")))
		_, child := tr.Start(ctx, "child")
		child.End()
		root.End()
	}
	ctx, root := tr.Start(context.Background(), "GET /other")
	_, child := tr.Start(ctx, "child")
	child.SetStatus(codes.Error, "boom")
	child.End()
	root.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	head, kept := 0, 0
	for _, s := range rcv.Spans() {
		var reasons []string
		var rates []float64
		for _, kv := range s.Attributes {
			switch kv.Key {
			case "sampling.reason":
				reasons = append(reasons, kv.Value.GetStringValue())
			case "sentry.sample_rate":
				rates = append(rates, kv.Value.GetDoubleValue())
			}
		}
		if len(reasons) != 1 || len(rates) != 1 {
			t.Fatalf("span %q exported with sampling.reason %q and sentry.sample_rate %v, want one of each", s.Name, reasons, rates)
		}
		switch reasons[0] {
		case "head":
			head++
			if rates[0] != 0.5 {
				t.Errorf("head-sampled span %q has sentry.sample_rate %v, want the rule's 0.5", s.Name, rates[0])
			}
		case "error":
			kept++
			if rates[0] != 1 {
				t.Errorf("tail-kept span %q has sentry.sample_rate %v, want 1", s.Name, rates[0])
			}
		default:
			t.Errorf("span %q has sampling.reason %q", s.Name, reasons[0])
		}
	}
	if kept != 2 {
		t.Errorf("%d tail-kept spans exported, want the failing trace's 2", kept)
	}
	// 60 traces at 0.5: both spans of each sampled trace, and some of each.
	if head%2 != 0 || head == 0 || head == 2*n {
		t.Errorf("%d head-sampled spans exported of %d traces at rate 0.5", head, n)
	}
}
