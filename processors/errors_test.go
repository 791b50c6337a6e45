package processors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/processors/redact"
)

const testModule = "github.com/otelsentry/otelsentry"

// errorsHarness is one TracerProvider whose chain is the errors stage in
// front of a span recorder, sending to a real sentry-go client with a
// MockTransport and the real redaction engine in BeforeSend.
type errorsHarness struct {
	stage  *Errors
	proc   sdktrace.SpanProcessor
	tr     *sentry.MockTransport
	rec    *spanRecorder
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
}

func newErrorsHarness(t testing.TB, mod func(*ErrorsConfig), opts ...sdktrace.TracerProviderOption) *errorsHarness {
	t.Helper()
	eng := redact.Default()
	tr := &sentry.MockTransport{}
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:        "http://key@127.0.0.1:1/42",
		Transport:  tr,
		SampleRate: 1,
		BeforeSend: func(e *sentry.Event, _ *sentry.EventHint) *sentry.Event { return ScrubEvent(eng, e) },
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultErrorsConfig()
	cfg.Environment, cfg.Release = "staging", "abc1234"
	cfg.InAppPrefixes = []string{testModule}
	if mod != nil {
		mod(&cfg)
	}
	stage, err := NewErrors(client, eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &spanRecorder{}
	proc := NewChain(rec, stage.Link())
	tp := sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(proc)}, opts...)...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &errorsHarness{stage: stage, proc: proc, tr: tr, rec: rec, tp: tp, tracer: tp.Tracer("test")}
}

// events shuts the provider down (which drains the stage) and returns what
// the transport received.
func (h *errorsHarness) events(t testing.TB) []*sentry.Event {
	t.Helper()
	if err := h.tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h.tr.Events()
}

type spanRecorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
	shut  bool
}

func (r *spanRecorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *spanRecorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
}
func (r *spanRecorder) ForceFlush(context.Context) error { return nil }

// ended returns a copy of the spans that have ended so far.
func (r *spanRecorder) ended() []sdktrace.ReadOnlySpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), r.spans...)
}
func (r *spanRecorder) Shutdown(context.Context) error {
	r.mu.Lock()
	r.shut = true
	r.mu.Unlock()
	return nil
}

// recordOnly is the head decision of an unsampled trace in this pipeline:
// recorded (so errors are seen) but not sampled.
type recordOnly struct{}

func (recordOnly) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return sdktrace.SamplingResult{Decision: sdktrace.RecordOnly, Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState()}
}
func (recordOnly) Description() string { return "RecordOnly" }

var errUpstream = errors.New("upstream returned 503")

// agentFailure is one request in which an agent fails: the error is recorded
// on the agent span with a stack, then again, wrapped, on the server span.
// It returns the server span's and the agent span's contexts.
func agentFailure(tracer trace.Tracer, secret string) (root, agent trace.SpanContext) {
	ctx, server := tracer.Start(context.Background(), "POST /api/analyze",
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", "POST"),
			attribute.String("http.route", "/api/analyze"),
			attribute.String("url.scheme", "http"),
			attribute.String("server.address", "api.example.com"),
			attribute.String("url.path", "/api/analyze"),
			attribute.String("request_id", "req-42"),
			attribute.String("user.id", "u-7"),
			attribute.String("user.tier", "enterprise"),
			attribute.String("user.email", "jane.doe@example.com"),
			attribute.String("company", "Acme Corp"),
			attribute.String("industry", "retail"),
		))
	server.AddEvent("request.validated", trace.WithAttributes(attribute.String("company", "Acme Corp")))
	actx, ag := tracer.Start(ctx, "agent.execute", trace.WithAttributes(
		attribute.String("agent.name", "FinancialAgent"),
		attribute.Int64("agent.timeout", 2000),
		attribute.StringSlice("agent.data_sources", []string{"sec_filings", "market_data"}),
		attribute.String("request_id", "req-42"),
	))
	ag.AddEvent("agent.started")
	_, fetch := tracer.Start(actx, "datasource.fetch", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "postgresql")))
	fetch.End()
	err := fmt.Errorf("fetching filings for %s: %w", secret, errUpstream)
	ag.RecordError(err, trace.WithStackTrace(true))
	ag.SetStatus(codes.Error, err.Error())
	ag.End()
	server.RecordError(fmt.Errorf("analysis failed: %w", err))
	server.SetStatus(codes.Error, "analysis failed")
	server.SetAttributes(attribute.Int("http.response.status_code", 502))
	server.End()
	return server.SpanContext(), ag.SpanContext()
}

