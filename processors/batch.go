package processors

import (
	"context"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Batcher is the SDK's BatchSpanProcessor with every drop counted. The SDK's
// processor drops spans silently when its queue is full; Batcher admits a
// span only while fewer than the queue's size are in flight (queued or being
// exported), counts the ones it turns away, and runs the SDK processor in
// blocking mode — which, given the admission bound, never actually blocks.
//
// Its counters are exact: after Shutdown, Enqueued = Exported + Failed +
// Lost, where Lost is what was still in flight when the shutdown deadline
// passed. Safe for concurrent use.
type Batcher struct {
	bsp      sdktrace.SpanProcessor
	capacity int64

	inflight atomic.Int64
	enqueued atomic.Uint64
	dropped  atomic.Uint64
	exported atomic.Uint64
	failed   atomic.Uint64
	// exportNanos and exports give the mean export latency.
	exportNanos atomic.Int64
	exports     atomic.Uint64
}

// BatcherStats is a snapshot of a Batcher's counters.
type BatcherStats struct {
	Enqueued, DroppedQueueFull, Exported, Failed uint64
	InFlight                                     int64
	Capacity                                     int64
	Exports                                      uint64
	ExportTime                                   time.Duration // total time spent in ExportSpans
}

// NewBatcher returns a Batcher that exports through exp with a queue of
// queueSize spans. opts are passed to the SDK's batch processor after the
// Batcher's own (queue size, blocking).
func NewBatcher(exp sdktrace.SpanExporter, queueSize int, opts ...sdktrace.BatchSpanProcessorOption) *Batcher {
	b := &Batcher{capacity: int64(queueSize)}
	all := append([]sdktrace.BatchSpanProcessorOption{sdktrace.WithMaxQueueSize(queueSize), sdktrace.WithBlocking()}, opts...)
	b.bsp = sdktrace.NewBatchSpanProcessor(&countingExporter{SpanExporter: exp, b: b}, all...)
	return b
}

// OnStart does nothing: batching starts when a span ends.
func (b *Batcher) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues s for export, or counts it as dropped when the queue is full.
// It never blocks. Unsampled spans are ignored, as the SDK's processor does.
func (b *Batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	if b.inflight.Add(1) > b.capacity {
		b.inflight.Add(-1)
		b.dropped.Add(1)
		return
	}
	b.enqueued.Add(1)
	b.bsp.OnEnd(s)
}

// ForceFlush exports everything queued, within ctx.
func (b *Batcher) ForceFlush(ctx context.Context) error { return b.bsp.ForceFlush(ctx) }

// Shutdown exports everything queued within ctx, then shuts the exporter
// down. Spans still in flight when ctx ends are lost and show as InFlight.
func (b *Batcher) Shutdown(ctx context.Context) error { return b.bsp.Shutdown(ctx) }

// Stats returns the counters.
func (b *Batcher) Stats() BatcherStats {
	return BatcherStats{
		Enqueued: b.enqueued.Load(), DroppedQueueFull: b.dropped.Load(),
		Exported: b.exported.Load(), Failed: b.failed.Load(),
		InFlight: b.inflight.Load(), Capacity: b.capacity,
		Exports: b.exports.Load(), ExportTime: time.Duration(b.exportNanos.Load()),
	}
}

type countingExporter struct {
	sdktrace.SpanExporter
	b *Batcher
}

func (c *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	start := time.Now()
	err := c.SpanExporter.ExportSpans(ctx, spans)
	n := uint64(len(spans))
	c.b.exportNanos.Add(int64(time.Since(start)))
	c.b.exports.Add(1)
	if err != nil {
		c.b.failed.Add(n)
	} else {
		c.b.exported.Add(n)
	}
	c.b.inflight.Add(-int64(n))
	return err
}
