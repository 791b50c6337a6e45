package processors

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/processors/redact"
)

// nopSink discards events.
type nopSink struct{}

func (nopSink) CaptureEvent(*sentry.Event, *sentry.EventHint, sentry.EventModifier) *sentry.EventID {
	return nil
}
func (nopSink) FlushWithContext(context.Context) bool { return true }

// endedSpans runs f against a provider that only records, and returns the
// spans it ended (SDK snapshots, what OnEnd receives in production).
func endedSpans(f func(trace.Tracer)) []sdktrace.ReadOnlySpan {
	rec := &spanRecorder{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	f(tp.Tracer("bench"))
	return rec.spans
}

// benchStage returns the stage and its processor, ending in discard.
func benchStage(b *testing.B, mods ...func(*ErrorsConfig)) (*Errors, sdktrace.SpanProcessor) {
	cfg := DefaultErrorsConfig()
	for _, m := range mods {
		m(&cfg)
	}
	stage, err := NewErrors(nopSink{}, redact.Default(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	p := stage.Link()(discard{})
	b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return stage, p
}

// loop runs f b.N times and, where the platform can tell, also reports the
// CPU time the loop's thread used per op (cpu-ns/op): on a shared machine
// wall-clock ns/op also counts the time other processes held the CPU.
func loop(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	start, ok := threadCPU()
	for b.Loop() {
		f()
	}
	if end, ok2 := threadCPU(); ok && ok2 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// A typical child span: a few attributes and an event, no exception.
func plainChild() sdktrace.ReadOnlySpan {
	return endedSpans(func(tr trace.Tracer) {
		ctx, root := tr.Start(context.Background(), "POST /api/analyze")
		_, s := tr.Start(ctx, "datasource.fetch", trace.WithAttributes(
			attribute.String("agent.name", "FinancialAgent"),
			attribute.String("request_id", "req-1"),
			attribute.String("db.system.name", "postgresql"),
		))
		s.AddEvent("cache.miss")
		s.End()
		root.End()
	})[0]
}

// BenchmarkErrorsOnEnd is the stage's cost on the goroutine that ends a span
// without an exception (target: <= 20 ns, 0 allocs).
func BenchmarkErrorsOnEnd(b *testing.B) {
	s := plainChild()
	// The floor any link pays for the same span: being called through the
	// SpanProcessor interface, reading the snapshot's events (the SDK's
	// value-receiver method copies the whole snapshot) and handing it on.
	b.Run("floor-link-reading-events", func(b *testing.B) {
		var p sdktrace.SpanProcessor = eventsReader{next: discard{}}
		loop(b, func() { p.OnEnd(s) })
	})
	b.Run("no-exception", func(b *testing.B) {
		_, stage := benchStage(b)
		loop(b, func() { stage.OnEnd(s) })
	})
	b.Run("no-exception-parallel", func(b *testing.B) {
		// Spans of many traces, ended on every P at once.
		spans := make([]sdktrace.ReadOnlySpan, 64)
		for i := range spans {
			spans[i] = plainChild()
		}
		_, stage := benchStage(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				stage.OnEnd(spans[i&63])
				i++
			}
		})
	})
	b.Run("no-exception-while-traces-held", func(b *testing.B) {
		_, stage := benchStage(b)
		held := endedSpans(func(tr trace.Tracer) {
			ctx, _ := tr.Start(context.Background(), "open root")
			_, c := tr.Start(ctx, "child")
			c.RecordError(errors.New("x"))
			c.End()
		})[0]
		stage.OnEnd(held) // its trace now waits for a root that never ends
		loop(b, func() { stage.OnEnd(s) })
	})
	b.Run("no-exception-with-history", func(b *testing.B) {
		_, stage := benchStage(b, func(c *ErrorsConfig) { c.HistorySize = 4096 })
		loop(b, func() { stage.OnEnd(s) })
	})
	b.Run("local-root-while-traces-held", func(b *testing.B) {
		_, stage := benchStage(b)
		held := endedSpans(func(tr trace.Tracer) {
			ctx, _ := tr.Start(context.Background(), "open root")
			_, c := tr.Start(ctx, "child")
			c.RecordError(errors.New("x"))
			c.End()
		})[0]
		stage.OnEnd(held)
		root := endedSpans(func(tr trace.Tracer) {
			_, r := tr.Start(context.Background(), "GET /healthz")
			r.End()
		})[0]
		loop(b, func() { stage.OnEnd(root) })
	})
}

// BenchmarkErrorsBuildEvent is the worker's cost of one event: the agent
// failure of TestErrorsEventFromAgentFailure (three spans, a stack, a
// collapsed duplicate, six breadcrumbs), scrubbed by the real engine.
func BenchmarkErrorsBuildEvent(b *testing.B) {
	spans := endedSpans(func(tr trace.Tracer) { agentFailure(tr, "jane.doe@example.com") })
	stage, _ := benchStage(b)
	ht := &heldTrace{id: spans[0].SpanContext().TraceID()}
	for _, s := range spans {
		if len(s.Events()) > 0 && s.Events()[len(s.Events())-1].Name == exceptionEvent {
			ht.errs = append(ht.errs, s)
		} else {
			ht.spans = append(ht.spans, s)
		}
	}
	ht.root = spans[len(spans)-1]
	loop(b, func() {
		lt := newLocalTrace(ht)
		xs := lt.exceptions()
		collapseDuplicates(lt, xs)
		crumbs := lt.breadcrumbs(stage.scrub)
		for i := range xs {
			if !xs[i].dup {
				_ = stage.buildEvent(lt, &xs[i], crumbs)
			}
		}
	})
}

// eventsReader is the cheapest useful link: it reads a span's events.
type eventsReader struct{ next sdktrace.SpanProcessor }

func (r eventsReader) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) { r.next.OnStart(ctx, s) }
func (r eventsReader) OnEnd(s sdktrace.ReadOnlySpan) {
	if len(s.Events()) == 1<<30 {
		panic("unreachable")
	}
	r.next.OnEnd(s)
}
func (r eventsReader) ForceFlush(ctx context.Context) error { return r.next.ForceFlush(ctx) }
func (r eventsReader) Shutdown(ctx context.Context) error   { return r.next.Shutdown(ctx) }
