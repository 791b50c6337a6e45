package processors

import (
	"context"
	"encoding/json"
	"errors"
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

// checkInRecorder is a CheckInSink that keeps what it is given.
type checkInRecorder struct {
	mu  sync.Mutex
	got []gotCheckIn
}

type gotCheckIn struct {
	sentry.CheckIn
	Config string // the monitor configuration as JSON, "" when none
}

func (r *checkInRecorder) CaptureCheckIn(ci *sentry.CheckIn, mc *sentry.MonitorConfig, scope sentry.EventModifier) *sentry.EventID {
	g := gotCheckIn{CheckIn: *ci}
	if mc != nil {
		b, _ := json.Marshal(mc)
		g.Config = string(b)
	}
	r.mu.Lock()
	r.got = append(r.got, g)
	r.mu.Unlock()
	if scope != nil {
		panic("the crons stage must not pass a scope")
	}
	return &g.ID
}

func (r *checkInRecorder) all() []gotCheckIn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]gotCheckIn(nil), r.got...)
}

type cronsHarness struct {
	stage *Crons
	rec   *checkInRecorder
	ended *spanRecorder
	tp    *sdktrace.TracerProvider
	tr    trace.Tracer
}

// newCronsHarness runs the stage in a chain ending in a span recorder. The
// default MinSpacing is off so every run is reported.
func newCronsHarness(t testing.TB, mod func(*CronsConfig), opts ...sdktrace.TracerProviderOption) *cronsHarness {
	t.Helper()
	cfg := DefaultCronsConfig()
	cfg.MinSpacing = 0
	if mod != nil {
		mod(&cfg)
	}
	rec := &checkInRecorder{}
	stage, err := NewCrons(rec, redact.Default(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ended := &spanRecorder{}
	tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithSpanProcessor(NewChain(ended, stage.Link())))...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &cronsHarness{stage: stage, rec: rec, ended: ended, tp: tp, tr: tp.Tracer("crons-test")}
}

// checkIns flushes the stage and returns what the sink got.
func (h *cronsHarness) checkIns(t testing.TB) []gotCheckIn {
	t.Helper()
	if err := h.tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h.rec.all()
}

const schedulerConfigJSON = `{"schedule":{"type":"interval","value":1,"unit":"minute"},"checkin_margin":7,"max_runtime":5,"failure_issue_threshold":3,"recovery_threshold":2}`

func TestCronsRunChecksInAtStartAndEnd(t *testing.T) {
	h := newCronsHarness(t, nil)
	_, span := h.tr.Start(context.Background(), "monitor.check", trace.WithAttributes(
		attribute.String("monitor.id", "mon_1"), attribute.Int64("monitor.interval", 60)))
	if got := h.checkIns(t); len(got) != 1 || got[0].Status != sentry.CheckInStatusInProgress {
		t.Fatalf("while the run is in progress: %+v", got)
	}
	time.Sleep(2 * time.Millisecond)
	span.End()
	got := h.checkIns(t)
	if len(got) != 2 {
		t.Fatalf("want in_progress and ok, got %+v", got)
	}
	start, end := got[0], got[1]
	if end.Status != sentry.CheckInStatusOK || end.ID != start.ID || len(start.ID) != 32 {
		t.Errorf("end %+v does not close start %+v", end, start)
	}
	if start.MonitorSlug != DefaultCronSlug || end.MonitorSlug != DefaultCronSlug {
		t.Errorf("slugs %q %q", start.MonitorSlug, end.MonitorSlug)
	}
	if start.Duration != 0 || end.Duration < 2*time.Millisecond {
		t.Errorf("durations %v, %v", start.Duration, end.Duration)
	}
	for _, ci := range got {
		if ci.Config != schedulerConfigJSON {
			t.Errorf("monitor config\n got %s\nwant %s", ci.Config, schedulerConfigJSON)
		}
	}
	if st := h.stage.Stats(); st.CheckIns != 2 {
		t.Errorf("stats %+v", st)
	}
	if n := len(h.ended.spans); n != 1 {
		t.Errorf("the span was not passed on: %d", n)
	}
}

func TestCronsFailedRunIsError(t *testing.T) {
	h := newCronsHarness(t, nil)
	_, a := h.tr.Start(context.Background(), "monitor.check")
	a.SetStatus(codes.Error, "fetching the time series failed")
	a.End()
	_, b := h.tr.Start(context.Background(), "monitor.check")
	b.RecordError(errors.New("detecting anomalies: empty series"))
	b.End()
	got := h.checkIns(t)
	if len(got) != 4 {
		t.Fatalf("got %+v", got)
	}
	byID := map[sentry.EventID][]sentry.CheckInStatus{}
	for _, ci := range got {
		byID[ci.ID] = append(byID[ci.ID], ci.Status)
	}
	for id, sts := range byID {
		if len(sts) != 2 || sts[0] != sentry.CheckInStatusInProgress || sts[1] != sentry.CheckInStatusError {
			t.Errorf("check-in %s: %v, want in_progress then error", id, sts)
		}
	}
}

// A job run inside a request is not the schedule at work: it must not
// keep a dead scheduler's monitor alive.
func TestCronsIgnoresRunsThatAreNotLocalRoots(t *testing.T) {
	h := newCronsHarness(t, nil)
	ctx, req := h.tr.Start(context.Background(), "POST /api/monitors/{id}/check")
	_, check := h.tr.Start(ctx, "monitor.check")
	check.End()
	req.End()
	// A remote parent is another process: the run is this process's root.
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true})
	_, job := h.tr.Start(trace.ContextWithRemoteSpanContext(context.Background(), remote), "monitor.check")
	job.End()
	if got := h.checkIns(t); len(got) != 2 || got[0].ID != got[1].ID {
		t.Errorf("want only the remote-parented run, got %+v", got)
	}
}

