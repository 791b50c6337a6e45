package processors

import (
	"context"
	"errors"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// A Link builds one stage of a chain around the stage that follows it.
//
// The returned processor must:
//   - call next.OnStart for every span it is given in OnStart, after its own
//     work, so later stages see the changes (OnStart may mutate the span);
//   - pass to next.OnEnd every span it does not deliberately hold or drop, and
//     count what it drops;
//   - on ForceFlush, flush what it can and then call next.ForceFlush;
//   - on Shutdown, hand everything it holds to next (or count it as dropped),
//     then call next.Shutdown; it is called once.
type Link func(next sdktrace.SpanProcessor) sdktrace.SpanProcessor

// NewChain returns one SpanProcessor that runs links in order and ends at
// last. Nil links are skipped, so optional stages can be passed as nil.
func NewChain(last sdktrace.SpanProcessor, links ...Link) sdktrace.SpanProcessor {
	p := last
	for i := len(links) - 1; i >= 0; i-- {
		if links[i] != nil {
			p = links[i](p)
		}
	}
	return p
}

// Fanout returns a processor that hands every span to each of ps in turn; it
// is the end of the chain, one batch processor per exporter. ForceFlush and
// Shutdown reach every processor and return their joined errors.
func Fanout(ps ...sdktrace.SpanProcessor) sdktrace.SpanProcessor {
	switch len(ps) {
	case 0:
		return discard{}
	case 1:
		return ps[0]
	}
	return fanout(ps)
}

type fanout []sdktrace.SpanProcessor

func (f fanout) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	for _, p := range f {
		p.OnStart(ctx, s)
	}
}

func (f fanout) OnEnd(s sdktrace.ReadOnlySpan) {
	for _, p := range f {
		p.OnEnd(s)
	}
}

func (f fanout) ForceFlush(ctx context.Context) error {
	var errs []error
	for _, p := range f {
		errs = append(errs, p.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

func (f fanout) Shutdown(ctx context.Context) error {
	var errs []error
	for _, p := range f {
		errs = append(errs, p.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// discard ends a chain that has no exporter (OTEL_TRACES_EXPORTER=none).
type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) ForceFlush(context.Context) error                { return nil }
func (discard) Shutdown(context.Context) error                  { return nil }