func TestErrorsEventFromAgentFailure(t *testing.T) {
	h := newErrorsHarness(t, nil)
	root, agent := agentFailure(h.tracer, "jane.doe@example.com")
	evs := h.events(t)
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1 (the server span's copy collapsed)", len(evs))
	}
	ev := evs[0]

	if ev.Level != sentry.LevelError {
		t.Errorf("level = %q, want error", ev.Level)
	}
	if len(ev.Exception) != 1 {
		t.Fatalf("exceptions = %d", len(ev.Exception))
	}
	x := ev.Exception[0]
	if x.Type != "*fmt.wrapError" {
		t.Errorf("exception type = %q", x.Type)
	}
	if x.Value != "fetching filings for [EMAIL_REDACTED]: upstream returned 503" {
		t.Errorf("exception value = %q", x.Value)
	}
	if x.Stacktrace == nil || len(x.Stacktrace.Frames) == 0 {
		t.Fatal("no stack trace")
	}
	last := x.Stacktrace.Frames[len(x.Stacktrace.Frames)-1]
	if last.Function != "agentFailure" || last.Module != testModule+"/processors" || !last.InApp ||
		last.Filename != "processors/errors_test.go" || !strings.HasSuffix(last.AbsPath, "/processors/errors_test.go") || last.Lineno == 0 {
		t.Errorf("innermost frame = %+v, want agentFailure in processors/errors_test.go, in app", last)
	}
	for _, f := range x.Stacktrace.Frames {
		if strings.HasPrefix(f.Module, "go.opentelemetry.io/otel/sdk") {
			t.Errorf("recording frame left in the stack: %+v", f)
		}
	}

	tc := ev.Contexts["trace"]
	if tc["trace_id"] != root.TraceID().String() || tc["span_id"] != agent.SpanID().String() ||
		tc["parent_span_id"] != root.SpanID().String() || tc["op"] != "agent.execute" || tc["status"] != "internal_error" {
		t.Errorf("contexts.trace = %v", tc)
	}
	if ev.Transaction != "POST /api/analyze" {
		t.Errorf("transaction = %q", ev.Transaction)
	}
	wantTags := map[string]string{
		"endpoint": "/api/analyze", "method": "POST", "request_id": "req-42", "agent.name": "FinancialAgent",
		"company": "Acme Corp", "industry": "retail", "environment": "staging", "release": "abc1234",
	}
	for k, v := range wantTags {
		if ev.Tags[k] != v {
			t.Errorf("tag %s = %q, want %q", k, ev.Tags[k], v)
		}
	}
	if ev.User.ID != "u-7" || ev.User.Data["tier"] != "enterprise" || ev.User.Email != "" || ev.User.IPAddress != "" {
		t.Errorf("user = %+v", ev.User)
	}
	if a := ev.Contexts["agent"]; a["name"] != "FinancialAgent" || a["timeout"] != int64(2000) ||
		fmt.Sprint(a["data_sources"]) != "[sec_filings market_data]" {
		t.Errorf("contexts.agent = %v", a)
	}
	if r := ev.Contexts["request"]; r["method"] != "POST" || r["url"] != "http://api.example.com/api/analyze" || r["status_code"] != int64(502) {
		t.Errorf("contexts.request = %v", r)
	}
	if ev.Request == nil || ev.Request.URL != "http://api.example.com/api/analyze" {
		t.Errorf("request = %+v", ev.Request)
	}
	if got, want := strings.Join(ev.Fingerprint, "|"), "*fmt.wrapError|agent:FinancialAgent"; got != want {
		t.Errorf("fingerprint = %q, want %q", got, want)
	}
	if ev.Environment != "staging" || ev.Release != "abc1234" {
		t.Errorf("environment, release = %q, %q", ev.Environment, ev.Release)
	}
	if !ev.Timestamp.Equal(exceptionTime(t, h.rec, agent.SpanID())) {
		t.Errorf("timestamp %v is not the exception event's", ev.Timestamp)
	}

	var msgs []string
	for i, b := range ev.Breadcrumbs {
		msgs = append(msgs, b.Category+":"+b.Message)
		if i > 0 && b.Timestamp.Before(ev.Breadcrumbs[i-1].Timestamp) {
			t.Errorf("breadcrumbs out of order at %d", i)
		}
	}
	// Without the history, the fetch span that ended before the agent
	// failed is not known (see TestErrorsHistoryAddsEarlierSpans).
	want := []string{
		"http:start POST /api/analyze", "request:request.validated", "agent:start agent.execute", "agent:agent.started",
	}
	if strings.Join(msgs, ", ") != strings.Join(want, ", ") {
		t.Errorf("breadcrumbs:\n got %v\nwant %v", msgs, want)
	}

	if st := h.stage.Stats(); st.Events != 1 || st.Duplicates != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestErrorsHistoryAddsEarlierSpans(t *testing.T) {
	h := newErrorsHarness(t, func(c *ErrorsConfig) { c.HistorySize = 256 })
	agentFailure(h.tracer, "x")
	evs := h.events(t)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	var msgs []string
	for _, b := range evs[0].Breadcrumbs {
		msgs = append(msgs, b.Category+":"+b.Message)
	}
	want := []string{
		"http:start POST /api/analyze", "request:request.validated", "agent:start agent.execute",
		"agent:agent.started", "db:start datasource.fetch", "db:end datasource.fetch",
	}
	if strings.Join(msgs, ", ") != strings.Join(want, ", ") {
		t.Errorf("breadcrumbs:\n got %v\nwant %v", msgs, want)
	}
	if evs[0].Breadcrumbs[5].Type != "query" || evs[0].Breadcrumbs[5].Data["duration_ms"] == nil {
		t.Errorf("span end breadcrumb = %+v", evs[0].Breadcrumbs[5])
	}
}

func exceptionTime(t testing.TB, rec *spanRecorder, id trace.SpanID) time.Time {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range rec.spans {
		if s.SpanContext().SpanID() == id {
			for _, ev := range s.Events() {
				if ev.Name == "exception" {
					return ev.Time
				}
			}
		}
	}
	t.Fatal("exception event not found")
	return time.Time{}
}

func TestErrorsPassesEverySpanOnUnchanged(t *testing.T) {
	for _, sampler := range []sdktrace.Sampler{sdktrace.AlwaysSample(), recordOnly{}} {
		t.Run(sampler.Description(), func(t *testing.T) {
			var seen []sdktrace.ReadOnlySpan
			h := newErrorsHarness(t, nil, sdktrace.WithSampler(sampler))
			h.tp.RegisterSpanProcessor(&funcProcessor{onEnd: func(s sdktrace.ReadOnlySpan) { seen = append(seen, s) }})
			agentFailure(h.tracer, "x")
			evs := h.events(t)
			if len(evs) != 1 {
				t.Errorf("%d events, want 1: unsampled errors must be reported too", len(evs))
			}
			if len(h.rec.spans) != 3 || len(seen) != 3 {
				t.Fatalf("next got %d spans, a sibling processor %d; want 3", len(h.rec.spans), len(seen))
			}
			for i := range seen {
				if h.rec.spans[i] != seen[i] {
					t.Errorf("span %d was not passed on as it was", i)
				}
			}
			if !h.rec.shut {
				t.Error("Shutdown did not reach the next stage")
			}
		})
	}
}

type funcProcessor struct{ onEnd func(sdktrace.ReadOnlySpan) }

func (f *funcProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (f *funcProcessor) OnEnd(s sdktrace.ReadOnlySpan)                   { f.onEnd(s) }
func (f *funcProcessor) ForceFlush(context.Context) error                { return nil }
func (f *funcProcessor) Shutdown(context.Context) error                  { return nil }

func TestErrorsCollapsesOnlyRepeats(t *testing.T) {
	h := newErrorsHarness(t, nil)
	ctx, root := h.tracer.Start(context.Background(), "GET /api/report")
	mctx, mid := h.tracer.Start(ctx, "report.build")
	_, leaf := h.tracer.Start(mctx, "report.render")
	base := errors.New("template missing")
	leaf.RecordError(base)
	leaf.End()
	mid.RecordError(base) // same type and message
	mid.End()
	_, other := h.tracer.Start(ctx, "report.store")
	other.RecordError(errors.New("disk full")) // a different failure: its own event
	other.End()
	root.RecordError(errors.Join(fmt.Errorf("render: %w", base), errors.New("disk full"))) // wraps both
	root.End()

	evs := h.events(t)
	got := map[string]string{}
	for _, ev := range evs {
		got[ev.Exception[0].Value] = ev.Contexts["trace"]["span_id"].(string)
	}
	want := map[string]string{
		"template missing": leaf.SpanContext().SpanID().String(),
		"disk full":        other.SpanContext().SpanID().String(),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events (value → span) = %v, want %v", got, want)
	}
	if st := h.stage.Stats(); st.Duplicates != 2 {
		t.Errorf("duplicates = %d, want 2", st.Duplicates)
	}
}

func TestErrorsDistinctErrorsOnOneSpanChain(t *testing.T) {
	h := newErrorsHarness(t, nil)
	ctx, root := h.tracer.Start(context.Background(), "job")
	_, child := h.tracer.Start(ctx, "step")
	child.RecordError(errors.New("step failed"))
	child.End()
	root.RecordError(errors.New("unrelated cleanup failure"))
	root.End()
	if evs := h.events(t); len(evs) != 2 {
		t.Errorf("%d events, want 2", len(evs))
	}
}

func TestErrorsFingerprints(t *testing.T) {
	type span struct {
		attrs []attribute.KeyValue
		err   error
	}
	cases := []struct {
		name  string
		rules []FingerprintRule // nil: defaults
		root  []attribute.KeyValue
		child *span
		err   error // on the root when child is nil
		want  string
	}{
		{name: "api", root: []attribute.KeyValue{attribute.String("http.route", "/api/x")}, err: errors.New("boom"),
			want: "*errors.errorString|endpoint:/api/x"},
		{name: "agent in api", root: []attribute.KeyValue{attribute.String("http.route", "/api/x")},
			child: &span{attrs: []attribute.KeyValue{attribute.String("agent.name", "MarketAgent")}, err: errors.New("boom")},
			want:  "*errors.errorString|agent:MarketAgent"},
		{name: "agent timeout", root: []attribute.KeyValue{attribute.String("http.route", "/api/x")},
			child: &span{attrs: []attribute.KeyValue{attribute.String("agent.name", "MarketAgent")}, err: context.DeadlineExceeded},
			want:  "context.DeadlineExceeded|agent:MarketAgent"},
		{name: "wrapped agent timeout groups with the bare one", root: []attribute.KeyValue{attribute.String("http.route", "/api/y")},
			child: &span{attrs: []attribute.KeyValue{attribute.String("agent.name", "MarketAgent")}, err: fmt.Errorf("quotes: %w", context.DeadlineExceeded)},
			want:  "context.DeadlineExceeded|agent:MarketAgent"},
		{name: "monitor", root: []attribute.KeyValue{attribute.String("monitor.id", "mon-9")}, err: errors.New("boom"),
			want: "*errors.errorString|monitor:mon-9"},
		{name: "no rule applies", err: errors.New("boom"), want: ""},
		{name: "custom rules", rules: []FingerprintRule{{Name: "by-company", Fingerprint: []string{"{{ default }}", "company:{company}"}}},
			root: []attribute.KeyValue{attribute.String("company", "Acme"), attribute.String("http.route", "/api/x")}, err: errors.New("boom"),
			want: "{{ default }}|company:Acme"},
		{name: "empty rules: Sentry groups", rules: []FingerprintRule{}, root: []attribute.KeyValue{attribute.String("http.route", "/api/x")},
			err: errors.New("boom"), want: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newErrorsHarness(t, func(cfg *ErrorsConfig) {
				if c.rules != nil {
					cfg.FingerprintRules = c.rules
				}
			})
			ctx, root := h.tracer.Start(context.Background(), "root", trace.WithAttributes(c.root...))
			if c.child != nil {
				_, ch := h.tracer.Start(ctx, "child", trace.WithAttributes(c.child.attrs...))
				ch.RecordError(c.child.err)
				ch.End()
			} else {
				root.RecordError(c.err)
			}
			root.End()
			evs := h.events(t)
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			if got := strings.Join(evs[0].Fingerprint, "|"); got != c.want {
				t.Errorf("fingerprint = %q, want %q", got, c.want)
			}
		})
	}
}

func TestErrorsTimeoutEvent(t *testing.T) {
	h := newErrorsHarness(t, nil)
	ctx, root := h.tracer.Start(context.Background(), "POST /api/analyze")
	_, ag := h.tracer.Start(ctx, "agent.execute", trace.WithAttributes(attribute.String("agent.name", "ResearchAgent")))
	ag.RecordError(context.DeadlineExceeded)
	ag.SetStatus(codes.Error, "timed out")
	ag.End()
	root.End()
	evs := h.events(t)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	if ev.Exception[0].Type != "context.deadlineExceededError" || ev.Contexts["trace"]["status"] != "deadline_exceeded" || ev.Tags["timeout"] != "true" {
		t.Errorf("type %q, status %v, timeout tag %q", ev.Exception[0].Type, ev.Contexts["trace"]["status"], ev.Tags["timeout"])
	}
}

func TestErrorsPanicIsFatal(t *testing.T) {
	h := newErrorsHarness(t, nil)
	_, root := h.tracer.Start(context.Background(), "GET /api/boom")
	func() {
		defer func() {
			v := recover()
			root.AddEvent("exception", trace.WithAttributes(
				attribute.String("exception.type", "panic"),
				attribute.String("exception.message", fmt.Sprint(v)),
				attribute.String("exception.stacktrace", string(debug.Stack())),
			))
		}()
		panicker()
	}()
	root.End()
	evs := h.events(t)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	x := ev.Exception[0]
	if ev.Level != sentry.LevelFatal || x.Type != "panic" || x.Value != "nil map write" ||
		x.Mechanism == nil || x.Mechanism.Handled == nil || *x.Mechanism.Handled {
		t.Errorf("level %q, exception %+v, mechanism %+v", ev.Level, x, x.Mechanism)
	}
	frames := x.Stacktrace.Frames
	if top := frames[len(frames)-1]; top.Function != "panicker" {
		t.Errorf("innermost frame = %s.%s, want the panicking function", top.Module, top.Function)
	}
}

//go:noinline
func panicker() { panic("nil map write") }

func TestErrorsCodeLocationWithoutStack(t *testing.T) {
	h := newErrorsHarness(t, nil)
	_, s := h.tracer.Start(context.Background(), "op", trace.WithAttributes(
		attribute.String("code.function.name", testModule+"/app.(*Service).analyze"),
		attribute.String("code.file.path", "/src/app/handlers.go"),
		attribute.Int("code.line.number", 42),
	))
	s.RecordError(errors.New("no stack here"))
	s.End()
	evs := h.events(t)
	f := evs[0].Exception[0].Stacktrace.Frames
	if len(f) != 1 || f[0].Function != "(*Service).analyze" || f[0].Module != testModule+"/app" ||
		f[0].AbsPath != "/src/app/handlers.go" || f[0].Filename != "app/handlers.go" || f[0].Lineno != 42 || !f[0].InApp {
		t.Errorf("frames = %+v", f)
	}
}

func TestErrorsBreadcrumbsCapped(t *testing.T) {
	h := newErrorsHarness(t, nil)
	_, s := h.tracer.Start(context.Background(), "loop", trace.WithAttributes(attribute.String("http.route", "/x")))
	for i := 0; i < 120; i++ { // under the SDK's limit of 128 events a span
		s.AddEvent("loop.step", trace.WithAttributes(attribute.Int("i", i)))
	}
	s.RecordError(errors.New("gave up"))
	s.End()
	evs := h.events(t)
	bs := evs[0].Breadcrumbs
	if len(bs) != 100 {
		t.Fatalf("%d breadcrumbs, want 100", len(bs))
	}
	if bs[0].Data["i"] != int64(20) || bs[99].Data["i"] != int64(119) {
		t.Errorf("kept breadcrumbs %v … %v, want the latest 100 (20 … 119)", bs[0].Data, bs[99].Data)
	}
	if st := h.stage.Stats(); st.BreadcrumbsDropped != 21 { // 20 steps + the span's start
		t.Errorf("breadcrumbs dropped = %d, want 21", st.BreadcrumbsDropped)
	}
}

func TestErrorsSampleRate(t *testing.T) {
	for _, rate := range []float64{0, 0.5, 1} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			h := newErrorsHarness(t, func(c *ErrorsConfig) { c.SampleRate = rate })
			const n = 400
			for i := 0; i < n; i++ {
				_, s := h.tracer.Start(context.Background(), "op")
				s.RecordError(errors.New("x"))
				s.End()
			}
			got := len(h.events(t))
			st := h.stage.Stats()
			if uint64(got)+st.SampledOut != n {
				t.Errorf("events %d + sampled out %d != %d", got, st.SampledOut, n)
			}
			lo, hi := int(rate*n*0.8), int(rate*n*1.2)
			if got < lo || got > hi {
				t.Errorf("rate %v: %d of %d sent", rate, got, n)
			}
		})
	}
}

