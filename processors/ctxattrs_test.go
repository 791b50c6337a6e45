package processors

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/processors/redact"
)

// deferredProvider is a provider whose chain is EnrichDeferred then links,
// ending in a span recorder.
func deferredProvider(t testing.TB, limits sdktrace.SpanLimits, links ...Link) (*sdktrace.TracerProvider, *spanRecorder) {
	t.Helper()
	rec := &spanRecorder{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanLimits(limits),
		sdktrace.WithSpanProcessor(NewChain(rec, append([]Link{EnrichDeferred(nil, limits)}, links...)...)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

// The context's attributes reach the ended span, its own win over them, and
// the live span never holds them.
func TestEnrichDeferredAttributes(t *testing.T) {
	tp, rec := deferredProvider(t, sdktrace.NewSpanLimits())
	ctx := ContextWithAttributes(context.Background(),
		attribute.String("request_id", "r-1"), attribute.String("user.tier", "pro"), attribute.String("agent.name", "ctx"))
	_, span := tp.Tracer("t").Start(ctx, "work", trace.WithAttributes(attribute.String("agent.name", "start")))
	if rw := span.(sdktrace.ReadWriteSpan); len(rw.Attributes()) != 1 {
		t.Errorf("the live span holds %v: the context's attributes were set on it", rw.Attributes())
	}
	span.SetAttributes(attribute.String("user.tier", "later"))
	span.End()

	s := rec.spans[0]
	want := map[attribute.Key]string{"request_id": "r-1", "user.tier": "later", "agent.name": "start"}
	if got := attrMap(t, s); !maps.Equal(got, want) {
		t.Errorf("attributes %v, want %v", got, want)
	}
	if v, ok := spanAttr(s, "request_id"); !ok || v.AsString() != "r-1" {
		t.Errorf("spanAttr(request_id) = %v, %v", v, ok)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = spanAttr(s, "request_id") }); allocs != 0 {
		t.Errorf("spanAttr allocates %v", allocs)
	}
	// A span started without context attributes is handed on as the SDK
	// ended it, and the table is empty once every span has ended.
	_, plain := tp.Tracer("t").Start(context.Background(), "plain")
	plain.End()
	if _, wrapped := rec.spans[1].(*contextSpan); wrapped {
		t.Error("a span without context attributes was wrapped")
	}
}

// Past the attribute count limit the context's attributes are dropped first
// and counted; a value longer than the length limit is set live, where the
// SDK truncates it; an invalid one is set live, where the SDK drops it.
func TestEnrichDeferredLimits(t *testing.T) {
	limits := sdktrace.NewSpanLimits()
	limits.AttributeCountLimit = 3
	limits.AttributeValueLengthLimit = 8
	tp, rec := deferredProvider(t, limits)
	tr := tp.Tracer("t")

	ctx := ContextWithAttributes(context.Background(),
		attribute.String("c1", "a"), attribute.String("c2", "b"), attribute.String("own", "ctx"))
	_, span := tr.Start(ctx, "count", trace.WithAttributes(attribute.String("own", "x"), attribute.String("own2", "y")))
	span.End()
	s := rec.spans[0]
	got := attrMap(t, s)
	if want := (map[attribute.Key]string{"own": "x", "own2": "y", "c1": "a"}); !maps.Equal(got, want) {
		t.Errorf("count limit: %v, want %v", got, want)
	}
	if d := s.DroppedAttributes(); d != 1 {
		t.Errorf("count limit: DroppedAttributes %d, want 1 (c2)", d)
	}

	long := ContextWithAttributes(context.Background(), attribute.String("note", "0123456789abcdef"))
	_, span = tr.Start(long, "long")
	if rw := span.(sdktrace.ReadWriteSpan); len(rw.Attributes()) != 1 {
		t.Errorf("a value over the length limit was deferred: live attributes %v", rw.Attributes())
	}
	span.End()
	if got := attrMap(t, rec.spans[1]); got["note"] != "01234567" {
		t.Errorf("length limit: %v", got)
	}

	slice := ContextWithAttributes(context.Background(), attribute.StringSlice("tags", []string{"a", "b"}))
	_, span = tr.Start(slice, "slice")
	if rw := span.(sdktrace.ReadWriteSpan); len(rw.Attributes()) != 1 {
		t.Errorf("a string slice was deferred: live attributes %v", rw.Attributes())
	}
	span.End()
	if got := attrMap(t, rec.spans[2]); got["tags"] != `["a","b"]` {
		t.Errorf("string slice: %v", got)
	}

	invalid := ContextWithAttributes(context.Background(), attribute.String("", "no key"), attribute.String("k", "v"))
	_, span = tr.Start(invalid, "invalid")
	span.End()
	s = rec.spans[3]
	if got := attrMap(t, s); !maps.Equal(got, map[attribute.Key]string{"k": "v"}) || s.DroppedAttributes() != 1 {
		t.Errorf("invalid: %v, dropped %d", got, s.DroppedAttributes())
	}
}

// The table is bounded: spans that never end fill it, after which spans get
// their context attributes live — nothing is lost either way — and spans
// that end leave nothing behind.
func TestEnrichDeferredTableBound(t *testing.T) {
	rec := &spanRecorder{}
	chain := NewChain(rec, EnrichDeferred(nil, sdktrace.NewSpanLimits()))
	e := chain.(*enricher) // white-box: the table's size is the point
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(chain))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("t")
	ctx := ContextWithAttributes(context.Background(), attribute.String("request_id", "r-9"))

	var open []trace.Span
	for range ctxShards*ctxShardMax + 500 {
		_, s := tr.Start(ctx, "never ends")
		open = append(open, s)
	}
	if n := e.table.n.Load(); n > ctxShards*ctxShardMax {
		t.Fatalf("table holds %d entries, bound %d", n, ctxShards*ctxShardMax)
	}
	live := 0
	for _, s := range open {
		if len(s.(sdktrace.ReadWriteSpan).Attributes()) == 1 {
			live++
		}
	}
	if live == 0 {
		t.Fatal("no span got its context attributes live past the bound")
	}
	for _, s := range open {
		s.End()
	}
	if n := e.table.n.Load(); n != 0 {
		t.Errorf("%d entries left after every span ended", n)
	}
	for i, s := range rec.spans {
		if got := attrMap(t, s); got["request_id"] != "r-9" || len(got) != 1 {
			t.Fatalf("span %d: %v", i, got)
		}
	}
}

// Redaction reads the context part apart and redacts it; the view it hands
// on holds the merged attributes, own keys winning.
func TestRedactSpanContextAttributes(t *testing.T) {
	e := redact.Default()
	tp, rec := deferredProvider(t, sdktrace.NewSpanLimits())
	ctx := ContextWithAttributes(context.Background(),
		attribute.String("user.email", "jane.doe@example.com"), attribute.String("request_id", "r-2"), attribute.String("agent.name", "ctx"))
	_, span := tp.Tracer("t").Start(ctx, "work", trace.WithAttributes(attribute.String("agent.name", "own")))
	span.End()
	v := RedactSpan(e, rec.spans[0])
	if v == nil {
		t.Fatal("the context's email was not redacted")
	}
	got := attrMap(t, v)
	if strings.Contains(got["user.email"], "jane") || got["request_id"] != "r-2" || got["agent.name"] != "own" {
		t.Errorf("redacted attributes %v", got)
	}
	// A clean context passes with no allocation once its values are known.
	clean := ContextWithAttributes(context.Background(), attribute.String("request_id", "r-3"))
	_, span = tp.Tracer("t").Start(clean, "clean")
	span.End()
	s := rec.spans[1]
	if v := RedactSpan(e, s); v != nil {
		t.Errorf("clean span redacted: %v", v.Attributes())
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = RedactSpan(e, s) }); allocs != 0 {
		t.Errorf("clean span with context attributes: %v allocations", allocs)
	}
}

