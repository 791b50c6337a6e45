package processors

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BatchConfig shapes a [Batcher]'s queue and batches. A zero field takes its
// default.
type BatchConfig struct {
	// QueueSize bounds the spans admitted at once, waiting or being
	// exported (default 8192). A span ended past it is dropped and counted.
	QueueSize int
	// MaxBatch is the most spans one export carries (default 512, the SDK's
	// OTEL_BSP_MAX_EXPORT_BATCH_SIZE default).
	MaxBatch int
	// MinBatch is how many waiting spans start an export at once (default
	// 128, at most MaxBatch). Fewer wait for Delay.
	MinBatch int
	// Delay is the longest a span waits for its batch to fill (default 5 s,
	// the SDK's OTEL_BSP_SCHEDULE_DELAY default).
	Delay time.Duration
	// ExportTimeout bounds one export (default 30 s, the SDK's
	// OTEL_BSP_EXPORT_TIMEOUT default).
	ExportTimeout time.Duration
}

// Batch defaults; see BatchConfig. The queue and batch sizes are exported
// for callers that check their own against them.
const (
	DefaultQueueSize     = 8192
	DefaultMaxBatch      = 512
	defaultMinBatch      = 128
	defaultBatchDelay    = 5 * time.Second
	defaultExportTimeout = 30 * time.Second
)

func (c BatchConfig) withDefaults() BatchConfig {
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MinBatch <= 0 {
		c.MinBatch = defaultMinBatch
	}
	if c.Delay <= 0 {
		c.Delay = defaultBatchDelay
	}
	if c.ExportTimeout <= 0 {
		c.ExportTimeout = defaultExportTimeout
	}
	c.MaxBatch = min(c.MaxBatch, c.QueueSize)
	c.MinBatch = min(c.MinBatch, c.MaxBatch)
	return c
}