func TestErrorsEvictsOldestWhenFull(t *testing.T) {
	h := newErrorsHarness(t, func(c *ErrorsConfig) { c.MaxTraces = 2 })
	var roots []trace.Span
	for i := 0; i < 3; i++ {
		ctx, root := h.tracer.Start(context.Background(), fmt.Sprintf("root-%d", i))
		_, ch := h.tracer.Start(ctx, "child")
		ch.RecordError(fmt.Errorf("failure %d", i))
		ch.End()
		roots = append(roots, root)
	}
	// The first trace was sent early to make room; its root has not ended.
	waitFor(t, func() bool { return len(h.tr.Events()) == 1 })
	if v := h.tr.Events()[0].Exception[0].Value; v != "failure 0" {
		t.Errorf("evicted %q, want the oldest", v)
	}
	for _, r := range roots {
		r.End()
	}
	evs := h.events(t)
	if len(evs) != 3 {
		t.Errorf("%d events, want 3", len(evs))
	}
	if st := h.stage.Stats(); st.TracesEvicted != 1 {
		t.Errorf("evicted = %d, want 1", st.TracesEvicted)
	}
}

func TestErrorsExpiresTracesWhoseRootNeverEnds(t *testing.T) {
	h := newErrorsHarness(t, func(c *ErrorsConfig) { c.MaxAge = 20 * time.Millisecond })
	ctx, root := h.tracer.Start(context.Background(), "stuck")
	_, ch := h.tracer.Start(ctx, "child")
	ch.RecordError(errors.New("lost"))
	ch.End()
	waitFor(t, func() bool { return len(h.tr.Events()) == 1 })
	ev := h.tr.Events()[0]
	if ev.Transaction != "" {
		t.Errorf("transaction = %q: the root never ended", ev.Transaction)
	}
	if st := h.stage.Stats(); st.TracesExpired != 1 {
		t.Errorf("expired = %d", st.TracesExpired)
	}
	root.End()
}

