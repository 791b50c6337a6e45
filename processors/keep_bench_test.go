package processors

import (
	"context"
	"runtime"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/otelsentry/otelsentry/sampling"
)

// BenchmarkSpan is the per-span cost of the keep stage, beside a no-op span
// and a bare SDK span, in one run. Each op is one root span started and
// ended (a local trace of one span, the worst case for the keeper: every
// span registers and decides a local trace); /trace4 ops are a root with
// three children, reported per span.
//
//   - noop: the OpenTelemetry no-op tracer.
//   - sdk: the SDK, AlwaysSample, one processor that does nothing: S.
//   - head: our sampler at 1.0 and the keep stage — the head-sampled path.
//   - hold-drop: our sampler at 0 and the keep stage — every span is
//     RecordOnly, held, and dropped when its local root ends.
//   - rate0.1: our sampler at 0.1 and the keep stage — the production mix.
//   - light-head, light-hold-drop, light-rate0.1: the same with every span
//     a light span of LightProvider (telemetry's default).
func BenchmarkSpan(b *testing.B) {
	keep := func(rate float64) *sdktrace.TracerProvider {
		s, err := sampling.NewSampler(rate)
		if err != nil {
			b.Fatal(err)
		}
		return sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithIDGenerator(newSeededIDs(1)),
			sdktrace.WithSpanProcessor(NewChain(discard{}, Keep(sampling.NewKeeper(sampling.KeepConfig{})))))
	}
	// light is keep with light spans.
	light := func(rate float64) trace.TracerProvider {
		s, err := sampling.NewSampler(rate)
		if err != nil {
			b.Fatal(err)
		}
		return NewLightProvider(LightConfig{Sampler: s, Limits: sdktrace.NewSpanLimits(),
			Processor: NewChain(discard{}, Keep(sampling.NewKeeper(sampling.KeepConfig{})))})
	}
	providers := []struct {
		name string
		tp   trace.TracerProvider
	}{
		{"noop", noop.NewTracerProvider()},
		{"sdk", sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithIDGenerator(newSeededIDs(1)),
			sdktrace.WithSpanProcessor(discard{}))},
		{"head", keep(1)},
		{"light-head", light(1)},
		{"hold-drop", keep(0)},
		{"light-hold-drop", light(0)},
		{"rate0.1", keep(0.1)},
		{"light-rate0.1", light(0.1)},
	}
	for _, p := range providers {
		tr := p.tp.Tracer("bench")
		b.Run(p.name+"/root", func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, s := tr.Start(ctx, "GET /api/items")
				s.End()
			}
		})
		b.Run(p.name+"/trace4", func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c, root := tr.Start(ctx, "GET /api/items")
				for range 3 {
					_, s := tr.Start(c, "db.query")
					s.End()
				}
				root.End()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(4*b.N), "ns/span")
		})
	}
}

// BenchmarkHeldSpanMemory reports the heap held per span while the keeper
// holds it (the SDK's snapshot and the keeper's bookkeeping), for open
// traces of ten spans.
func BenchmarkHeldSpanMemory(b *testing.B) {
	// Each op measures once (about 40 000 spans); the timing is meaningless,
	// the metric is the result.
	var per float64
	for b.Loop() {
		per = heldBytesPerSpan(b, 2000)
	}
	b.ReportMetric(per, "B/held-span")
}

func heldBytesPerSpan(tb testing.TB, traces int) float64 {
	run := func(keep bool) (uint64, []trace.Span, *sampling.Keeper) {
		s, _ := sampling.NewSampler(0)
		k := sampling.NewKeeper(sampling.KeepConfig{MaxSpans: traces * 10, Latency: -1})
		var last sdktrace.SpanProcessor = discard{}
		if keep {
			last = NewChain(discard{}, Keep(k))
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithSpanProcessor(last), sdktrace.WithIDGenerator(newSeededIDs(2)))
		tr := tp.Tracer("mem")
		roots := make([]trace.Span, 0, traces)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range traces {
			ctx, root := tr.Start(context.Background(), "GET /api/items")
			for range 9 {
				_, c := tr.Start(ctx, "db.query")
				c.End()
			}
			roots = append(roots, root)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		return after.HeapAlloc - before.HeapAlloc, roots, k
	}
	base, r0, _ := run(false)
	held, r1, k := run(true)
	n := k.Stats().HeldSpans
	if n != 9*traces {
		tb.Fatalf("held %d spans, want %d", n, 9*traces)
	}
	runtime.KeepAlive(r0)
	runtime.KeepAlive(r1)
	return (float64(held) - float64(base)) / float64(n)
}
