package telemetry

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

// Secrets the test service plants in errors, attributes and events. None may
// reach the fake Sentry, over either endpoint.
const (
	plantedEmail    = "jane.doe@example.com"
	plantedAPIKey   = "sk_live_51HqLyjWDarjtT1zdp7dcXyzAbC"
	plantedPassword = "hunter2-correct-horse"
	plantedCard     = "4111 1111 1111 1111"
)

var errUpstream = errors.New("upstream returned 503")

// failingService is the end-to-end test service: net/http, otelhttp server
// spans named by route, request IDs, telemetry.Recover — and the pipeline's
// TracerProvider only, never sentry-go. Each route fails in one of the ways
// the bridge must report.
type failingService struct {
	tp     trace.TracerProvider
	tracer trace.Tracer
}

func newFailingService(tp trace.TracerProvider) http.Handler {
	s := &failingService{tp: tp, tracer: tp.Tracer("bridge-test")}
	mux := http.NewServeMux()
	s.route(mux, "POST /api/analyze", "/api/analyze", s.analyze)
	s.route(mux, "POST /api/research", "/api/research", s.research)
	s.route(mux, "GET /api/reports/{id}", "/api/reports/{id}", s.report)
	s.route(mux, "GET /api/panic", "/api/panic", s.panics)
	s.route(mux, "GET /healthz", "/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeTestJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}

// route registers h behind otelhttp (span named by pattern, http.route set),
// request-ID middleware and Recover, as the reference service does.
func (s *failingService) route(mux *http.ServeMux, pattern, route string, h http.HandlerFunc) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("http.route", route))
		h(w, r)
	})
	mux.Handle(pattern, otelhttp.NewHandler(withTestRequestID(Recover(inner)), pattern, otelhttp.WithTracerProvider(s.tp)))
}

func withTestRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if id == "" {
			id = "req-generated"
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(WithRequestID(r.Context(), id)))
	})
}