func TestErrorsShutdownSendsHeldTraces(t *testing.T) {
	h := newErrorsHarness(t, nil)
	ctx, _ := h.tracer.Start(context.Background(), "never ends")
	_, ch := h.tracer.Start(ctx, "child")
	ch.RecordError(errors.New("held"))
	ch.End()
	if evs := h.events(t); len(evs) != 1 {
		t.Errorf("%d events after Shutdown, want 1", len(evs))
	}
	// After Shutdown spans still pass (the SDK stops calling, but a chain
	// used directly must not break).
	h.proc.OnEnd(h.rec.spans[0])
}

// blockingSink holds CaptureEvent until released.
type blockingSink struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (b *blockingSink) CaptureEvent(*sentry.Event, *sentry.EventHint, sentry.EventModifier) *sentry.EventID {
	<-b.release
	b.mu.Lock()
	b.n++
	b.mu.Unlock()
	return nil
}
func (b *blockingSink) FlushWithContext(context.Context) bool { return true }

func TestErrorsQueueIsBoundedAndCountsDrops(t *testing.T) {
	sink := &blockingSink{release: make(chan struct{})}
	cfg := DefaultErrorsConfig()
	cfg.QueueSize = 2
	stage, err := NewErrors(sink, redact.Default(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewChain(discard{}, stage.Link())))
	tracer := tp.Tracer("test")
	start := time.Now()
	for i := 0; i < 20; i++ {
		_, s := tracer.Start(context.Background(), "op")
		s.RecordError(errors.New("x"))
		s.End()
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ending spans took %v: OnEnd must not wait for the sink", d)
	}
	// One trace is in the worker, two queued, the rest dropped.
	if st := stage.Stats(); st.QueueDropped < 16 {
		t.Errorf("queue dropped = %d, want >= 16", st.QueueDropped)
	}
	close(sink.release)
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := stage.Stats()
	if uint64(sink.n)+st.QueueDropped != 20 || st.Events != uint64(sink.n) {
		t.Errorf("sent %d + dropped %d != 20 (stats %+v)", sink.n, st.QueueDropped, st)
	}
}