func TestCronsSlugAttribute(t *testing.T) {
	h := newCronsHarness(t, nil)
	// Any local root with monitor.slug is a run, reported when it ends.
	_, span := h.tr.Start(context.Background(), "nightly export", trace.WithAttributes(
		attribute.String("monitor.slug", "Nightly Export (EU)"), attribute.String("monitor.interval", "24h")))
	span.SetStatus(codes.Error, "boom")
	span.End()
	// A slug made of personal data is redacted before it leaves.
	_, pii := h.tr.Start(context.Background(), "report", trace.WithAttributes(
		attribute.String("monitor.slug", "report for jane.doe@example.com")))
	pii.End()
	// monitor.slug set on a monitor.check span wins over Slug, at start.
	_, own := h.tr.Start(context.Background(), "monitor.check", trace.WithAttributes(
		attribute.String("monitor.slug", "billing-sync"), attribute.Int64("monitor.interval", 30)))
	own.End()
	// On a child span it is not a run.
	ctx, root := h.tr.Start(context.Background(), "GET /")
	_, child := h.tr.Start(ctx, "step", trace.WithAttributes(attribute.String("monitor.slug", "x-job")))
	child.End()
	root.End()

	got := h.checkIns(t)
	if len(got) != 4 {
		t.Fatalf("got %+v", got)
	}
	if g := got[0]; g.MonitorSlug != "nightly-export-eu" || g.Status != sentry.CheckInStatusError ||
		g.Config != `{"schedule":{"type":"interval","value":1,"unit":"day"},"checkin_margin":7,"max_runtime":5,"failure_issue_threshold":3,"recovery_threshold":2}` {
		t.Errorf("end-only run: %+v", g)
	}
	if g := got[1]; strings.Contains(g.MonitorSlug, "jane") || g.MonitorSlug != "report-for-email_redacted" || g.Config != "" {
		t.Errorf("PII slug: %+v", g)
	}
	if g := got[2]; g.MonitorSlug != "billing-sync" || g.Status != sentry.CheckInStatusInProgress ||
		!strings.Contains(g.Config, `"schedule":{"type":"interval","value":1,"unit":"minute"}`) {
		t.Errorf("explicit slug at start: %+v", g)
	}
	if got[3].ID != got[2].ID || got[3].Status != sentry.CheckInStatusOK {
		t.Errorf("explicit slug at end: %+v", got[3])
	}
}

func TestCronsPerMonitor(t *testing.T) {
	h := newCronsHarness(t, func(c *CronsConfig) { c.PerMonitor = true })
	_, span := h.tr.Start(context.Background(), "monitor.check", trace.WithAttributes(
		attribute.String("monitor.id", "mon_8F3A"), attribute.Int64("monitor.interval", 7200)))
	span.End()
	got := h.checkIns(t)
	if len(got) != 4 {
		t.Fatalf("got %+v", got)
	}
	slugs := map[string]string{}
	for _, ci := range got {
		slugs[ci.MonitorSlug] = ci.Config
	}
	if slugs[DefaultCronSlug] != schedulerConfigJSON {
		t.Errorf("scheduler monitor: %q", slugs[DefaultCronSlug])
	}
	if c := slugs["monitor-mon_8f3a"]; !strings.Contains(c, `{"type":"interval","value":2,"unit":"hour"}`) {
		t.Errorf("per-monitor config %q (all: %v)", c, slugs)
	}
	if got[0].ID == got[1].ID {
		t.Error("two monitors share a check-in ID")
	}
}

