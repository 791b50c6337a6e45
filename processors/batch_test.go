package processors

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// gateExporter blocks every export until released, so the queue fills.
type gateExporter struct {
	release chan struct{}
	mu      sync.Mutex
	got     int
	fail    bool
}

func (g *gateExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	g.got += len(spans)
	g.mu.Unlock()
	if g.fail {
		return errors.New("backend said no")
	}
	return nil
}

func (g *gateExporter) Shutdown(context.Context) error { return nil }

// TestBatcherCountsEveryDrop floods a batcher whose exporter is stuck: the
// spans past the queue's capacity are counted, none blocks, and once the
// exporter moves, every admitted span is exported.
func TestBatcherCountsEveryDrop(t *testing.T) {
	exp := &gateExporter{release: make(chan struct{})}
	const capacity, total = 64, 1000
	b := NewBatcher(exp, BatchConfig{QueueSize: capacity, MaxBatch: 16})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b))
	tr := tp.Tracer("t")
	for i := 0; i < total; i++ {
		_, s := tr.Start(context.Background(), "hot")
		s.End()
	}
	st := b.Stats()
	if st.Enqueued+st.DroppedQueueFull != total {
		t.Fatalf("enqueued %d + dropped %d != %d spans ended", st.Enqueued, st.DroppedQueueFull, total)
	}
	if st.Enqueued > capacity || st.DroppedQueueFull < total-capacity {
		t.Fatalf("admitted %d with capacity %d (dropped %d)", st.Enqueued, capacity, st.DroppedQueueFull)
	}
	close(exp.release)
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = b.Stats()
	if st.Exported != st.Enqueued || st.InFlight != 0 || exp.got != int(st.Enqueued) {
		t.Fatalf("after shutdown: exported %d of %d enqueued, in flight %d, exporter saw %d", st.Exported, st.Enqueued, st.InFlight, exp.got)
	}
}

func TestBatcherCountsFailures(t *testing.T) {
	exp := &gateExporter{release: make(chan struct{}), fail: true}
	close(exp.release)
	b := NewBatcher(exp, BatchConfig{QueueSize: 128})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b))
	for i := 0; i < 10; i++ {
		_, s := tp.Tracer("t").Start(context.Background(), "x")
		s.End()
	}
	_ = tp.Shutdown(context.Background())
	if st := b.Stats(); st.Failed != 10 || st.Exported != 0 || st.InFlight != 0 {
		t.Fatalf("stats = %+v, want 10 failed", st)
	}
}

// stepExporter records each batch's size and, while hold is set, waits in
// ExportSpans until released (or its context ends).
type stepExporter struct {
	mu      sync.Mutex
	sizes   []int
	hold    bool
	started chan int
	release chan struct{}
}

func newStepExporter(hold bool) *stepExporter {
	return &stepExporter{hold: hold, started: make(chan int, 100), release: make(chan struct{}, 100)}
}

func (e *stepExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	e.sizes = append(e.sizes, len(spans))
	hold := e.hold
	e.mu.Unlock()
	e.started <- len(spans)
	if hold {
		select {
		case <-e.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (e *stepExporter) Shutdown(context.Context) error { return nil }

func (e *stepExporter) batches() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.sizes)
}

// waitExport waits for the next export to start and returns its size.
func (e *stepExporter) waitExport(t *testing.T) int {
	t.Helper()
	select {
	case n := <-e.started:
		return n
	case <-time.After(10 * time.Second):
		t.Fatalf("no export started; batches so far %v", e.batches())
		return 0
	}
}

func endSpans(tp *sdktrace.TracerProvider, n int) {
	for range n {
		_, s := tp.Tracer("t").Start(context.Background(), "x")
		s.End()
	}
}

// TestBatcherAdaptsBatches: with the exporter free, MinBatch spans leave at
// once (no waiting for Delay or a full batch); while an export runs, spans
// gather and leave in batches of MaxBatch; what is left over MinBatch
// follows at once, and fewer wait.
func TestBatcherAdaptsBatches(t *testing.T) {
	exp := newStepExporter(true)
	b := NewBatcher(exp, BatchConfig{QueueSize: 1000, MinBatch: 4, MaxBatch: 16, Delay: time.Hour})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b))
	endSpans(tp, 3)
	select {
	case n := <-exp.started:
		t.Fatalf("an export of %d spans started with fewer than MinBatch waiting", n)
	case <-time.After(50 * time.Millisecond):
	}
	endSpans(tp, 1)
	if n := exp.waitExport(t); n != 4 {
		t.Fatalf("first export: %d spans, want MinBatch (4)", n)
	}
	endSpans(tp, 40) // the first export is still running
	exp.release <- struct{}{}
	for _, want := range []int{16, 16, 8} {
		if n := exp.waitExport(t); n != want {
			t.Fatalf("batches %v, want [4 16 16 8]", exp.batches())
		}
		exp.release <- struct{}{}
	}
	endSpans(tp, 2) // fewer than MinBatch: they wait for Delay, or a flush
	select {
	case n := <-exp.started:
		t.Fatalf("an export of %d spans started with 2 waiting", n)
	case <-time.After(50 * time.Millisecond):
	}
	exp.release <- struct{}{}
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := exp.batches(); !slices.Equal(got, []int{4, 16, 16, 8, 2}) {
		t.Fatalf("batches %v, want [4 16 16 8 2]", got)
	}
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Enqueued != 46 || st.Exported != 46 || st.InFlight != 0 || st.Exports != 5 {
		t.Fatalf("stats = %+v, want 46 enqueued and exported in 5 exports", st)
	}
}