func TestErrorsShutdownHonoursDeadline(t *testing.T) {
	sink := &blockingSink{release: make(chan struct{})}
	defer close(sink.release)
	stage, err := NewErrors(sink, redact.Default(), DefaultErrorsConfig())
	if err != nil {
		t.Fatal(err)
	}
	p := stage.Link()(discard{})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	_, s := tp.Tracer("t").Start(context.Background(), "op")
	s.RecordError(errors.New("x"))
	s.End()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want a deadline error", err)
	}
	if err := p.Shutdown(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Shutdown = %v, want the first result", err)
	}
}

func TestErrorsForceFlushSendsQueued(t *testing.T) {
	h := newErrorsHarness(t, nil)
	_, s := h.tracer.Start(context.Background(), "op")
	s.RecordError(errors.New("x"))
	s.End()
	if err := h.tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(h.tr.Events()); n != 1 {
		t.Errorf("%d events after ForceFlush, want 1", n)
	}
}

func TestErrorsNoSecretReachesTheTransport(t *testing.T) {
	h := newErrorsHarness(t, nil)
	agentFailure(h.tracer, "jane.doe@example.com")
	_, s := h.tracer.Start(context.Background(), "login", trace.WithAttributes(
		attribute.String("db.password", "hunter2-very-secret"),
		attribute.String("http.request.header.authorization", "Bearer abcdefghijklmnopqrstuvwxyz123456"),
	))
	s.AddEvent("auth.attempt", trace.WithAttributes(attribute.String("user.email", "john@example.org")))
	s.RecordError(errors.New("login failed for john@example.org with card 4111 1111 1111 1111"))
	s.End()
	evs := h.events(t)
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	raw, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"jane.doe@example.com", "john@example.org", "hunter2", "abcdefghijklmnopqrstuvwxyz123456", "4111 1111 1111 1111"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("%q reached the transport", secret)
		}
	}
	if !strings.Contains(string(raw), "[EMAIL_REDACTED]") {
		t.Error("no redaction placeholder: was the engine run?")
	}
}

