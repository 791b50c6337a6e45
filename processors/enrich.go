package processors

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Enrich returns the first link of the chain. On start it sets, on every
// span, the static attributes (for example sentry.environment and
// sentry.release, which Sentry's OTLP endpoint reads from span attributes, not
// from the resource) and then the attributes carried by the parent context
// (see [ContextWithAttributes]) — request, user, agent and monitor context.
// Attributes the span already has at start (those given to Tracer.Start) are
// overwritten only by context attributes of the same key.
//
// Enrich allocates nothing of its own per span; static must not be modified
// after the call.
func Enrich(static ...attribute.KeyValue) Link { return EnrichCounting(nil, static...) }

// EnrichCounting is Enrich that also counts every span started in started
// (for the pipeline's self-metrics); started may be nil.
func EnrichCounting(started *atomic.Uint64, static ...attribute.KeyValue) Link {
	return func(next sdktrace.SpanProcessor) sdktrace.SpanProcessor {
		return &enricher{next: next, static: static, started: started}
	}
}

type enricher struct {
	next    sdktrace.SpanProcessor
	static  []attribute.KeyValue
	started *atomic.Uint64
}

func (e *enricher) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	if e.started != nil {
		e.started.Add(1)
	}
	if len(e.static) > 0 {
		s.SetAttributes(e.static...)
	}
	if kvs := AttributesFromContext(ctx); len(kvs) > 0 {
		s.SetAttributes(kvs...)
	}
	e.next.OnStart(ctx, s)
}

func (e *enricher) OnEnd(s sdktrace.ReadOnlySpan)        { e.next.OnEnd(s) }
func (e *enricher) ForceFlush(ctx context.Context) error { return e.next.ForceFlush(ctx) }
func (e *enricher) Shutdown(ctx context.Context) error   { return e.next.Shutdown(ctx) }
