package telemetry

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

// TestLightRecordingSendsWhatTheSDKWould serves the same requests, failing
// and healthy, once with light spans (the default) and once with the SDK's,
// each to its own fake Sentry, and compares what arrived: the OTLP spans
// decoded (everything but IDs and times), the error events, and the
// pipeline's counters. At head rate 0 every span is recorded for tail keep
// only (RecordOnly), at 1 every span is sampled. No planted secret may
// arrive either way.
func TestLightRecordingSendsWhatTheSDKWould(t *testing.T) {
	for _, rate := range []float64{0, 1} {
		t.Run(fmt.Sprint("rate=", rate), func(t *testing.T) { lightRecordingSendsWhatTheSDKWould(t, rate) })
	}
}

func lightRecordingSendsWhatTheSDKWould(t *testing.T, rate float64) {
	type result struct {
		spans, events []string
		frames        [][]string // per event, innermost last
		raw           string
		stats         Stats
		light         bool
	}
	run := func(light bool) result {
		clearBridgeEnv(t)
		fake := fakebackend.NewSentry(t)
		p, err := Setup(context.Background(), bridgeOptions(fake.DSN(), WithSampleRate(rate), WithLightRecording(light))...)
		if err != nil {
			t.Fatal(err)
		}
		_, sdk := p.TracerProvider().(*sdktrace.TracerProvider)
		h := newFailingService(p.TracerProvider())
		for _, req := range []struct{ method, path string }{
			{"POST", "/api/analyze"}, {"POST", "/api/research"}, {"GET", "/api/reports/r1"},
			{"GET", "/api/panic"}, {"GET", "/healthz"}, {"GET", "/healthz"},
		} {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.path, nil))
		}
		monitorCheckFails(p.TracerProvider())
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := result{raw: string(fake.RawOTLP()) + string(fake.RawEnvelopes()), stats: p.Stats(), light: !sdk}
		names := map[string]string{}
		for _, s := range fake.Spans() {
			names[hex.EncodeToString(s.SpanId)] = s.Name
		}
		for _, s := range fake.Spans() {
			r.spans = append(r.spans, canonicalSpan(s, names))
		}
		evs := fake.Events()
		slices.SortFunc(evs, func(a, b fakebackend.Event) int { return strings.Compare(canonicalEvent(t, a), canonicalEvent(t, b)) })
		for _, ev := range evs {
			r.frames = append(r.frames, stackFrames(ev))
			r.events = append(r.events, canonicalEvent(t, ev))
		}
		slices.Sort(r.spans)
		return r
	}
	sdk, light := run(false), run(true)
	if sdk.light || !light.light {
		t.Fatalf("light recording: provider light with the option off %v, on %v", sdk.light, light.light)
	}
	// Four failing traces of the service (analyze: server, agent, fetch;
	// research: server, agent; report; panic) and the monitor's; the
	// health checks are dropped at rate 0, sent at 1.
	if want := 8 + 2*int(rate); len(sdk.spans) != want || len(sdk.events) == 0 {
		t.Fatalf("the SDK run sent %d spans and %d events, want %d and some", len(sdk.spans), len(sdk.events), want)
	}
	if !slices.Equal(sdk.spans, light.spans) {
		t.Errorf("spans differ\nSDK:\n%s\nlight:\n%s", strings.Join(sdk.spans, "\n"), strings.Join(light.spans, "\n"))
	}
	if !slices.Equal(sdk.events, light.events) {
		t.Errorf("error events differ\nSDK:\n%s\nlight:\n%s", strings.Join(sdk.events, "\n"), strings.Join(light.events, "\n"))
	}
	// A stack is recorded as the SDK records it: 2 KiB of goroutine dump,
	// the recorder's own frames on top. The light span's are shorter, so
	// its dump may reach one or two calls further out: the SDK's frames,
	// innermost last, must end the light one's.
	for i := range min(len(sdk.frames), len(light.frames)) {
		s, l := sdk.frames[i], light.frames[i]
		if len(s) == 0 || len(l) < len(s) || !slices.Equal(l[len(l)-len(s):], s) {
			t.Errorf("event %d: stack frames\nSDK:   %v\nlight: %v", i, s, l)
		}
	}
	if s, l := sdk.stats, light.stats; s.SpansStarted != l.SpansStarted || s.Sampling != l.Sampling {
		t.Errorf("counters differ: SDK started %d, %+v; light started %d, %+v", s.SpansStarted, s.Sampling, l.SpansStarted, l.Sampling)
	}
	for _, r := range []result{sdk, light} {
		for _, secret := range []string{plantedEmail, plantedAPIKey, plantedPassword, plantedCard} {
			if strings.Contains(r.raw, secret) {
				t.Errorf("light %v: %q reached Sentry", r.light, secret)
			}
		}
	}
}