func TestNewErrorsRejectsBadConfig(t *testing.T) {
	sink := &blockingSink{}
	if _, err := NewErrors(sink, nil, DefaultErrorsConfig()); err == nil {
		t.Error("a nil scrubber was accepted")
	}
	if _, err := NewErrors(nil, redact.Default(), DefaultErrorsConfig()); err == nil {
		t.Error("a nil sink was accepted")
	}
	for name, mod := range map[string]func(*ErrorsConfig){
		"SampleRate": func(c *ErrorsConfig) { c.SampleRate = 1.5 },
		"MaxTraces":  func(c *ErrorsConfig) { c.MaxTraces = 0 },
		"QueueSize":  func(c *ErrorsConfig) { c.QueueSize = -1 },
		"fingerprint rule": func(c *ErrorsConfig) {
			c.FingerprintRules = []FingerprintRule{{Name: "bad", Fingerprint: []string{"{agent.name"}}}
		},
	} {
		cfg := DefaultErrorsConfig()
		mod(&cfg)
		_, err := NewErrors(sink, redact.Default(), cfg)
		if err == nil || !strings.Contains(err.Error(), strings.Fields(name)[0]) && !strings.Contains(err.Error(), "bad") {
			t.Errorf("%s: err = %v, want one naming it", name, err)
		}
	}
}

