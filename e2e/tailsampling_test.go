//go:build e2e

package e2e

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

// syntheticTrace is a three-span trace (root, two children); errAt >= 0
// puts ERROR status on that span, and dur is the root's duration.
func syntheticTrace(errAt int, dur time.Duration) []*tracepb.Span {
	traceID, rootID := randomID(16), randomID(8)
	end := time.Now()
	begin := end.Add(-dur)
	spans := []*tracepb.Span{{TraceId: traceID, SpanId: rootID, Name: "GET /orders/{id}", Kind: tracepb.Span_SPAN_KIND_SERVER,
		StartTimeUnixNano: uint64(begin.UnixNano()), EndTimeUnixNano: uint64(end.UnixNano())}}
	for i := 0; i < 2; i++ {
		spans = append(spans, &tracepb.Span{TraceId: traceID, SpanId: randomID(8), ParentSpanId: rootID,
			Name: fmt.Sprintf("db.query %d", i), Kind: tracepb.Span_SPAN_KIND_CLIENT,
			StartTimeUnixNano: uint64(begin.Add(time.Millisecond).UnixNano()), EndTimeUnixNano: uint64(begin.Add(5 * time.Millisecond).UnixNano())})
	}
	if errAt >= 0 {
		spans[errAt].Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "boom"}
	}
	return spans
}

// traceStats groups spans by trace: span count, any ERROR, and duration
// (earliest start to latest end, as the latency policy measures it).
type traceStats struct {
	spans    int
	hasError bool
	start    uint64
	end      uint64
}

func groupTraces(spans []*tracepb.Span) map[string]*traceStats {
	out := map[string]*traceStats{}
	for _, s := range spans {
		id := fmt.Sprintf("%x", s.TraceId)
		ts := out[id]
		if ts == nil {
			ts = &traceStats{start: s.StartTimeUnixNano}
			out[id] = ts
		}
		ts.spans++
		if s.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
			ts.hasError = true
		}
		ts.start = min(ts.start, s.StartTimeUnixNano)
		ts.end = max(ts.end, s.EndTimeUnixNano)
	}
	return out
}

func (ts *traceStats) slow() bool {
	return time.Duration(ts.end-ts.start).Milliseconds() > 2000
}

// TestCollectorTailSampling runs the gateway with the probabilistic share
// at 0%, so exactly the traces the keep policies select come out: every
// trace with an ERROR span and every trace longer than 2 s, whole; none of
// the healthy, fast ones. Traces come from the app (faults injected with
// X-Fault) and from raw OTLP (latency is hard to force through the app).
func TestCollectorTailSampling(t *testing.T) {
	sink := fakebackend.NewOTLP(t)
	col := startCollector(t, "collector", []string{"gateway.yaml"}, map[string]string{
		"SENTRY_DSN":                         sentryDSN(sink),
		"COLLECTOR_TRACES_EXPORTERS":         "otlp_http/sentry",
		"COLLECTOR_TAIL_SAMPLING_PERCENTAGE": "0",
		"COLLECTOR_TAIL_DECISION_WAIT":       "1s",
		"COLLECTOR_BATCH_TIMEOUT":            "200ms",
	})

	// The app's traces, through the tap (ground truth).
	tp := newTap(t, col.http)
	app, base := startApp(t, tp.URL)
	reqs := newRequests(20, 4, "error")
	done := fire(base, reqs)
	<-done
	if err := app.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-app.done

	// Synthetic traces: 10 with an error on a child, 10 slow (2.5 s),
	// 20 healthy and fast.
	var synthetic []*tracepb.Span
	for i := 0; i < 40; i++ {
		switch {
		case i < 10:
			synthetic = append(synthetic, syntheticTrace(1+i%2, 30*time.Millisecond)...)
		case i < 20:
			synthetic = append(synthetic, syntheticTrace(-1, 2500*time.Millisecond)...)
		default:
			synthetic = append(synthetic, syntheticTrace(-1, 30*time.Millisecond)...)
		}
	}
	postOTLP(t, col.http, otlpRequest(nil, synthetic...))

	all := append(tp.Spans(), synthetic...)
	sent := groupTraces(all)
	want := map[string]*traceStats{}
	appErrors, errTraces := 0, 0
	appTraces := groupTraces(tp.Spans())
	for id, ts := range sent {
		if ts.hasError || ts.slow() {
			want[id] = ts
		}
		if ts.hasError {
			errTraces++
			if _, fromApp := appTraces[id]; fromApp {
				appErrors++
			}
		}
	}
	if appErrors == 0 {
		t.Fatalf("no app trace carried an ERROR span although %d requests had X-Fault: error", (len(reqs)+3)/4)
	}

	// decision_wait is 1 s; wait until the sink stops growing.
	wantSpans := 0
	for _, ts := range want {
		wantSpans += ts.spans
	}
	eventually(20*time.Second, func() bool { return len(sink.Spans()) >= wantSpans })
	settle(5*time.Second, 1500*time.Millisecond, func() int { return len(sink.Spans()) })

	got := groupTraces(sink.Spans())
	keptErrors, keptSlow := 0, 0
	for id, ts := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("trace %s (error %v, %v) was dropped; the keep policies select it", id, ts.hasError, time.Duration(ts.end-ts.start))
		case g.spans != ts.spans:
			t.Errorf("trace %s kept with %d of its %d spans", id, g.spans, ts.spans)
		case ts.hasError:
			keptErrors++
		default:
			keptSlow++
		}
	}
	dropped := 0
	for id, ts := range sent {
		if _, selected := want[id]; selected {
			continue
		}
		if _, ok := got[id]; ok {
			t.Errorf("healthy fast trace %s (%d spans) was kept at 0%%", id, ts.spans)
		} else {
			dropped++
		}
	}
	checkSentryWire(t, sink)
	t.Logf("RESULT tail sampling (probabilistic 0%%): %d traces sent (%d from the app), error traces kept %d/%d (%d from the app), slow (> 2 s) traces kept %d, healthy traces dropped %d/%d",
		len(sent), len(appTraces), keptErrors, errTraces, appErrors, keptSlow, dropped, len(sent)-len(want))
}
