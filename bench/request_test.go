package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/otelsentry/otelsentry/app"
	"github.com/otelsentry/otelsentry/telemetry"
)

// analyzeBody is the request of the per-request workload.
const analyzeBody = `{"company":"Tesla","industry":"Automotive","frameworks":["porter","swot"]}`

// latencyScale makes the reference service's simulated latencies (tens to
// hundreds of milliseconds, times this) round to zero, so a request costs
// CPU, not sleeps. 0 would mean 1.
const latencyScale = 1e-9

// withNoop is the service with a no-op TracerProvider: no spans at all.
func withNoop(tb testing.TB, exp *discardExporter) *tracing {
	tp := noop.NewTracerProvider()
	return &tracing{provider: tp, tracer: tp.Tracer("bench"), exp: exp,
		shutdown: func(context.Context) error { return nil }}
}

// requestVariants are the providers of BenchmarkRequest. The service
// (app.Service.Handler) always wraps each matched route in
// otelhttp.NewHandler with the configured TracerProvider, inside which run
// its request-ID and user middleware (telemetry.WithRequestID/WithUser:
// context attributes plus SetAttributes on the current span),
// telemetry.Recover and the fault middleware (off: production); the handler
// then starts its own agent and data-source spans. So:
//
//   - handler=bare: that handler with trace/noop's provider. otelhttp and
//     every instrumentation call still run but create non-recording no-op
//     spans (the global MeterProvider and propagator are the default no-ops):
//     the no-telemetry baseline of an instrumented service.
//   - handler=otelhttp+sdk: the bare SDK provider (AlwaysSample, the SDK's
//     BatchSpanProcessor with default options, discarding exporter).
//   - handler=otelhttp+pipeline: telemetry.Setup's provider at head rate 1.0,
//     configured as in BenchmarkSpan (errors and Crons bridges on, discarding
//     exporter and Sentry transport).
var requestVariants = []variant{
	{"handler=bare", withNoop},
	{"handler=otelhttp+sdk", withSDK(sdktrace.AlwaysSample())},
	{"handler=otelhttp+pipeline", withPipeline(1.0)},
}

// newService is the reference service on tp, in production (no fault
// injection), its logs discarded, its latencies scaled to nothing. Its
// background scheduler is not started.
func newService(tb testing.TB, tp trace.TracerProvider) http.Handler {
	tb.Helper()
	svc, err := app.New(app.Config{
		Environment:    "production",
		Logger:         discardLogger,
		TracerProvider: tp,
		LatencyScale:   latencyScale,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = svc.Close(context.Background()) })
	return svc.Handler()
}

// analyze serves one POST /api/analyze in process and returns its status.
func analyze(h http.Handler) int {
	req := httptest.NewRequest(http.MethodPost, "/api/analyze", strings.NewReader(analyzeBody))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// BenchmarkRequest measures one analysis request per op, served in process
// (httptest request and recorder, no network) by the reference service: a
// server span, three agents run concurrently and their data-source client
// spans. See requestVariants for what each variant contains.
//
// Extra metrics: spans/op, the spans that reached the exporter per request,
// after the run's shutdown has flushed everything; cpu-ns/op, the process's
// CPU time per request (see cpuMark.report).
func BenchmarkRequest(b *testing.B) {
	for _, v := range requestVariants {
		b.Run(v.name, func(b *testing.B) {
			rb := round(b)
			defer rb.done()
			exp := &discardExporter{}
			t := v.build(rb, exp)
			h := newService(rb, t.provider)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for i := 0; i < b.N; i++ {
				if code := analyze(h); code != http.StatusOK {
					b.Fatalf("POST /api/analyze: status %d, want 200", code)
				}
			}
			b.StopTimer()
			cpu.report(b)
			reportSpansPerOp(b, t, exp)
		})
	}
}

// reportSpansPerOp shuts t down after a request benchmark, flushing every
// queue, and reports the spans that reached exp per request.
func reportSpansPerOp(b *testing.B, t *tracing, exp *discardExporter) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := t.shutdown(ctx); err != nil {
		b.Fatalf("shutdown: %v", err)
	}
	b.ReportMetric(float64(exp.Spans())/float64(b.N), "spans/op")
}

// serveAll builds v on exp, serves n analysis requests, each of which must
// answer 200, and shuts the provider down, flushing every queue.
func serveAll(t *testing.T, v variant, exp *discardExporter, n int) *tracing {
	t.Helper()
	tt := v.build(t, exp)
	h := newService(t, tt.provider)
	for range n {
		if code := analyze(h); code != http.StatusOK {
			t.Fatalf("POST /api/analyze: status %d, want 200", code)
		}
	}
	if err := tt.shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	return tt
}

