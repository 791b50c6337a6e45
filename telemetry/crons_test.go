package telemetry_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/alerts"
	"github.com/otelsentry/otelsentry/app"
	"github.com/otelsentry/otelsentry/internal/fakebackend"
	"github.com/otelsentry/otelsentry/processors"
	"github.com/otelsentry/otelsentry/processors/redact"
	"github.com/otelsentry/otelsentry/telemetry"
)

// setupWiresCrons says whether telemetry.Setup inserts the crons stage into
// its chain. Until it does, cronsPipeline builds the same chain by hand:
// the stage, then a Sentry client configured as Setup configures it.
const setupWiresCrons = true

// cronsPipeline returns a TracerProvider whose spans check in to the fake
// Sentry at dsn, a flush that delivers everything queued, and a shutdown.
func cronsPipeline(t *testing.T, dsn string, cfg telemetry.CronsConfig) (trace.TracerProvider, func(), func()) {
	t.Helper()
	ctx := context.Background()
	if setupWiresCrons {
		p, err := telemetry.Setup(ctx,
			telemetry.WithDSN(dsn), telemetry.WithGlobals(false), telemetry.WithExporters("none"),
			telemetry.WithEnvironment("staging"), telemetry.WithRelease("crons-test-1"),
			telemetry.WithCrons(cfg), telemetry.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		return p.TracerProvider(),
			func() { _ = p.ForceFlush(ctx) },
			func() { _ = p.Shutdown(ctx) }
	}
	client, err := sentry.NewClient(sentry.ClientOptions{Dsn: dsn, Environment: "staging", Release: "crons-test-1"})
	if err != nil {
		t.Fatal(err)
	}
	stage, err := processors.NewCrons(client, redact.Default(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(
		processors.NewChain(processors.Fanout(), processors.Enrich(), stage.Link())))
	return tp,
		func() { _ = tp.ForceFlush(ctx); client.Flush(5 * time.Second) },
		func() { _ = tp.Shutdown(ctx); client.Flush(5 * time.Second) }
}

// The reference service's scheduler, run for real, checks in to Sentry
// Crons through the pipeline — the app using only the OpenTelemetry API —
// and a stopped scheduler checks in no more, which is what lets Sentry
// raise "missed check-in".
func TestCronsFromMonitorScheduler(t *testing.T) {
	fake := fakebackend.NewSentry(t)
	cfg := processors.DefaultCronsConfig()
	cfg.PerMonitor = true
	cfg.MinSpacing = 0 // report every run; the default spaces them 20 s apart
	tp, flush, shutdown := cronsPipeline(t, fake.DSN(), cfg)
	defer shutdown()

	const schedulerInterval = 10 * time.Millisecond
	store := app.NewMemoryStore(10)
	ctx := context.Background()
	for _, id := range []string{"mon_tesla", "mon_rivian"} {
		if err := store.CreateMonitor(ctx, app.Monitor{
			ID: id, Company: strings.TrimPrefix(id, "mon_"), Industry: "Automotive",
			Interval: time.Second, Status: app.MonitorActive, NextCheckAt: time.Now(),
		}); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := app.New(app.Config{
		TracerProvider: tp, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: store,
		LatencyScale: 0.01, SchedulerInterval: schedulerInterval, SchedulerWorkers: 2,
		// Random faults make some checks fail: error check-ins.
		FaultRate: 0.5, FaultLatency: 5 * time.Millisecond, CheckTimeout: 300 * time.Millisecond,
		PauseThreshold: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	svc.Start(ctx)

	// Run until both outcomes have been reported, a few times over.
	deadline := time.Now().Add(60 * time.Second)
	for {
		flush()
		st := statuses(fake.CheckIns())
		if st["ok"] >= 3 && st["error"] >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("check-ins after 60 s: %v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	flush()
	stopped := fake.CheckIns()

	// Every run: in_progress first, then ok or error with the same ID and
	// a duration, and the monitor's configuration both times.
	runs := map[string][]fakebackend.CheckIn{}
	var order []string
	for _, ci := range stopped {
		if runs[ci.CheckInID] == nil {
			order = append(order, ci.CheckInID)
		}
		runs[ci.CheckInID] = append(runs[ci.CheckInID], ci)
	}
	slugs := map[string]int{}
	for _, id := range order {
		pair := runs[id]
		if len(pair) != 2 {
			t.Errorf("check-in %s: %d items, want in_progress then ok/error", id, len(pair))
			continue
		}
		start, end := pair[0], pair[1]
		if start.Status != "in_progress" || (end.Status != "ok" && end.Status != "error") {
			t.Errorf("check-in %s: %s then %s", id, start.Status, end.Status)
		}
		if start.Duration != 0 || end.Duration <= 0 {
			t.Errorf("check-in %s: durations %v then %v", id, start.Duration, end.Duration)
		}
		if start.MonitorSlug != end.MonitorSlug {
			t.Errorf("check-in %s: slug %q then %q", id, start.MonitorSlug, end.MonitorSlug)
		}
		for _, ci := range pair {
			wantMonitorConfig(t, ci)
			if ci.Environment != "staging" || ci.Release != "crons-test-1" {
				t.Errorf("check-in %s: environment %q, release %q", id, ci.Environment, ci.Release)
			}
			wantOnlyCheckInFields(t, ci)
		}
		slugs[start.MonitorSlug]++
	}
	for _, slug := range []string{processors.DefaultCronSlug, "monitor-mon_tesla", "monitor-mon_rivian"} {
		if slugs[slug] == 0 {
			t.Errorf("no run of %s reported; slugs: %v", slug, slugs)
		}
	}
	if testing.Verbose() && len(stopped) > 1 {
		t.Logf("first run: %s\n%s", stopped[0].Raw(), runs[stopped[0].CheckInID][1].Raw())
	}

	// The scheduler has stopped: nothing new, though every monitor is due.
	time.Sleep(time.Second + 10*schedulerInterval) // a monitor's interval, and ten of the scheduler's
	flush()
	if after := fake.CheckIns(); len(after) != len(stopped) {
		t.Errorf("%d check-ins after the scheduler stopped", len(after)-len(stopped))
	}
}

func statuses(cis []fakebackend.CheckIn) map[string]int {
	n := map[string]int{}
	for _, ci := range cis {
		n[ci.Status]++
	}
	return n
}

// wantMonitorConfig checks the configuration Sentry upserts the monitor
// from: the scheduler's own, or a monitor's — every second (the API's
// shortest interval) rounds up to Sentry's shortest, a minute.
func wantMonitorConfig(t *testing.T, ci fakebackend.CheckIn) {
	t.Helper()
	mc := ci.MonitorConfig
	if mc == nil {
		t.Errorf("%s %s: no monitor_config", ci.MonitorSlug, ci.Status)
		return
	}
	if mc.Schedule.Type != "interval" || mc.Schedule.Value != 1.0 || mc.Schedule.Unit != "minute" ||
		mc.CheckInMargin != 7 || mc.MaxRuntime != 5 || mc.FailureIssueThreshold != 3 || mc.RecoveryThreshold != 2 {
		t.Errorf("%s %s: monitor_config %+v", ci.MonitorSlug, ci.Status, *mc)
	}
}

// wantOnlyCheckInFields: a check-in carries its slug, status, duration,
// environment, release and monitor configuration — nothing from the span.
func wantOnlyCheckInFields(t *testing.T, ci fakebackend.CheckIn) {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(ci.Raw(), &fields); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"check_in_id": true, "monitor_slug": true, "status": true, "duration": true,
		"environment": true, "release": true, "monitor_config": true}
	for k := range fields {
		if !allowed[k] {
			t.Errorf("check-in field %q", k)
		}
	}
	for _, s := range []string{"Tesla", "Rivian", "Automotive"} {
		if strings.Contains(string(ci.Raw()), s) {
			t.Errorf("check-in carries span data %q: %s", s, ci.Raw())
		}
	}
}

// The crons stage's default monitor is the one alerts.yaml manages: both
// upsert the same Sentry monitor, so they must agree, or each would undo
// the other.
func TestCronsDefaultsAgreeWithAlertsYAML(t *testing.T) {
	cfg, err := alerts.Load("../alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def := processors.DefaultCronsConfig()
	for _, r := range cfg.Rules {
		if r.Cron == nil || r.Cron.MonitorSlug != def.Slug {
			continue
		}
		c, m := r.Cron, def.Monitor
		if int64(c.Every) != m.Every || c.Unit != string(m.Unit) || int64(c.CheckinMargin) != m.CheckInMargin ||
			int64(c.MaxRuntime) != m.MaxRuntime || int64(c.FailureIssueThreshold) != m.FailureIssueThreshold ||
			int64(c.RecoveryThreshold) != m.RecoveryThreshold {
			t.Errorf("alerts.yaml %q: %+v\nprocessors.DefaultCronsConfig: %+v", r.Name, *c, m)
		}
		return
	}
	t.Errorf("alerts.yaml has no cron rule for %q", def.Slug)
}

func TestWithCronsInvalidIsSetupError(t *testing.T) {
	fake := fakebackend.NewSentry(t)
	cfg := processors.DefaultCronsConfig()
	cfg.Monitor.MaxRuntime = 0
	_, err := telemetry.Setup(context.Background(), telemetry.WithDSN(fake.DSN()), telemetry.WithGlobals(false),
		telemetry.WithExporters("none"), telemetry.WithCrons(cfg),
		telemetry.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err == nil || !strings.Contains(err.Error(), "WithCrons") || !strings.Contains(err.Error(), "Monitor.MaxRuntime") {
		t.Errorf("got %v", err)
	}
	p, err := telemetry.Setup(context.Background(), telemetry.WithDSN(fake.DSN()), telemetry.WithGlobals(false),
		telemetry.WithExporters("none"), telemetry.WithCrons(cfg), telemetry.WithoutCrons(),
		telemetry.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatalf("WithoutCrons ignores the configuration: %v", err)
	}
	_ = p.Shutdown(context.Background())
}