func TestCronsMinSpacing(t *testing.T) {
	h := newCronsHarness(t, func(c *CronsConfig) { c.MinSpacing = time.Hour })
	for range 3 {
		_, span := h.tr.Start(context.Background(), "monitor.check")
		span.End()
	}
	if got := h.checkIns(t); len(got) != 2 {
		t.Errorf("want one run reported, got %+v", got)
	}
	if st := h.stage.Stats(); st.Throttled != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestCronsMaxOpen(t *testing.T) {
	h := newCronsHarness(t, func(c *CronsConfig) { c.MaxOpen = 1 })
	_, a := h.tr.Start(context.Background(), "monitor.check")
	_, b := h.tr.Start(context.Background(), "monitor.check")
	b.End()
	a.End()
	if got := h.checkIns(t); len(got) != 2 || got[0].ID != got[1].ID {
		t.Errorf("got %+v", got)
	}
	if st := h.stage.Stats(); st.OpenDropped != 1 {
		t.Errorf("stats %+v", st)
	}
}

// Crons must see runs whatever the head sampler decided: a dead scheduler
// is no less dead in an unsampled trace.
func TestCronsSeesUnsampledRuns(t *testing.T) {
	h := newCronsHarness(t, nil, sdktrace.WithSampler(recordOnly{}))
	_, span := h.tr.Start(context.Background(), "monitor.check")
	span.End()
	if got := h.checkIns(t); len(got) != 2 {
		t.Errorf("got %+v", got)
	}
}

func TestCronsShutdown(t *testing.T) {
	h := newCronsHarness(t, nil)
	_, done := h.tr.Start(context.Background(), "monitor.check")
	done.End()
	_, hung := h.tr.Start(context.Background(), "monitor.check")
	if err := h.tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	hung.End()
	// Everything queued before Shutdown reached the sink, without a flush.
	if got := h.rec.all(); len(got) != 3 {
		t.Errorf("got %+v", got)
	}
	if st := h.stage.Stats(); st.Unfinished != 1 || st.CheckIns != 3 {
		t.Errorf("stats %+v", st)
	}
	h.ended.mu.Lock()
	shut := h.ended.shut
	h.ended.mu.Unlock()
	if !shut {
		t.Error("the next stage was not shut down")
	}
}

func TestCronsConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*CronsConfig)
		want string
	}{
		{func(c *CronsConfig) { c.Slug = "Intelligence Scheduler" }, "Slug"},
		{func(c *CronsConfig) { c.PerMonitor, c.PerMonitorPrefix = true, "" }, "PerMonitorPrefix"},
		{func(c *CronsConfig) { c.SpanNames = []string{""} }, "SpanNames[0]"},
		{func(c *CronsConfig) { c.Monitor.Every = 0 }, "Monitor.Every"},
		{func(c *CronsConfig) { c.Monitor.Unit = "second" }, "Monitor.Unit"},
		{func(c *CronsConfig) { c.Monitor.CheckInMargin = 0 }, "Monitor.CheckInMargin"},
		{func(c *CronsConfig) { c.Monitor.MaxRuntime = 0 }, "Monitor.MaxRuntime"},
		{func(c *CronsConfig) { c.Monitor.FailureIssueThreshold = 0 }, "Monitor.FailureIssueThreshold"},
		{func(c *CronsConfig) { c.Monitor.RecoveryThreshold = 0 }, "Monitor.RecoveryThreshold"},
		{func(c *CronsConfig) { c.MinSpacing = -1 }, "MinSpacing"},
		{func(c *CronsConfig) { c.MaxOpen = 0 }, "MaxOpen"},
		{func(c *CronsConfig) { c.QueueSize = 0 }, "QueueSize"},
	} {
		cfg := DefaultCronsConfig()
		tc.mod(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v", tc.want, err)
		}
	}
	cfg := DefaultCronsConfig()
	if err := cfg.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if _, err := NewCrons(nil, redact.Default(), cfg); err == nil {
		t.Error("no sink accepted")
	}
	if _, err := NewCrons(&checkInRecorder{}, nil, cfg); err == nil {
		t.Error("no scrubber accepted")
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"intelligence-monitor-scheduler": "intelligence-monitor-scheduler",
		"Nightly Export (EU)":            "nightly-export-eu",
		"--a__b--":                       "a__b",
		"12345":                          "",
		"":                               "",
		strings.Repeat("x", 60):          strings.Repeat("x", 50),
		strings.Repeat("y", 49) + " z":   strings.Repeat("y", 49),
	} {
		if got := slugify(in); got != want {
			t.Errorf("slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIntervalSchedule(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second:      "1 minute",
		90 * time.Second: "2 minute",
		5 * time.Minute:  "5 minute",
		3 * time.Hour:    "3 hour",
		48 * time.Hour:   "2 day",
	} {
		n, u := intervalSchedule(d)
		if got := strings.Join([]string{itoa(n), string(u)}, " "); got != want {
			t.Errorf("%v: %s, want %s", d, got, want)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// startedSpan returns a live SDK span (what OnStart receives) and its ended
// snapshot (what OnEnd receives), of a provider with no processor of ours.
func startedSpan(tb testing.TB, name string, root bool) (sdktrace.ReadWriteSpan, sdktrace.ReadOnlySpan) {
	var live sdktrace.ReadWriteSpan
	rec := &spanRecorder{}
	grab := &funcStartProcessor{onStart: func(s sdktrace.ReadWriteSpan) {
		if s.Name() == name {
			live = s
		}
	}}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(grab), sdktrace.WithSpanProcessor(rec))
	tr := tp.Tracer("bench")
	ctx, parent := tr.Start(context.Background(), "parent")
	if root {
		ctx = context.Background()
	}
	_, s := tr.Start(ctx, name, trace.WithAttributes(
		attribute.String("http.route", "/api/analyze"), attribute.String("request_id", "r-1"),
		attribute.String("user.id", "u-42"), attribute.String("company", "Tesla"),
		attribute.Int("http.response.status_code", 200), attribute.String("server.address", "example.com")))
	s.End()
	parent.End()
	if live == nil || len(rec.spans) != 2 {
		tb.Fatal("no span recorded")
	}
	for _, r := range rec.spans {
		if r.Name() == name {
			return live, r
		}
	}
	tb.Fatal("no span recorded")
	return nil, nil
}

type funcStartProcessor struct{ onStart func(sdktrace.ReadWriteSpan) }

func (f *funcStartProcessor) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) { f.onStart(s) }
func (f *funcStartProcessor) OnEnd(sdktrace.ReadOnlySpan)                         {}
func (f *funcStartProcessor) ForceFlush(context.Context) error                    { return nil }
func (f *funcStartProcessor) Shutdown(context.Context) error                      { return nil }

// A span that is no run costs the stage nothing it has to allocate, even
// while a run is in progress.
func TestCronsNoAllocationForOtherSpans(t *testing.T) {
	stage, err := NewCrons(&checkInRecorder{}, redact.Default(), DefaultCronsConfig())
	if err != nil {
		t.Fatal(err)
	}
	p := stage.Link()(discard{})
	defer func() { _ = p.Shutdown(context.Background()) }()
	ctx := context.Background()
	run, _ := startedSpan(t, "monitor.check", true)
	p.OnStart(ctx, run)
	if stage.openN.Load() != 1 {
		t.Fatal("the run is not open")
	}
	for _, root := range []bool{false, true} {
		live, ended := startedSpan(t, "agent.execute", root)
		if n := testing.AllocsPerRun(1000, func() {
			p.OnStart(ctx, live)
			p.OnEnd(ended)
		}); n != 0 {
			t.Errorf("root=%v: %v allocations per span", root, n)
		}
	}
}

// BenchmarkCronsOtherSpan is the stage's cost for a span that is no run:
// OnStart and OnEnd on a real SDK span (a child, and a local root such as a
// server span), ending in a no-op processor — with no run in progress (the
// usual case) and with one. "floor" is what any link pays that reads the
// name at start and the parent at end: the SDK locks the live span for
// Name, and its snapshot's value-receiver methods copy the snapshot.
func BenchmarkCronsOtherSpan(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		root    bool
		runOpen bool
	}{{"child", false, false}, {"child-run-open", false, true}, {"localRoot", true, false}, {"localRoot-run-open", true, true}} {
		live, ended := startedSpan(b, "agent.execute", tc.root)
		if !tc.runOpen {
			b.Run(tc.name+"/floor", func(b *testing.B) {
				var p sdktrace.SpanProcessor = nameParentReader{}
				loop(b, func() {
					p.OnStart(ctx, live)
					p.OnEnd(ended)
				})
			})
		}
		b.Run(tc.name+"/crons", func(b *testing.B) {
			stage, err := NewCrons(&checkInRecorder{}, redact.Default(), DefaultCronsConfig())
			if err != nil {
				b.Fatal(err)
			}
			p := stage.Link()(discard{})
			b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
			if tc.runOpen {
				run, _ := startedSpan(b, "monitor.check", true)
				p.OnStart(ctx, run)
			}
			loop(b, func() {
				p.OnStart(ctx, live)
				p.OnEnd(ended)
			})
		})
	}
}

// nameParentReader reads what every link of the chain can read for free.
type nameParentReader struct{ discard }

var sinkBool bool

func (nameParentReader) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	sinkBool = s.Name() == DefaultCronSpanName
}
func (nameParentReader) OnEnd(s sdktrace.ReadOnlySpan) { sinkBool = isLocalRoot(s.Parent()) }