func TestDefaultErrorsConfigFindsMainModule(t *testing.T) {
	if got := DefaultErrorsConfig().InAppPrefixes; len(got) != 1 || got[0] != testModule {
		t.Errorf("InAppPrefixes = %v, want [%s]", got, testModule)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// When a panic unwinds through span.End the SDK records it again; the
// bridge keeps Recover's record (type panic, full stack), and ignores
// http.ErrAbortHandler, which is not a failure.
func TestErrorsLooksThroughSDKPanicRecords(t *testing.T) {
	h := newErrorsHarness(t, nil)
	func() {
		defer func() { _ = recover() }()
		_, s := h.tracer.Start(context.Background(), "GET /repanic")
		defer s.End()
		s.AddEvent("exception", trace.WithAttributes(attribute.String("exception.type", "panic"),
			attribute.String("exception.message", "boom"), attribute.String("exception.stacktrace", string(debug.Stack()))))
		panic("boom")
	}()
	func() {
		defer func() { _ = recover() }()
		_, s := h.tracer.Start(context.Background(), "GET /abort")
		defer s.End()
		panic(errors.New("net/http: abort Handler"))
	}()
	evs := h.events(t)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1 (the abort is not an error)", len(evs))
	}
	if x := evs[0].Exception[0]; x.Type != "panic" || evs[0].Level != sentry.LevelFatal || x.Stacktrace == nil {
		t.Errorf("event = %s %s: %+v", evs[0].Level, x.Type, x)
	}
}

// slowSink's queue takes a few flush attempts to drain.
type slowSink struct {
	mu               sync.Mutex
	captured, failed int
}

func (s *slowSink) CaptureEvent(*sentry.Event, *sentry.EventHint, sentry.EventModifier) *sentry.EventID {
	s.mu.Lock()
	s.captured++
	s.mu.Unlock()
	return nil
}

func (s *slowSink) FlushWithContext(ctx context.Context) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed < 3 {
		s.failed++
		<-ctx.Done()
		return false
	}
	return true
}