// TestBatcherDelay: fewer than MinBatch spans leave after Delay.
func TestBatcherDelay(t *testing.T) {
	exp := newStepExporter(false)
	b := NewBatcher(exp, BatchConfig{MinBatch: 100, Delay: 20 * time.Millisecond})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	endSpans(tp, 3)
	if n := exp.waitExport(t); n != 3 {
		t.Fatalf("export of %d spans, want 3", n)
	}
}

// TestBatcherShutdownDeadline: an exporter that never returns cannot hold
// Shutdown past its deadline; the export running is cancelled (failed),
// the spans behind it stay in flight (lost), and the counters balance.
func TestBatcherShutdownDeadline(t *testing.T) {
	exp := newStepExporter(true)
	b := NewBatcher(exp, BatchConfig{MinBatch: 4, MaxBatch: 4, Delay: time.Hour})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b))
	endSpans(tp, 4)
	exp.waitExport(t) // stuck
	endSpans(tp, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := b.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the deadline's error", err)
	}
	if err := b.Shutdown(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Shutdown = %v, want the first call's result", err)
	}
	<-b.done        // the worker stops once its export is cancelled
	endSpans(tp, 1) // after Shutdown: in flight, never exported
	st := b.Stats()
	if st.Failed != 4 || st.Exported != 0 || st.InFlight != 11 || st.Enqueued != 15 {
		t.Fatalf("stats = %+v, want 4 failed (the cancelled export), 11 in flight of 15", st)
	}
}

// BenchmarkBatcherOnEnd compares the cost of ending a span into the SDK's
// batch processor and into Batcher, from every core at once, with an
// exporter that discards.
func BenchmarkBatcherOnEnd(b *testing.B) {
	for _, v := range []struct {
		name string
		sp   func(sdktrace.SpanExporter) sdktrace.SpanProcessor
	}{
		{"sdk", func(e sdktrace.SpanExporter) sdktrace.SpanProcessor {
			return sdktrace.NewBatchSpanProcessor(e, sdktrace.WithMaxQueueSize(DefaultQueueSize), sdktrace.WithBlocking())
		}},
		{"batcher", func(e sdktrace.SpanExporter) sdktrace.SpanProcessor { return NewBatcher(e, BatchConfig{}) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			exp := &gateExporter{release: make(chan struct{})}
			close(exp.release)
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(v.sp(exp)))
			tr := tp.Tracer("bench")
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, s := tr.Start(context.Background(), "x")
					s.End()
				}
			})
			b.StopTimer()
			_ = tp.Shutdown(context.Background())
		})
	}
}

// TestBatcherConcurrent ends spans from several goroutines while another
// flushes: every span is exported exactly once, no batch exceeds MaxBatch,
// and the counters balance.
func TestBatcherConcurrent(t *testing.T) {
	exp := newStepExporter(false)
	exp.started = make(chan int, 1<<16)
	b := NewBatcher(exp, BatchConfig{QueueSize: 1 << 16, MinBatch: 7, MaxBatch: 50, Delay: time.Millisecond})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b))
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { endSpans(tp, each) })
	}
	stop := make(chan struct{})
	flusher := make(chan struct{})
	go func() {
		defer close(flusher)
		for {
			select {
			case <-stop:
				return
			default:
				if err := b.ForceFlush(context.Background()); err != nil {
					t.Error(err)
				}
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-flusher
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range exp.batches() {
		if n > 50 || n == 0 {
			t.Fatalf("a batch of %d spans (MaxBatch 50)", n)
		}
		total += n
	}
	st := b.Stats()
	if total != workers*each || st.Exported != workers*each || st.Enqueued != workers*each || st.InFlight != 0 || st.DroppedQueueFull != 0 {
		t.Fatalf("exporter saw %d spans; stats %+v; want %d exported", total, st, workers*each)
	}
}

// TestBatcherReleasesBurstMemory: after a burst far larger than a batch has
// drained, the Batcher no longer holds the burst's arrays.
func TestBatcherReleasesBurstMemory(t *testing.T) {
	exp := newStepExporter(true)
	exp.started = make(chan int, 1024)
	b := NewBatcher(exp, BatchConfig{QueueSize: 4096, MinBatch: 4, MaxBatch: 16, Delay: time.Hour})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b))
	endSpans(tp, 4)
	exp.waitExport(t) // held: the burst gathers behind it
	endSpans(tp, 3000)
	b.mu.Lock()
	burst := cap(b.pending)
	b.mu.Unlock()
	if burst < 3000 {
		t.Fatalf("pending holds %d slots during a burst of 3000", burst)
	}
	exp.mu.Lock()
	exp.hold = false
	exp.mu.Unlock()
	exp.release <- struct{}{}
	endSpans(tp, 40) // small batches after the burst
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	endSpans(tp, 40)
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	after := cap(b.pending)
	b.mu.Unlock()
	if after > 4*16 {
		t.Errorf("pending still holds %d slots after the burst (MaxBatch 16)", after)
	}
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Exported != 3084 || st.InFlight != 0 {
		t.Fatalf("stats = %+v, want 3084 exported", st)
	}
}