// runAgent runs fn in an agent span the way the reference service's agents
// run: agent attributes, agent.name for child spans, an agent.started event,
// a timeout, and the error recorded with its stack.
func (s *failingService) runAgent(ctx context.Context, name string, timeout time.Duration, fn func(context.Context) error) error {
	ctx, span := s.tracer.Start(ctx, "agent.execute", trace.WithAttributes(
		attribute.String("agent.name", name),
		attribute.Int64("agent.timeout", timeout.Milliseconds()),
		attribute.StringSlice("agent.data_sources", []string{"sec_filings", "market_data"}),
	))
	defer span.End()
	ctx = WithAttributes(ctx, attribute.String("agent.name", name))
	span.AddEvent("agent.started")
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := fn(ctx)
	if err != nil {
		span.RecordError(err, trace.WithStackTrace(true))
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// analyze fails in an agent; the handler records the error again, wrapped.
func (s *failingService) analyze(w http.ResponseWriter, r *http.Request) {
	ctx := WithUser(r.Context(), User{ID: "u-1001", Tier: "enterprise"})
	ctx = WithAttributes(ctx, attribute.String("company", "Acme Corp"), attribute.String("industry", "retail"),
		attribute.String("user.email", plantedEmail))
	server := trace.SpanFromContext(ctx)
	server.AddEvent("request.validated", trace.WithAttributes(attribute.String("payment.card", plantedCard)))
	err := s.runAgent(ctx, "FinancialAgent", time.Second, func(ctx context.Context) error {
		_, fetch := s.tracer.Start(ctx, "datasource.fetch", trace.WithAttributes(
			attribute.String("datasource.name", "sec_filings"),
			attribute.String("api_key", plantedAPIKey),
			attribute.String("db.password", plantedPassword),
		))
		fetch.AddEvent("cache.miss")
		fetch.End()
		return fmt.Errorf("fetching filings for %s: %w", plantedEmail, errUpstream)
	})
	server.RecordError(fmt.Errorf("analysis failed: %w", err))
	server.SetStatus(codes.Error, "analysis failed")
	writeTestJSON(w, http.StatusBadGateway, map[string]string{"error": "analysis failed"})
}

// research times out in an agent; the handler records the same error.
func (s *failingService) research(w http.ResponseWriter, r *http.Request) {
	err := s.runAgent(r.Context(), "ResearchAgent", 5*time.Millisecond, func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	trace.SpanFromContext(r.Context()).RecordError(err)
	writeTestJSON(w, http.StatusGatewayTimeout, map[string]string{"error": "timed out"})
}

// report fails in the handler itself.
func (s *failingService) report(w http.ResponseWriter, r *http.Request) {
	span := trace.SpanFromContext(r.Context())
	span.RecordError(fmt.Errorf("rendering report %s: %w", r.PathValue("id"), errors.New("template missing")), trace.WithStackTrace(true))
	span.SetStatus(codes.Error, "report failed")
	writeTestJSON(w, http.StatusInternalServerError, map[string]string{"error": "report failed"})
}

func (s *failingService) panics(http.ResponseWriter, *http.Request) {
	var reports map[string]string
	reports["owner"] = plantedEmail // a nil map write: a runtime panic
}

func writeTestJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// monitorCheckFails is a background job, no HTTP: a monitor's check fails.
func monitorCheckFails(tp trace.TracerProvider) {
	_, span := tp.Tracer("bridge-test").Start(context.Background(), "monitor.check", trace.WithAttributes(
		attribute.String("monitor.id", "mon-7"),
		attribute.String("company", "Globex"),
		attribute.String("industry", "energy"),
		attribute.Int("monitor.error_count", 3),
	))
	span.RecordError(errors.New("source unavailable"), trace.WithStackTrace(true))
	span.SetStatus(codes.Error, "check failed")
	span.End()
}

func bridgeOptions(dsn string, extra ...Option) []Option {
	return append([]Option{
		WithDSN(dsn), WithGlobals(false), WithExporters(ExporterSentry),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		WithEnvironment("staging"), WithRelease("1.4.2"),
	}, extra...)
}

func clearBridgeEnv(t *testing.T) {
	clearEnv(t)
	for _, k := range []string{envSentrySampleRate, envRedactionConfig, envRedactionHashKey, "OTELSENTRY_SAMPLING_CONFIG"} {
		t.Setenv(k, "")
	}
}

// TestBridgeEndToEnd runs the test service against a fake Sentry (both
// endpoints of one DSN) and asserts on what arrived: one event per failure,
// linked to the trace received over OTLP, with type, value, in-app frames,
// tags, user, contexts, fingerprint and breadcrumbs — and no planted secret
// in the raw bytes of either endpoint.
func TestBridgeEndToEnd(t *testing.T) {
	clearBridgeEnv(t)
	fake := fakebackend.NewSentry(t)
	p, err := Setup(context.Background(), bridgeOptions(fake.DSN(), WithSampleRate(1))...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newFailingService(p.TracerProvider()))
	defer srv.Close()

	do := func(method, path, requestID string) (int, map[string]string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(`{}`))
		req.Header.Set("X-Request-ID", requestID)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if code, _ := do("POST", "/api/analyze", "req-agent"); code != http.StatusBadGateway {
		t.Errorf("analyze: %d", code)
	}
	if code, _ := do("GET", "/api/reports/q3", "req-handler"); code != http.StatusInternalServerError {
		t.Errorf("report: %d", code)
	}
	if code, _ := do("POST", "/api/research", "req-timeout"); code != http.StatusGatewayTimeout {
		t.Errorf("research: %d", code)
	}
	code, body := do("GET", "/api/panic", "req-panic")
	if code != http.StatusInternalServerError || body["error"] != "internal error" || body["request_id"] != "req-panic" {
		t.Errorf("panic answered %d %v, want 500 {internal error, req-panic}", code, body)
	}
	if code, _ := do("GET", "/healthz", "req-after-panic"); code != http.StatusOK {
		t.Errorf("the server stopped serving after a panic: %d", code)
	}
	monitorCheckFails(p.TracerProvider())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	events := fake.Events()
	byRequest := map[string]fakebackend.Event{}
	for _, ev := range events {
		key := ev.Tags["request_id"]
		if key == "" {
			key = "monitor"
		}
		if prev, dup := byRequest[key]; dup {
			t.Logf("%s: %v %v / %v %v", key, prev.Exception.Values[0].Value, prev.Contexts["trace"], ev.Exception.Values[0].Value, ev.Contexts["trace"])
			t.Errorf("two events for %s: duplicates were not collapsed", key)
		}
		byRequest[key] = ev
	}
	if len(events) != 5 || len(byRequest) != 5 {
		t.Fatalf("got %d events (%v), want 5: agent, handler, timeout, panic, monitor", len(events), keys(byRequest))
	}

	// Linking: every event names a span Sentry received over OTLP, in the
	// same trace, with the same parent.
	spans := fake.Spans()
	for key, ev := range byRequest {
		tc := ev.Contexts["trace"]
		s := findSpan(spans, tc["trace_id"], tc["span_id"])
		if s == nil {
			t.Errorf("%s: contexts.trace %v names no span received over OTLP", key, tc)
			continue
		}
		if want := hex.EncodeToString(s.ParentSpanId); want != "" && tc["parent_span_id"] != want {
			t.Errorf("%s: parent_span_id %v, OTLP says %s", key, tc["parent_span_id"], want)
		}
		if ev.Environment != "staging" || ev.Release != "1.4.2" || ev.Tags["environment"] != "staging" || ev.Tags["release"] != "1.4.2" {
			t.Errorf("%s: environment/release %q/%q tags %v", key, ev.Environment, ev.Release, ev.Tags)
		}
	}

	agent := byRequest["req-agent"]
	if s := findSpan(spans, agent.Contexts["trace"]["trace_id"], agent.Contexts["trace"]["span_id"]); s == nil || s.Name != "agent.execute" {
		t.Errorf("agent event is not from the deepest span (agent.execute): %v", agent.Contexts["trace"])
	}
	x := agent.Exception.Values[0]
	if x.Type != "*fmt.wrapError" || x.Value != "fetching filings for [EMAIL_REDACTED]: upstream returned 503" {
		t.Errorf("agent exception = %s: %s", x.Type, x.Value)
	}
	frames := x.Stacktrace.Frames
	if len(frames) == 0 {
		t.Fatal("agent event has no stack")
	}
	if top := frames[len(frames)-1]; top.Function != "(*failingService).runAgent" || !top.InApp ||
		top.Module != "github.com/otelsentry/otelsentry/telemetry" || top.Filename != "telemetry/bridge_test.go" || top.Lineno == 0 {
		t.Errorf("innermost agent frame = %+v", top)
	}
	wantTags := map[string]string{"endpoint": "/api/analyze", "method": "POST", "request_id": "req-agent",
		"agent.name": "FinancialAgent", "company": "Acme Corp", "industry": "retail"}
	for k, v := range wantTags {
		if agent.Tags[k] != v {
			t.Errorf("agent tag %s = %q, want %q", k, agent.Tags[k], v)
		}
	}
	if agent.Transaction != "POST /api/analyze" || agent.Level != "error" {
		t.Errorf("agent transaction %q level %q", agent.Transaction, agent.Level)
	}
	if fmt.Sprint(agent.User) != "map[data:map[tier:enterprise] id:u-1001]" {
		t.Errorf("user = %v, want {id, tier} only", agent.User)
	}
	if a := agent.Contexts["agent"]; a["name"] != "FinancialAgent" || a["timeout"] != float64(1000) || fmt.Sprint(a["data_sources"]) != "[sec_filings market_data]" {
		t.Errorf("contexts.agent = %v", a)
	}
	if r := agent.Contexts["request"]; r["method"] != "POST" || !strings.HasSuffix(fmt.Sprint(r["url"]), "/api/analyze") || r["status_code"] != float64(502) {
		t.Errorf("contexts.request = %v", r)
	}
	assertFingerprint(t, "agent", agent, "*fmt.wrapError", "agent:FinancialAgent")
	var crumbs []string
	for _, b := range agent.Breadcrumbs.Values {
		crumbs = append(crumbs, b.Category+":"+b.Message)
	}
	wantCrumbs := []string{"http:start POST /api/analyze", "request:request.validated", "agent:start agent.execute", "agent:agent.started"}
	if !slices.Equal(crumbs, wantCrumbs) {
		t.Errorf("agent breadcrumbs = %v, want %v", crumbs, wantCrumbs)
	}

	handler := byRequest["req-handler"]
	assertFingerprint(t, "handler", handler, "*fmt.wrapError", "endpoint:/api/reports/{id}")
	if hx := handler.Exception.Values[0]; hx.Value != "rendering report q3: template missing" || len(hx.Stacktrace.Frames) == 0 {
		t.Errorf("handler exception = %+v", hx)
	}

	timeout := byRequest["req-timeout"]
	assertFingerprint(t, "timeout", timeout, "context.DeadlineExceeded", "agent:ResearchAgent")
	if timeout.Contexts["trace"]["status"] != "deadline_exceeded" || timeout.Exception.Values[0].Type != "context.deadlineExceededError" {
		t.Errorf("timeout status %v type %s", timeout.Contexts["trace"]["status"], timeout.Exception.Values[0].Type)
	}

	pan := byRequest["req-panic"]
	px := pan.Exception.Values[0]
	if pan.Level != "fatal" || px.Type != "panic" || px.Value != "assignment to entry in nil map" || px.Mechanism["handled"] != false {
		t.Errorf("panic event: level %q exception %s: %s mechanism %v", pan.Level, px.Type, px.Value, px.Mechanism)
	}
	if top := px.Stacktrace.Frames[len(px.Stacktrace.Frames)-1]; top.Function != "(*failingService).panics" || !top.InApp {
		t.Errorf("innermost panic frame = %+v, want the panicking handler", top)
	}
	assertFingerprint(t, "panic", pan, "panic", "endpoint:/api/panic")

	mon := byRequest["monitor"]
	assertFingerprint(t, "monitor", mon, "*errors.errorString", "monitor:mon-7")
	if m := mon.Contexts["monitor"]; m["id"] != "mon-7" || m["company"] != "Globex" || m["industry"] != "energy" || m["error_count"] != float64(3) {
		t.Errorf("contexts.monitor = %v", m)
	}

	for _, secret := range []string{plantedEmail, plantedAPIKey, plantedPassword, plantedCard} {
		if strings.Contains(string(fake.RawEnvelopes()), secret) {
			t.Errorf("%q reached Sentry in an event", secret)
		}
		if strings.Contains(string(fake.RawOTLP()), secret) {
			t.Errorf("%q reached Sentry over OTLP", secret)
		}
	}
	if raw := string(fake.RawEnvelopes()); !strings.Contains(raw, "[EMAIL_REDACTED]") {
		t.Error("no placeholder in the events: was the engine run?")
	}
	t.Logf("example event (agent failure):\n%s", agent.Raw())
}

func assertFingerprint(t *testing.T, name string, ev fakebackend.Event, want ...string) {
	t.Helper()
	if !slices.Equal(ev.Fingerprint, want) {
		t.Errorf("%s fingerprint = %q, want %q", name, ev.Fingerprint, want)
	}
}

func findSpan(spans []*tracepb.Span, traceID, spanID any) *tracepb.Span {
	for _, s := range spans {
		if hex.EncodeToString(s.TraceId) == traceID && hex.EncodeToString(s.SpanId) == spanID {
			return s
		}
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestBridgeReportsEveryErrorAtLowSampleRate: at a trace sample rate of 0.1,
// every one of 1 000 failing requests produces an event — errors are never
// sampled away with traces.
func TestBridgeReportsEveryErrorAtLowSampleRate(t *testing.T) {
	clearBridgeEnv(t)
	fake := fakebackend.NewSentry(t)
	p, err := Setup(context.Background(), bridgeOptions(fake.DSN(), WithSampleRate(0.1))...)
	if err != nil {
		t.Fatal(err)
	}
	h := newFailingService(p.TracerProvider())
	const n = 1000
	start := time.Now()
	for i := 0; i < n; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", fmt.Sprintf("/api/reports/r%d", i), nil))
		if rec.Code != http.StatusInternalServerError {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	served := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	t.Logf("%d requests served in %v; events delivered %v later", n, served.Round(time.Millisecond), (time.Since(start) - served).Round(time.Millisecond))
	traces := map[any]bool{}
	for _, ev := range fake.Events() {
		traces[ev.Contexts["trace"]["trace_id"]] = true
	}
	if len(traces) != n {
		t.Errorf("%d traces have an event, want all %d", len(traces), n)
	}
}

// TestBeforeSendScrubsEventsCapturedElsewhere: an event that does not come
// from the bridge — a library calling sentry-go with the pipeline's client —
// is scrubbed by BeforeSend before it reaches the transport.
func TestBeforeSendScrubsEventsCapturedElsewhere(t *testing.T) {
	clearBridgeEnv(t)
	fake := fakebackend.NewSentry(t)
	c := &config{}
	for _, o := range bridgeOptions(fake.DSN()) {
		o(c)
	}
	if err := c.resolve(); err != nil {
		t.Fatal(err)
	}
	client, err := c.newSentryClient(c.errorsBridge.beforeSend(c))
	if err != nil {
		t.Fatal(err)
	}
	client.CaptureException(fmt.Errorf("payment for %s failed with card %s", plantedEmail, plantedCard), nil, nil)
	client.CaptureMessage("login "+plantedEmail+" token="+plantedAPIKey, nil, nil)
	if !client.Flush(5 * time.Second) {
		t.Fatal("flush")
	}
	if n := len(fake.Events()); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
	for _, secret := range []string{plantedEmail, plantedCard, plantedAPIKey} {
		if strings.Contains(string(fake.RawEnvelopes()), secret) {
			t.Errorf("%q reached Sentry", secret)
		}
	}
}

func TestErrorSampleRateConfiguration(t *testing.T) {
	for _, c := range []struct {
		env  string
		opts []Option
		want float64
		err  string
	}{
		{want: 1},
		{env: "0.25", want: 0.25},
		{env: "0.25", opts: []Option{WithErrorSampleRate(0.5)}, want: 0.5},
		{env: "2", err: `SENTRY_SAMPLE_RATE="2"`},
		{env: "lots", err: `SENTRY_SAMPLE_RATE="lots"`},
		{opts: []Option{WithErrorSampleRate(-1)}, err: "WithErrorSampleRate"},
		{opts: []Option{WithFingerprintRules(FingerprintRule{Name: "broken", Fingerprint: []string{"{x"}})}, err: "broken"},
	} {
		cfg := &config{}
		for _, o := range append([]Option{withGetenv(envMap(map[string]string{envSentrySampleRate: c.env})), WithRelease("r")}, c.opts...) {
			o(cfg)
		}
		err := cfg.resolve()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("env %q opts %d: err = %v, want one naming %s", c.env, len(c.opts), err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("env %q: %v", c.env, err)
			continue
		}
		if *cfg.errorsBridge.sampleRate != c.want {
			t.Errorf("env %q: rate %v, want %v", c.env, *cfg.errorsBridge.sampleRate, c.want)
		}
	}
}
