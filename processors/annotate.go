package processors

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Annotations are the attributes [AnnotateExports] adds to exported spans.
type Annotations struct {
	// Static go on every span (for example sentry.environment and
	// sentry.release).
	Static []attribute.KeyValue
	// Head, when set, returns what a span the head decision sampled gets for
	// its SpanContext (sampling.reason=head and sentry.sample_rate, see
	// sampling.Sampler.HeadAttributes). A span was head-sampled when the span
	// the SDK ended — under any [View] — is sampled: tail-kept spans reach
	// the exporter as views of unsampled spans and get nothing from Head.
	Head func(trace.SpanContext) []attribute.KeyValue
	// Limit is the span attribute count limit (sdktrace.SpanLimits'
	// AttributeCountLimit; 0 or less: none). A span that would exceed it
	// loses its own last attributes, counted in DroppedAttributes, so that
	// the added ones are kept, as they would be had they been set first.
	Limit int
	// Reuse says the exporter keeps nothing of a batch — no span, no slice
	// a span returned — once ExportSpans has returned, as exporters that
	// serialise the batch before returning (OTLP, stdout) do. The annotator
	// then builds every batch in the memory of the previous one instead of
	// allocating it. An exporter that keeps spans (tracetest's
	// InMemoryExporter) must leave it false: it would see the spans of the
	// next batch in place of its own.
	Reuse bool
}

// AnnotateExports wraps exp so that spans leave with attributes they did not
// carry while they were live: a's. An added attribute replaces one of the
// span's with the same key, else it is appended. Head and the slices of a
// must be safe for concurrent use and must not be modified.
//
// Spans that get nothing are passed on as they are; the others wrapped in a
// span that overrides Attributes and DroppedAttributes, built for the whole
// batch at once: three allocations per batch (the wrappers, their
// attributes and the batch), none per span, and none at all once warm with
// [Annotations.Reuse]. The wrappers share those arrays, so an exporter that
// keeps one span after ExportSpans returns keeps its batch's.
//
// Why at export: attributes set on a live span are stored, normalised and
// de-duplicated by the SDK on the goroutine that ends the span — past eight
// attributes with a heap-allocated map — while here they are appended once,
// off that goroutine, to the spans that are exported.
func AnnotateExports(exp sdktrace.SpanExporter, a Annotations) sdktrace.SpanExporter {
	if len(a.Static) == 0 && a.Head == nil {
		return exp
	}
	return &annotator{SpanExporter: exp, a: a}
}

type annotator struct {
	sdktrace.SpanExporter
	a Annotations

	// With a.Reuse, the last batch's arrays, cleared, for the next; mu
	// guards them (the Batcher exports one batch at a time:
	// mu is never contended, and a concurrent call allocates its own).
	mu      sync.Mutex
	wrapped []annotated
	kvs     []attribute.KeyValue
	out     []sdktrace.ReadOnlySpan
}

// arrays returns the arrays for a batch of n annotated spans of total
// attributes in all, out of spans: the previous batch's when they are free
// and large enough (reused is true: release must be called once the
// exporter has returned), else new ones.
func (a *annotator) arrays(n, total, spans int) (wrapped []annotated, kvs []attribute.KeyValue, out []sdktrace.ReadOnlySpan, reused bool) {
	if !a.a.Reuse || !a.mu.TryLock() {
		return make([]annotated, n), make([]attribute.KeyValue, 0, total), make([]sdktrace.ReadOnlySpan, spans), false
	}
	if cap(a.wrapped) < n {
		a.wrapped = make([]annotated, n)
	}
	if cap(a.kvs) < total {
		a.kvs = make([]attribute.KeyValue, 0, total)
	}
	if cap(a.out) < spans {
		a.out = make([]sdktrace.ReadOnlySpan, spans)
	}
	return a.wrapped[:n], a.kvs[:0], a.out[:spans], true
}

// release clears what a batch of n annotated spans writing at most kvs
// attributes, out of spans, left in the reused arrays — nothing of it stays alive until
// the next batch — and frees them.
func (a *annotator) release(n, kvs, spans int) {
	clear(a.wrapped[:n])
	clear(a.kvs[:kvs])
	clear(a.out[:spans])
	a.mu.Unlock()
}

// headOf returns head's attributes for s, nil for a tail-kept span.
func (a *annotator) headOf(s sdktrace.ReadOnlySpan) []attribute.KeyValue {
	if a.a.Head == nil {
		return nil
	}
	orig := s
	if v, ok := s.(*View); ok {
		orig = v.Original()
	}
	sc := orig.SpanContext()
	if !sc.IsSampled() {
		return nil
	}
	return a.a.Head(sc)
}

func (a *annotator) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	n, total := 0, 0
	for _, s := range spans {
		own, ctx, _ := splitAttributes(s)
		if extra := len(a.a.Static) + len(a.headOf(s)) + len(ctx); extra > 0 {
			n++
			total += len(own) + extra
		}
	}
	if n == 0 {
		return a.SpanExporter.ExportSpans(ctx, spans)
	}
	// kvs never grows: the wrappers slice it.
	wrapped, kvs, out, reused := a.arrays(n, total, len(spans))
	if reused {
		// total bounds what was written, kvs shrunk by the limit included.
		defer a.release(n, total, len(spans))
	}
	j := 0
	for i, s := range spans {
		h := a.headOf(s)
		ownAttrs, ctx, ctxLimit := splitAttributes(s)
		if len(a.a.Static)+len(h)+len(ctx) == 0 {
			out[i] = s
			continue
		}
		// The span's own attributes, but those an added one replaces, then
		// the context attributes it does not have (deferred by the enrich
		// stage: the span's DroppedAttributes counts those its limit left
		// out), then the added ones: dropping from the end of the own part,
		// below, can never drop an added attribute.
		start := len(kvs)
		for _, kv := range ownAttrs {
			if !hasKey(a.a.Static, kv.Key) && !hasKey(h, kv.Key) {
				kvs = append(kvs, kv)
			}
		}
		if len(ctx) > 0 {
			kvs = appendContext(kvs, ownAttrs, ctx, ctxLimit, a.a.Static, h)
		}
		own := len(kvs)
		kvs = setAttrs(kvs, own, a.a.Static)
		kvs = setAttrs(kvs, own, h)
		dropped := 0
		if over := len(kvs) - start - a.a.Limit; a.a.Limit > 0 && over > 0 {
			over = min(over, own-start)
			kvs = append(kvs[:own-over], kvs[own:]...)
			dropped = over
		}
		w := &wrapped[j]
		j++
		*w = annotated{ReadOnlySpan: s, attrs: kvs[start:len(kvs):len(kvs)], dropped: dropped}
		out[i] = w
	}
	return a.SpanExporter.ExportSpans(ctx, out)
}

// setAttrs sets each of add in kvs[start:], replacing an attribute of the
// same key or appending.
func setAttrs(kvs []attribute.KeyValue, start int, add []attribute.KeyValue) []attribute.KeyValue {
next:
	for _, kv := range add {
		for i := start; i < len(kvs); i++ {
			if kvs[i].Key == kv.Key {
				kvs[i] = kv
				continue next
			}
		}
		kvs = append(kvs, kv)
	}
	return kvs
}

// annotated is an exported span with attributes added by an annotator.
type annotated struct {
	sdktrace.ReadOnlySpan
	attrs   []attribute.KeyValue
	dropped int // to make room for the added ones
}

func (a *annotated) Attributes() []attribute.KeyValue { return a.attrs }

func (a *annotated) DroppedAttributes() int { return a.ReadOnlySpan.DroppedAttributes() + a.dropped }
