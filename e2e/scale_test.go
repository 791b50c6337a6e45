//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

// gatewayEnv is a scale-out gateway: gateway.yaml + gateway-queue.yaml,
// 100% sampling so placement, not sampling, is what the test sees.
func gatewayEnv(t *testing.T, sink *fakebackend.OTLP) map[string]string {
	return map[string]string{
		"SENTRY_DSN":                         sentryDSN(sink),
		"COLLECTOR_TRACES_EXPORTERS":         "otlp_http/sentry",
		"COLLECTOR_TAIL_SAMPLING_PERCENTAGE": "100",
		"COLLECTOR_TAIL_DECISION_WAIT":       "1s",
		"COLLECTOR_BATCH_TIMEOUT":            "200ms",
		"COLLECTOR_STORAGE_DIR":              t.TempDir(),
	}
}

// TestScaleOutTopology runs collector/scale.yaml (one load balancer) in
// front of two gateways, each with its own sink. Each trace's spans are
// sent in separate requests, so the load balancer must route every piece of
// a trace to the same gateway for tail sampling to see it whole.
func TestScaleOutTopology(t *testing.T) {
	sinks := []*fakebackend.OTLP{fakebackend.NewOTLP(t), fakebackend.NewOTLP(t)}
	var gws []*collector
	for i, s := range sinks {
		gws = append(gws, startCollector(t, fmt.Sprintf("gateway-%d", i+1), []string{"gateway.yaml", "gateway-queue.yaml"}, gatewayEnv(t, s)))
	}
	lb := startCollector(t, "load-balancer", []string{"scale.yaml"}, map[string]string{
		"COLLECTOR_GATEWAYS":    fmt.Sprintf("[127.0.0.1:%d, 127.0.0.1:%d]", gws[0].grpc, gws[1].grpc),
		"COLLECTOR_STORAGE_DIR": t.TempDir(),
	})

	const traces, spansPerTrace = 60, 4
	ids := make([][]byte, traces)
	roots := make([][]byte, traces)
	for i := range ids {
		ids[i], roots[i] = randomID(16), randomID(8)
	}
	// Request k carries span k of every trace: a trace is spread over
	// spansPerTrace requests, interleaved with all the others.
	now := time.Now()
	for k := 0; k < spansPerTrace; k++ {
		var batch []*tracepb.Span
		for i := range ids {
			s := &tracepb.Span{TraceId: ids[i], SpanId: randomID(8), ParentSpanId: roots[i], Name: fmt.Sprintf("step %d", k),
				StartTimeUnixNano: uint64(now.UnixNano()), EndTimeUnixNano: uint64(now.Add(time.Millisecond).UnixNano())}
			if k == 0 {
				s.SpanId, s.ParentSpanId, s.Name = roots[i], nil, "GET /api/analyze"
			}
			batch = append(batch, s)
		}
		postOTLP(t, lb.http, otlpRequest(nil, batch...))
		time.Sleep(100 * time.Millisecond)
	}

	total := func() int { return len(sinks[0].Spans()) + len(sinks[1].Spans()) }
	eventually(30*time.Second, func() bool { return total() >= traces*spansPerTrace })
	settle(5*time.Second, 1500*time.Millisecond, total)

	placement := map[string]map[int]int{} // trace → gateway → spans
	for g, s := range sinks {
		for _, sp := range s.Spans() {
			id := fmt.Sprintf("%x", sp.TraceId)
			if placement[id] == nil {
				placement[id] = map[int]int{}
			}
			placement[id][g]++
		}
	}
	perGateway := [2]int{}
	for _, id := range ids {
		p := placement[fmt.Sprintf("%x", id)]
		switch {
		case len(p) == 0:
			t.Errorf("trace %x never arrived", id)
		case len(p) > 1:
			t.Errorf("trace %x split across gateways: %v", id, p)
		default:
			for g, n := range p {
				if n != spansPerTrace {
					t.Errorf("trace %x: %d of %d spans in gateway %d", id, n, spansPerTrace, g+1)
				}
				perGateway[g]++
			}
		}
	}
	if perGateway[0] == 0 || perGateway[1] == 0 {
		t.Errorf("all traces went to one gateway (%v): the load balancer did not balance", perGateway)
	}
	if got := total(); got != traces*spansPerTrace {
		t.Errorf("%d spans arrived, want %d", got, traces*spansPerTrace)
	}
	for _, s := range sinks {
		if len(s.Requests()) > 0 {
			checkSentryWire(t, s)
		}
	}
	t.Logf("RESULT scale-out: %d traces x %d spans sent to the load balancer in %d interleaved requests; gateway-1 got %d traces, gateway-2 got %d; traces split across gateways: %d; spans received %d/%d",
		traces, spansPerTrace, spansPerTrace, perGateway[0], perGateway[1], countSplit(placement), total(), traces*spansPerTrace)
}

func countSplit(p map[string]map[int]int) int {
	n := 0
	for _, g := range p {
		if len(g) > 1 {
			n++
		}
	}
	return n
}

// TestPersistentQueueSurvivesOutageAndRestart: the backend is down while
// spans arrive and the gateway is restarted in the middle of the outage;
// with gateway-queue.yaml the spans wait on disk and are delivered once the
// backend is back.
func TestPersistentQueueSurvivesOutageAndRestart(t *testing.T) {
	sink := fakebackend.NewOTLP(t)
	var up, refused atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if up.Load() == 0 {
			refused.Add(1)
			http.Error(w, "backend down", http.StatusServiceUnavailable)
			return
		}
		sink.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	frontSink := &fakebackend.OTLP{Server: front}
	env := map[string]string{
		"SENTRY_DSN":                         sentryDSN(frontSink),
		"COLLECTOR_TRACES_EXPORTERS":         "otlp_http/sentry",
		"COLLECTOR_TAIL_SAMPLING_PERCENTAGE": "100",
		"COLLECTOR_TAIL_DECISION_WAIT":       "500ms",
		"COLLECTOR_BATCH_TIMEOUT":            "200ms",
		"COLLECTOR_STORAGE_DIR":              t.TempDir(),
	}
	first := startCollector(t, "gateway (before restart)", []string{"gateway.yaml", "gateway-queue.yaml"}, env)

	const n = 50
	var spans []*tracepb.Span
	for i := 0; i < n; i++ {
		spans = append(spans, syntheticTrace(-1, time.Millisecond)[0])
	}
	postOTLP(t, first.http, otlpRequest(nil, spans...))
	if !eventually(15*time.Second, func() bool { return refused.Load() > 0 }) {
		t.Fatal("the gateway never tried the backend")
	}
	if err := first.stop(t, 15*time.Second); err != nil {
		t.Fatalf("gateway did not stop cleanly: %v", err)
	}
	if len(sink.Spans()) != 0 {
		t.Fatal("spans delivered while the backend was down")
	}

	up.Store(1)
	second := startCollector(t, "gateway (after restart)", []string{"gateway.yaml", "gateway-queue.yaml"}, env)
	_ = second
	eventually(60*time.Second, func() bool { return len(sink.Spans()) >= n })
	got := map[spanKey]bool{}
	for _, s := range sink.Spans() {
		got[keyOf(s)] = true
	}
	lost := 0
	for _, s := range spans {
		if !got[keyOf(s)] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d spans lost across a backend outage and a gateway restart", lost, n)
	}
	t.Logf("RESULT persistent queue: %d spans sent during an outage (%d export attempts refused), gateway restarted, %d delivered after recovery, %d lost",
		n, refused.Load(), len(got), lost)
}