// The annotator writes the context part into its batch: exporters see the
// same attributes as Attributes gives, an added attribute replacing a
// context one of its key, and a warm batch allocates nothing.
func TestAnnotateExportsContextAttributes(t *testing.T) {
	tp, rec := deferredProvider(t, sdktrace.NewSpanLimits())
	ctx := ContextWithAttributes(context.Background(),
		attribute.String("request_id", "r-4"), attribute.String("sentry.environment", "ctx-env"), attribute.String("k", "ctx"))
	for range 4 {
		_, span := tp.Tracer("t").Start(ctx, "work", trace.WithAttributes(attribute.String("k", "own")))
		span.End()
	}
	static := []attribute.KeyValue{attribute.String("sentry.environment", "prod")}
	copying := &copyingExporter{t: t}
	if err := AnnotateExports(copying, Annotations{Static: static, Reuse: true}).ExportSpans(context.Background(), rec.spans); err != nil {
		t.Fatal(err)
	}
	want := map[attribute.Key]string{"request_id": "r-4", "sentry.environment": "prod", "k": "own"}
	for i, got := range copying.batches[0] {
		if !maps.Equal(got, want) {
			t.Errorf("span %d exported %v, want %v", i, got, want)
		}
	}
	last := &batchExporter{}
	exp := AnnotateExports(last, Annotations{Static: static, Reuse: true})
	_ = exp.ExportSpans(context.Background(), rec.spans)
	if allocs := testing.AllocsPerRun(50, func() { _ = exp.ExportSpans(context.Background(), rec.spans) }); allocs != 0 {
		t.Errorf("warm batch with context attributes: %v allocations", allocs)
	}
}