// Batcher is a batch span processor that counts every span it does not
// export and sizes its batches to its exporter. It replaces the SDK's
// BatchSpanProcessor, which drops spans silently when its queue is full
// and exports only full batches (or after its delay).
//
// A batch leaves as soon as MinBatch spans wait and no export is running,
// or after Delay with fewer. While an export runs, spans gather, and the
// next batch takes all of them, up to MaxBatch. So a service whose exporter
// keeps up holds few ended spans (batches of MinBatch, exported while still
// in cache), and one whose exporter is slow gets large batches, and their
// lower cost per span on the wire. The exporting goroutine is woken once
// per batch, not once per span. The queue's memory follows the backlog: a
// burst's arrays are let go once it has drained.
//
// Its counters account for every sampled span it was handed: each is
// dropped (DroppedQueueFull) or admitted, and each admitted span is
// exported, failed, or still in flight — after Shutdown, lost (InFlight).
// Safe for concurrent use.
type Batcher struct {
	exp sdktrace.SpanExporter
	cfg BatchConfig

	mu      sync.Mutex
	pending []sdktrace.ReadOnlySpan // ended, waiting for the worker
	stopped bool                    // Shutdown was called: nothing more is queued

	wake   chan struct{}      // MinBatch spans wait (capacity 1)
	flush  chan chan struct{} // ForceFlush: export everything, then close
	stop   chan struct{}      // closed by Shutdown
	done   chan struct{}      // closed when the worker returns
	ctx    context.Context    // exports' parent, cancelled when a Shutdown deadline passes
	cancel context.CancelFunc
	once   sync.Once
	err    error // Shutdown's result

	inflight atomic.Int64 // admitted and not yet exported or failed
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

// NewBatcher returns a Batcher that exports through exp, and starts its
// exporting goroutine; Shutdown stops it.
func NewBatcher(exp sdktrace.SpanExporter, cfg BatchConfig) *Batcher {
	b := &Batcher{
		exp:   exp,
		cfg:   cfg.withDefaults(),
		wake:  make(chan struct{}, 1),
		flush: make(chan chan struct{}),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	go b.run()
	return b
}

// OnStart does nothing: batching starts when a span ends.
func (b *Batcher) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues s for export, or counts it as dropped when the queue is full.
// It never blocks. Unsampled spans are ignored, as the SDK's processor does;
// a span ended after Shutdown stays in flight (lost at shutdown).
func (b *Batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	if b.inflight.Add(1) > int64(b.cfg.QueueSize) {
		b.inflight.Add(-1)
		b.dropped.Add(1)
		return
	}
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	b.pending = append(b.pending, s)
	n := len(b.pending)
	b.mu.Unlock()
	if n == b.cfg.MinBatch {
		select {
		case b.wake <- struct{}{}:
		default: // already signalled
		}
	}
}

// ForceFlush exports every span queued before the call, within ctx.
func (b *Batcher) ForceFlush(ctx context.Context) error {
	flushed := make(chan struct{})
	select {
	case b.flush <- flushed:
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-flushed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown exports everything queued, then shuts the exporter down, within
// ctx. When ctx ends first, the export running is cancelled and the spans
// not exported stay in flight (InFlight: lost); the exporter is shut down
// once the worker has stopped. Later calls return the first one's result.
func (b *Batcher) Shutdown(ctx context.Context) error {
	b.once.Do(func() {
		b.mu.Lock()
		b.stopped = true
		b.mu.Unlock()
		close(b.stop)
		stopCancel := context.AfterFunc(ctx, b.cancel)
		select {
		case <-b.done:
			// The worker may have stopped because the deadline cancelled its
			// export: then the deadline's error, not the exporter's nil.
			cancelled := !stopCancel()
			b.cancel()
			b.err = b.exp.Shutdown(ctx)
			if cancelled {
				b.err = ctx.Err()
			}
		case <-ctx.Done():
			b.err = ctx.Err()
			go func() {
				<-b.done
				_ = b.exp.Shutdown(ctx) // ctx has ended: the exporter releases what it holds
			}()
		}
	})
	return b.err
}

// Stats returns the counters. Enqueued is derived (Exported + Failed +
// InFlight): exact once no export is running, as after Shutdown.
func (b *Batcher) Stats() BatcherStats {
	st := BatcherStats{
		DroppedQueueFull: b.dropped.Load(), Exported: b.exported.Load(), Failed: b.failed.Load(),
		InFlight: b.inflight.Load(), Capacity: int64(b.cfg.QueueSize),
		Exports: b.exports.Load(), ExportTime: time.Duration(b.exportNanos.Load()),
	}
	st.Enqueued = st.Exported + st.Failed + uint64(st.InFlight)
	return st
}

// run is the exporting goroutine.
func (b *Batcher) run() {
	defer close(b.done)
	tick := time.NewTicker(b.cfg.Delay)
	defer tick.Stop()
	var batch []sdktrace.ReadOnlySpan
	for {
		var flushed chan struct{}
		all := false
		select {
		case <-b.wake:
		case <-tick.C:
			all = true
		case flushed = <-b.flush:
			all = true
		case <-b.stop:
			b.exportPending(&batch, true)
			return
		}
		b.exportPending(&batch, all)
		if flushed != nil {
			close(flushed)
		}
	}
}

// exportPending exports what waits, in batches of at most MaxBatch: while
// at least MinBatch wait, or, with all, until nothing does. It stops when
// a Shutdown deadline has passed, leaving the rest in flight.
func (b *Batcher) exportPending(batch *[]sdktrace.ReadOnlySpan, all bool) {
	for b.ctx.Err() == nil {
		b.mu.Lock()
		n := len(b.pending)
		if n == 0 || (!all && n < b.cfg.MinBatch) {
			b.mu.Unlock()
			return
		}
		if n <= b.cfg.MaxBatch {
			// Swap: OnEnd appends to the last batch's (cleared) array.
			*batch, b.pending = b.pending, (*batch)[:0]
		} else {
			*batch = append((*batch)[:0], b.pending[:b.cfg.MaxBatch]...)
			rest := copy(b.pending, b.pending[b.cfg.MaxBatch:])
			clear(b.pending[rest:n])
			b.pending = b.pending[:rest]
		}
		b.mu.Unlock()
		b.export(*batch)
		clear(*batch) // nothing of the batch stays alive until the next
		if cap(*batch) > 4*b.cfg.MaxBatch {
			*batch = nil // a burst's array: let it go
		}
	}
}

func (b *Batcher) export(spans []sdktrace.ReadOnlySpan) {
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.ExportTimeout)
	start := time.Now()
	err := b.exp.ExportSpans(ctx, spans)
	cancel()
	n := uint64(len(spans))
	b.exportNanos.Add(int64(time.Since(start)))
	b.exports.Add(1)
	if err != nil {
		b.failed.Add(n)
		otel.Handle(err)
	} else {
		b.exported.Add(n)
	}
	b.inflight.Add(-int64(n))
}