// The worker waits for a slow sink instead of overflowing it: its flush
// waits are retried (and counted) until the sink has drained.
func TestErrorsWaitsForASlowSink(t *testing.T) {
	sink := &slowSink{}
	cfg := DefaultErrorsConfig()
	cfg.FlushEvery, cfg.FlushTimeout = 2, 5*time.Millisecond
	stage, err := NewErrors(sink, redact.Default(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewChain(discard{}, stage.Link())))
	for i := 0; i < 4; i++ {
		_, s := tp.Tracer("t").Start(context.Background(), "op")
		s.RecordError(errors.New("x"))
		s.End()
	}
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := stage.Stats(); sink.captured != 4 || st.FlushTimeouts != 3 || st.Events != 4 {
		t.Errorf("captured %d, stats %+v; want 4 events and 3 timed-out waits", sink.captured, st)
	}
}

// TestTraceTableFilterIsLazy: a table that never held a trace has no
// filter; the first held trace creates it, and the filter finds that trace
// and not another.
func TestTraceTableFilterIsLazy(t *testing.T) {
	tt := newTraceTable(1024)
	held := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	other := trace.TraceID{16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	if tt.filter.Load() != nil || tt.mayHold(held) {
		t.Fatal("a table that never held a trace has a filter, or may hold one")
	}
	var c errorsCounters
	tt.addException(held, stub("op", true, 0), nil, false, 1024, 100, &c)
	if f := tt.filter.Load(); f == nil || len(*f) != 16*1024 {
		t.Fatal("no filter of 16 buckets per trace after the first held trace")
	}
	if !tt.mayHold(held) || tt.mayHold(other) {
		t.Fatalf("mayHold(held) = %v, mayHold(other) = %v; want true, false", tt.mayHold(held), tt.mayHold(other))
	}
}