// A Crons run whose monitor slug comes from the context (not set on the
// span) opens and closes its check-ins with the deferring enrich stage.
func TestCronsRunSlugFromDeferredContext(t *testing.T) {
	rec := &checkInRecorder{}
	cfg := DefaultCronsConfig()
	cfg.MinSpacing = 0
	stage, err := NewCrons(rec, redact.Default(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := deferredProvider(t, sdktrace.NewSpanLimits(), stage.Link())
	ctx := ContextWithAttributes(context.Background(), attribute.String("monitor.slug", "ctx-job"), attribute.Int64("monitor.interval", 60))
	_, span := tp.Tracer("t").Start(ctx, "monitor.check")
	span.End()
	_, other := tp.Tracer("t").Start(ctx, "nightly")
	other.End()
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rec.all()
	if len(got) != 3 || got[0].MonitorSlug != "ctx-job" || got[1].ID != got[0].ID || got[2].MonitorSlug != "ctx-job" {
		t.Fatalf("check-ins %+v", got)
	}
}

// Spans started and ended concurrently each get their own context's
// attributes: the table never hands one request's context to another's span.
func TestEnrichDeferredConcurrent(t *testing.T) {
	tp, rec := deferredProvider(t, sdktrace.NewSpanLimits())
	tr := tp.Tracer("t")
	const workers, perWorker = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := "r-" + strconv.Itoa(w) + "-" + strconv.Itoa(i) // unique
				ctx := ContextWithAttributes(context.Background(), attribute.String("request_id", id))
				ctx, parent := tr.Start(ctx, "parent", trace.WithAttributes(attribute.String("want", id)))
				_, child := tr.Start(ctx, "child", trace.WithAttributes(attribute.String("want", id)))
				child.End()
				parent.End()
			}
		})
	}
	wg.Wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.spans) != 2*workers*perWorker {
		t.Fatalf("%d spans ended, want %d", len(rec.spans), 2*workers*perWorker)
	}
	for _, s := range rec.spans {
		got := attrMap(t, s)
		if got["request_id"] != got["want"] || got["want"] == "" {
			t.Fatalf("span %s: request_id %q, its own context's %q", s.Name(), got["request_id"], got["want"])
		}
	}
}
