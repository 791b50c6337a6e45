package processors

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/sampling"
)

// Keep returns the keep stage: the tail keep policy of k in the chain.
//
// A head-sampled span passes straight on, with no work of its own (its
// sampling.reason and sentry.sample_rate come from the sampler). A span that
// lost the head decision (RecordOnly; a light span of [LightProvider] alike)
// is given to k, which holds it per local trace until the trace is decided;
// a kept span is handed on in a [View] that reports it sampled — the batch
// processor drops unsampled spans — and adds sampling.reason (error or
// latency) and sentry.sample_rate=1. Dropped spans are counted by k (see
// sampling.Keeper.Stats).
//
// ForceFlush hands on what the clock alone decides (see
// sampling.Keeper.Flush), then flushes next. Shutdown drops what is still
// undecided (counted), then shuts next down. k must serve one chain only.
func Keep(k *sampling.Keeper) Link {
	return func(next sdktrace.SpanProcessor) sdktrace.SpanProcessor {
		p := &keepStage{next: next, k: k}
		p.emitFn = p.emit // bound once: passing it on does not allocate
		return p
	}
}

type keepStage struct {
	next   sdktrace.SpanProcessor
	k      *sampling.Keeper
	emitFn sampling.Emit
}

func (p *keepStage) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	if !s.SpanContext().IsSampled() {
		p.k.OnStart(s, p.emitFn)
	}
	p.next.OnStart(ctx, s)
}

func (p *keepStage) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.SpanContext().IsSampled() {
		p.next.OnEnd(s)
		return
	}
	p.k.OnEnd(s, p.emitFn)
}

func (p *keepStage) ForceFlush(ctx context.Context) error {
	p.k.Flush(p.emitFn)
	return p.next.ForceFlush(ctx)
}

func (p *keepStage) Shutdown(ctx context.Context) error {
	p.k.Shutdown(p.emitFn)
	return p.next.Shutdown(ctx)
}

// emit hands a kept span on, marked sampled and with its reason.
func (p *keepStage) emit(s sdktrace.ReadOnlySpan, r sampling.Reason) {
	sc := s.SpanContext()
	sc = sc.WithTraceFlags(sc.TraceFlags().WithSampled(true))
	attrs := s.Attributes()
	kept := sampling.KeptAttributes(r)
	all := make([]attribute.KeyValue, 0, len(attrs)+len(kept))
	all = append(append(all, attrs...), kept...)
	p.next.OnEnd(NewView(s).WithSpanContext(sc).WithAttributes(all))
}
