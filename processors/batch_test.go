package processors

import (
	"context"
	"errors"
	"sync"
	"testing"

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
	b := NewBatcher(exp, capacity, sdktrace.WithMaxExportBatchSize(16))
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
	b := NewBatcher(exp, 128)
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