// serviceVariants are BenchmarkRequestParallel's: the service as deployed
// in production (10 % head sampling), with and without each part of the
// pipeline, beside the bare SDK configured the cheapest way a sampled OTel
// setup can be.
var serviceVariants = []variant{
	{"handler=bare", withNoop},
	{"handler=otelhttp+sdk-parentratio0.1", withSDK(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1)))},
	{"handler=otelhttp+sdk-always", withSDK(sdktrace.AlwaysSample())},
	{"handler=otelhttp+pipeline-0.1", withPipeline(0.1)},
	{"handler=otelhttp+pipeline-0.1-notail", withPipelineOpts(0.1, telemetry.WithTailKeep(false))},
}

// BenchmarkRequestParallel serves analysis requests from every core at once
// (b.RunParallel) with the service's simulated latencies scaled to nothing,
// so that the service is CPU-bound: ns/op is the inverse of the throughput
// it reaches. It is a reference, with no target of its own: the throughput
// ratios a CPU-bound service alone on the machine would see, beside the
// load A/B, whose service sleeps and shares the cores with its loadgen
// (which moves ratios towards 1). With tail keep the pipeline records every span of every request
// (for the errors it must not lose); without, unsampled spans are not
// recorded, as with the SDK's ParentBased(TraceIDRatioBased(0.1)).
//
// Extra metrics: spans/op, the spans that reached the exporter per request;
// cpu-ns/op, the process's CPU time per request (see cpuMark.report).
func BenchmarkRequestParallel(b *testing.B) {
	for _, v := range serviceVariants {
		b.Run(v.name, func(b *testing.B) {
			rb := round(b)
			defer rb.done()
			exp := &discardExporter{}
			t := v.build(rb, exp)
			h := newService(rb, t.provider)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if code := analyze(h); code != http.StatusOK {
						b.Errorf("POST /api/analyze: status %d, want 200", code)
						return
					}
				}
			})
			b.StopTimer()
			cpu.report(b)
			reportSpansPerOp(b, t, exp)
		})
	}
}

// cpuMark is the process's CPU time when a request benchmark's timer
// started.
type cpuMark struct {
	nanos int64
	ok    bool
}

func startCPU() cpuMark {
	n, ok := processCPU()
	return cpuMark{n, ok}
}

// report adds cpu-ns/op: the CPU the whole process spent per request
// while the timer ran — the handler's goroutines, the export goroutine,
// the GC — where ns/op is wall time, which on two cores overlaps the
// export goroutine with the handler and follows their scheduling.
// Export work still queued when the timer stops is not counted (at most
// one batch).
func (m cpuMark) report(b *testing.B) {
	if n, ok := processCPU(); ok && m.ok && b.N > 0 {
		b.ReportMetric(float64(n-m.nanos)/float64(b.N), "cpu-ns/op")
	}
}

// checkRequestVariants is TestWorkloadsReachTheirBackends for
// BenchmarkRequest: each variant answers 200, and the traced ones export
// every span of every request (a server span and its children).
func checkRequestVariants(t *testing.T) {
	const n = 20
	for _, v := range requestVariants {
		t.Run(v.name, func(t *testing.T) {
			var mu sync.Mutex
			names := map[string]int{}
			exp := &discardExporter{inspect: func(s sdktrace.ReadOnlySpan) {
				mu.Lock()
				names[s.Name()]++
				mu.Unlock()
			}}
			tt := serveAll(t, v, exp, n)
			got := exp.Spans()
			if v.name == "handler=bare" {
				if got != 0 {
					t.Fatalf("the no-op variant exported %d spans", got)
				}
				return
			}
			if names["POST /api/analyze"] != n || names["agent.execute"] != 3*n || got < 5*n {
				t.Fatalf("exported %d spans for %d requests: %v", got, n, names)
			}
			if tt.pipeline != nil {
				if st := tt.pipeline.Stats(); st.SpansStarted != got {
					t.Fatalf("pipeline started %d spans, exported %d", st.SpansStarted, got)
				}
			}
		})
	}
}

// TestServiceVariants: each variant of BenchmarkRequestParallel answers
// 200 and exports what its sampling says — nothing for the bare handler,
// every span for AlwaysSample, some but not all at 10 %.
func TestServiceVariants(t *testing.T) {
	const n = 200
	for _, v := range serviceVariants {
		t.Run(v.name, func(t *testing.T) {
			exp := &discardExporter{}
			serveAll(t, v, exp, n)
			got := exp.Spans()
			switch {
			case v.name == "handler=bare":
				if got != 0 {
					t.Fatalf("the no-op provider exported %d spans", got)
				}
			case strings.HasSuffix(v.name, "always"):
				if got < 10*n {
					t.Fatalf("%d spans exported for %d requests, want every span (≥ 10 a request)", got, n)
				}
			default:
				if got == 0 || got >= 10*n {
					t.Fatalf("%d spans exported for %d requests at 10 %%", got, n)
				}
			}
		})
	}
}