// canonicalSpan is s as received, without what differs from run to run
// (IDs, times), its parent named.
func canonicalSpan(s *tracepb.Span, names map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s kind=%v parent=%q status=%v/%q dropped=%d/%d/%d flags=%#x state=%q attrs:",
		s.Name, s.Kind, names[hex.EncodeToString(s.ParentSpanId)], s.GetStatus().GetCode(), s.GetStatus().GetMessage(),
		s.DroppedAttributesCount, s.DroppedEventsCount, s.DroppedLinksCount, s.Flags, s.TraceState)
	var attrs []string
	for _, kv := range s.Attributes {
		attrs = append(attrs, kv.Key+"="+kv.Value.String())
	}
	slices.Sort(attrs)
	b.WriteString(strings.Join(attrs, ","))
	for _, e := range s.Events {
		fmt.Fprintf(&b, " event %s(", e.Name)
		for _, kv := range e.Attributes {
			if kv.Key == "exception.stacktrace" {
				// The stack's first frames are the recorder's own; the
				// error events compare what the bridge makes of it.
				fmt.Fprintf(&b, "%s=<%d lines>,", kv.Key, min(1, strings.Count(kv.Value.GetStringValue(), "\n")))
				continue
			}
			fmt.Fprintf(&b, "%s=%s,", kv.Key, kv.Value.String())
		}
		b.WriteString(")")
	}
	return b.String()
}

// canonicalEvent is an error event as received, without what differs from
// run to run (IDs, times).
func canonicalEvent(t *testing.T, ev fakebackend.Event) string {
	t.Helper()
	var trace map[string]any
	for k, v := range ev.Contexts["trace"] {
		if k != "trace_id" && k != "span_id" && k != "parent_span_id" {
			if trace == nil {
				trace = map[string]any{}
			}
			trace[k] = v
		}
	}
	// ev's slices and maps are the caller's: copied before they change.
	ev.Breadcrumbs.Values = slices.Clone(ev.Breadcrumbs.Values)
	for i := range ev.Breadcrumbs.Values {
		ev.Breadcrumbs.Values[i].Timestamp = ""
		ev.Breadcrumbs.Values[i].Data = maps.Clone(ev.Breadcrumbs.Values[i].Data)
		delete(ev.Breadcrumbs.Values[i].Data, "span_id")
	}
	// The frames are compared apart (see stackFrames).
	ev.Exception.Values = slices.Clone(ev.Exception.Values)
	for i := range ev.Exception.Values {
		ev.Exception.Values[i].Stacktrace.Frames = nil
	}
	b, err := json.Marshal(map[string]any{
		"level": ev.Level, "transaction": ev.Transaction, "environment": ev.Environment, "release": ev.Release,
		"tags": ev.Tags, "fingerprint": ev.Fingerprint, "user": ev.User, "request": ev.Request,
		"exception": ev.Exception.Values, "breadcrumbs": ev.Breadcrumbs.Values, "trace": trace,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A malformed OTELSENTRY_LIGHT_RECORDING is an error naming it; an option
// wins over the variable; tail keep or not, spans are light by default.
func TestLightRecordingConfiguration(t *testing.T) {
	if _, err := Setup(context.Background(), testOptions(new(syncBuffer),
		withGetenv(envMap(map[string]string{envLightRecording: "sometimes"})), WithExporters("none"))...); err == nil ||
		!strings.Contains(err.Error(), envLightRecording) || !strings.Contains(err.Error(), "sometimes") {
		t.Fatalf("OTELSENTRY_LIGHT_RECORDING=sometimes: err %v, want one naming the variable and the value", err)
	}
	for _, c := range []struct {
		env  map[string]string
		opts []Option
		want bool
	}{
		{nil, nil, true},
		{map[string]string{envLightRecording: "false"}, nil, false},
		{map[string]string{envLightRecording: "false"}, []Option{WithLightRecording(true)}, true},
		{map[string]string{envLightRecording: "true"}, []Option{WithLightRecording(false)}, false},
		{nil, []Option{WithTailKeep(false)}, true},
		{map[string]string{envTailKeep: "false", envLightRecording: "false"}, nil, false},
	} {
		p, err := Setup(context.Background(), testOptions(new(syncBuffer),
			append([]Option{withGetenv(envMap(c.env)), WithExporters("none"), WithSampleRate(0.5)}, c.opts...)...)...)
		if err != nil {
			t.Fatal(err)
		}
		_, sdk := p.TracerProvider().(*sdktrace.TracerProvider)
		if got := !sdk; got != c.want {
			t.Errorf("env %v, %d options: light recording %v, want %v", c.env, len(c.opts), got, c.want)
		}
		_ = p.Shutdown(context.Background())
	}
}

// Spans started after Shutdown are not recorded, light or not.
func TestLightRecordingStopsAtShutdown(t *testing.T) {
	p, err := Setup(context.Background(), testOptions(new(syncBuffer), WithExporters("none"), WithSampleRate(0))...)
	if err != nil {
		t.Fatal(err)
	}
	tr := p.TracerProvider().Tracer("t")
	ctx, live := tr.Start(context.Background(), "live")
	if !live.IsRecording() {
		t.Fatal("an unsampled span is not recorded with tail keep")
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	started := p.Stats().SpansStarted
	for _, c := range []context.Context{context.Background(), ctx} {
		if _, s := tr.Start(c, "late"); s.IsRecording() {
			t.Error("a span started after Shutdown is recorded")
		}
	}
	live.End()
	if got := p.Stats().SpansStarted; got != started {
		t.Errorf("%d spans started after Shutdown were counted", got-started)
	}
}

// stackFrames are the frames of an event's exception, outermost first.
func stackFrames(ev fakebackend.Event) []string {
	var out []string
	for _, ex := range ev.Exception.Values {
		for _, f := range ex.Stacktrace.Frames {
			out = append(out, fmt.Sprintf("%s.%s:%d in_app=%v", f.Module, f.Function, f.Lineno, f.InApp))
		}
	}
	return out
}
