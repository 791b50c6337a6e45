package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/bench/internal/otlpwire"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

func TestCountSpans(t *testing.T) {
	spans := func(n int) []*tracepb.Span {
		var out []*tracepb.Span
		for range n {
			out = append(out, &tracepb.Span{Name: "s", TraceId: make([]byte, 16), SpanId: make([]byte, 8)})
		}
		return out
	}
	req := &collectortrace.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{
		{Resource: &resourcepb.Resource{}, ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans(3)}, {Spans: spans(2)}}, SchemaUrl: "x"},
		{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans(4)}}},
	}}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := otlpwire.CountSpans(b); err != nil || n != 9 {
		t.Errorf("countSpans = %d, %v; want 9", n, err)
	}
	if _, err := otlpwire.CountSpans(b[:len(b)-3]); err == nil {
		t.Error("a truncated request was accepted")
	}
}

func TestParseProm(t *testing.T) {
	text := `# HELP otelsentry_spans_started_total Spans started through the pipeline.
# TYPE otelsentry_spans_started_total counter
otelsentry_spans_started_total{otel_scope_name="x"} 26779
otelsentry_spans_dropped_total{exporter="otlp",otel_scope_name="x",reason="queue_full"} 0
otelsentry_spans_dropped_total{otel_scope_name="x",reason="tail_sampled_out"} 23733
otelsentry_spans_dropped_total{reason="tail_overflow"} 5
otelsentry_tail_held_spans 0
go_goroutines 12
`
	m, err := parseProm(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"otelsentry_spans_started_total":                                      26779,
		`otelsentry_spans_dropped_total{exporter="otlp",reason="queue_full"}`: 0,
		`otelsentry_spans_dropped_total{reason="tail_sampled_out"}`:           23733,
		`otelsentry_spans_dropped_total{reason="tail_overflow"}`:              5,
		"otelsentry_tail_held_spans":                                          0,
	}
	if len(m) != len(want) {
		t.Errorf("parsed %v", m)
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}

	line := `time=2026-12-01T23:53:04.763Z level=INFO msg="telemetry shutdown summary" spans_started=100 spans_exported=10 dropped_queue_full=1 dropped_export_failed=0 lost_at_shutdown=2 tail_dropped=80 redactions=3`
	sum := map[string]float64{}
	for _, kv := range kvRE.FindAllStringSubmatch(line, -1) {
		var v float64
		_ = json.Unmarshal([]byte(kv[2]), &v)
		sum[kv[1]] = v
	}
	if _, ok := sum["time"]; ok {
		t.Error("the timestamp was read as a counter")
	}
	a := account(sum, m, &Received{Spans: 9})
	if a.Started != 100 || a.Uncounted != 7 || a.ExportMismatch != 1 || a.TailOther != 5 || a.Dropped != 1+2+5 {
		t.Errorf("accounting = %+v", *a)
	}
}

func TestSummaryJSON(t *testing.T) {
	res := &Results{Config: Config{Pairs: 1}, Runs: []Run{
		{Variant: "A", Pair: 1, Seq: 1, Fixed: Phase{Completed: 10}, Saturation: Phase{Completed: 10, AchievedRPS: 100}},
		{Variant: "B", Pair: 1, Seq: 2, Fixed: Phase{Completed: 10, P50MS: 5}, Saturation: Phase{Completed: 10, AchievedRPS: 90}},
	}}
	summarize(res)
	if res.Summary.ThroughputRatio != 0.9 || !res.Summary.Complete {
		t.Errorf("summary = %+v", res.Summary)
	}
	// A's p50 is 0: the ratio is undefined, and must not break the JSON.
	if _, err := json.Marshal(res); err != nil {
		t.Fatal(err)
	}
	if median([]float64{math.NaN(), 1, 3}) != 2 {
		t.Error("median does not skip NaN")
	}
}

// A session whose B is the bare SDK (-b sdk) has no shutdown summary and
// no accounting: its report says what B was, gives the spans the receiver
// got, and claims no drop count it does not have.
func TestSDKSessionReport(t *testing.T) {
	res := &Results{Config: Config{Pairs: 1, BService: "sdk"}, Runs: []Run{
		{Variant: "A", Pair: 1, Seq: 1, Fixed: Phase{Completed: 10}, Saturation: Phase{Completed: 10, AchievedRPS: 100}},
		{Variant: "B", Pair: 1, Seq: 2, Fixed: Phase{Completed: 10}, Saturation: Phase{Completed: 10, AchievedRPS: 95},
			Received: &Received{Spans: 1234, Requests: 3}},
	}}
	summarize(res)
	if res.Summary.ThroughputRatio != 0.95 || res.Summary.ReceivedSpans != 1234 || res.Summary.Spans != (Accounting{}) {
		t.Errorf("summary = %+v", res.Summary)
	}
	var out strings.Builder
	writeText(res, &out)
	text := out.String()
	for _, want := range []string{"B = bare OpenTelemetry SDK", "the receiver got 1234", "0.950"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"uncounted", "full pipeline"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("report of a bare-SDK session says %q:\n%s", unwanted, text)
		}
	}
}

// B's environment is the pipeline's, with -b-env last (so it wins); A's is
// telemetry off whatever -b-env says, and the caller's telemetry variables
// never leak into either.
func TestServiceEnv(t *testing.T) {
	t.Setenv("OTELSENTRY_TAIL_KEEP", "true")
	t.Setenv("SENTRY_DSN", "http://k@example.invalid/1")
	has := func(env []string, kv string) bool {
		for _, e := range env {
			if e == kv {
				return true
			}
		}
		return false
	}
	b := serviceEnv("B", "pipeline", "sentry", "http://127.0.0.1:9", "/w", []string{"OTELSENTRY_TAIL_KEEP=false"})
	if !has(b, "OTELSENTRY_TAIL_KEEP=false") || has(b, "OTELSENTRY_TAIL_KEEP=true") || b[len(b)-1] != "OTELSENTRY_TAIL_KEEP=false" {
		t.Errorf("B: %v", b)
	}
	if !has(b, "SENTRY_DSN=http://public@127.0.0.1:9/42") || has(b, "SENTRY_DSN=http://k@example.invalid/1") {
		t.Errorf("B's DSN: %v", b)
	}
	a := serviceEnv("A", "pipeline", "sentry", "http://127.0.0.1:9", "/w", []string{"OTELSENTRY_TAIL_KEEP=false"})
	if !has(a, "OTEL_SDK_DISABLED=true") || has(a, "OTELSENTRY_TAIL_KEEP=false") {
		t.Errorf("A: %v", a)
	}
	// -b sdk: the bare SDK reads only the standard variables, sampled at
	// production's head rate, exporting to the receiver with gzip.
	sdk := serviceEnv("B", "sdk", "sentry", "http://127.0.0.1:9", "/w", nil)
	for _, kv := range []string{"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.1",
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_COMPRESSION=gzip"} {
		if !has(sdk, kv) {
			t.Errorf("B (sdk) lacks %s: %v", kv, sdk)
		}
	}
	if has(sdk, "SENTRY_DSN=http://public@127.0.0.1:9/42") || has(sdk, "SENTRY_DSN=http://k@example.invalid/1") {
		t.Errorf("B (sdk) has a DSN: %v", sdk)
	}
	var l envList
	if err := l.Set("NOEQUALS"); err == nil {
		t.Error("-b-env NOEQUALS accepted")
	}
}
