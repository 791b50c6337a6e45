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

// EnrichDeferred is EnrichCounting without static attributes that does not
// set the context's attributes on the live span: it remembers them (the
// context's slice, not a copy) and, when the span ends, hands it on with
// them attached. What the following links and exporters read is the same
// but for one rule: a span's own attributes — given at start or set later —
// win over a context attribute of the same key (with Enrich, a context
// attribute overwrites one given at start). limits must be the provider's:
// past AttributeCountLimit context attributes are dropped first, and a
// context whose attributes include one that is invalid, longer than
// AttributeValueLengthLimit or a string slice is set live instead, where the
// SDK drops, truncates or stores them.
//
// It is the cheaper path: no growth of the span's attribute array and no
// de-duplication of it per span (see the benchmarks in docs/PERFORMANCE.md).
// Spans started and never ended hold their entry; past 65 536 waiting spans,
// new ones get their context attributes set live.
//
// The stages of this package read the deferred attributes without
// allocating; a span processor outside it sees them in Attributes, merged
// into a new slice on each call.
func EnrichDeferred(started *atomic.Uint64, limits sdktrace.SpanLimits) Link {
	return func(next sdktrace.SpanProcessor) sdktrace.SpanProcessor {
		return &enricher{next: next, started: started, table: new(ctxTable),
			maxLen: limits.AttributeValueLengthLimit, maxAttrs: limits.AttributeCountLimit}
	}
}

type enricher struct {
	next    sdktrace.SpanProcessor
	static  []attribute.KeyValue
	started *atomic.Uint64

	table    *ctxTable // deferring (EnrichDeferred) when not nil
	maxLen   int       // AttributeValueLengthLimit (< 0: none)
	maxAttrs int       // AttributeCountLimit (< 0: none)
}

func (e *enricher) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	if e.started != nil {
		e.started.Add(1)
	}
	if len(e.static) > 0 {
		s.SetAttributes(e.static...)
	}
	if kvs := AttributesFromContext(ctx); len(kvs) > 0 {
		deferring := e.table != nil && e.maxAttrs != 0 && deferrable(kvs, e.maxLen)
		if ls, ok := s.(*liteSpan); ok && deferring {
			ls.deferContext(kvs, e.maxAttrs) // a light span carries them itself
		} else if !deferring || !e.table.put(s.SpanContext(), kvs) {
			s.SetAttributes(kvs...)
		}
	}
	e.next.OnStart(ctx, s)
}

func (e *enricher) OnEnd(s sdktrace.ReadOnlySpan) {
	if _, lite := s.(*liteSpan); e.table != nil && !lite {
		if kvs, ok := e.table.take(s.SpanContext()); ok {
			s = &contextSpan{ReadOnlySpan: s, ctx: kvs, limit: e.maxAttrs}
		}
	}
	e.next.OnEnd(s)
}

func (e *enricher) ForceFlush(ctx context.Context) error { return e.next.ForceFlush(ctx) }
func (e *enricher) Shutdown(ctx context.Context) error   { return e.next.Shutdown(ctx) }
