package processors

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// batchExporter keeps the last batch it was given.
type batchExporter struct{ last []sdktrace.ReadOnlySpan }

func (e *batchExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.last = spans
	return nil
}
func (e *batchExporter) Shutdown(context.Context) error { return nil }

func stub(name string, sampled bool, dropped int, kvs ...attribute.KeyValue) sdktrace.ReadOnlySpan {
	cfg := trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}}
	if sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	return tracetest.SpanStub{Name: name, SpanContext: trace.NewSpanContext(cfg), Attributes: kvs,
		DroppedAttributes: dropped}.Snapshot()
}

func attrMap(t *testing.T, s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	t.Helper()
	m := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		if _, dup := m[kv.Key]; dup {
			t.Fatalf("span %q has %s twice: %v", s.Name(), kv.Key, s.Attributes())
		}
		m[kv.Key] = kv.Value.Emit()
	}
	return m
}

func TestAnnotateExports(t *testing.T) {
	headAttrs := []attribute.KeyValue{attribute.String("sampling.reason", "head"), attribute.Float64("sentry.sample_rate", 0.25)}
	var heads int
	a := Annotations{
		Static: []attribute.KeyValue{attribute.String("sentry.environment", "prod")},
		Head: func(sc trace.SpanContext) []attribute.KeyValue {
			heads++
			if !sc.IsSampled() {
				t.Errorf("Head called with an unsampled SpanContext")
			}
			return headAttrs
		},
		Limit: 4,
	}
	exp := &batchExporter{}
	annotated := AnnotateExports(exp, a)

	headSpan := stub("head", true, 0, attribute.String("k", "v"), attribute.String("sentry.environment", "app-set"))
	// A tail-kept span: a view that marks an unsampled span sampled.
	unsampled := stub("kept", false, 0, attribute.String("sampling.reason", "error"))
	sc := unsampled.SpanContext()
	kept := NewView(unsampled).WithSpanContext(sc.WithTraceFlags(sc.TraceFlags().WithSampled(true)))
	// Four attributes of its own: two must go to make room for the three added.
	full := stub("full", true, 1, attribute.Int("a", 1), attribute.Int("b", 2), attribute.Int("c", 3), attribute.Int("d", 4))
	redacted := NewView(stub("redacted", true, 0)).WithName("renamed")
	// At the limit, with its last attribute one that an added one replaces:
	// making room must not drop the added one.
	edge := stub("edge", true, 0, attribute.Int("a", 1), attribute.Int("b", 2), attribute.Int("c", 3),
		attribute.String("sentry.environment", "app-set"))

	in := []sdktrace.ReadOnlySpan{headSpan, kept, full, redacted, edge}
	if err := annotated.ExportSpans(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	out := exp.last
	if len(out) != len(in) {
		t.Fatalf("exported %d spans, want %d", len(out), len(in))
	}
	if heads != 4*2 { // counted, then built: head, full, redacted, edge
		t.Errorf("Head called %d times, want 8", heads)
	}

	want := []map[attribute.Key]string{
		{"k": "v", "sentry.environment": "prod", "sampling.reason": "head", "sentry.sample_rate": "0.25"},
		{"sampling.reason": "error", "sentry.environment": "prod"},
		{"a": "1", "sentry.environment": "prod", "sampling.reason": "head", "sentry.sample_rate": "0.25"},
		{"sentry.environment": "prod", "sampling.reason": "head", "sentry.sample_rate": "0.25"},
		{"a": "1", "sentry.environment": "prod", "sampling.reason": "head", "sentry.sample_rate": "0.25"},
	}
	for i, s := range out {
		if got := attrMap(t, s); fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("span %q exported with %v, want %v", s.Name(), got, want[i])
		}
	}
	if d := out[2].DroppedAttributes(); d != 1+3 {
		t.Errorf("span over the limit reports %d dropped attributes, want 4 (1 before, 3 to make room)", d)
	}
	if d := out[4].DroppedAttributes(); d != 2 {
		t.Errorf("span with a replaced attribute at the limit reports %d dropped, want 2 (b and c)", d)
	}
	if out[3].Name() != "renamed" {
		t.Errorf("an override of the view before it (name %q) was lost", out[3].Name())
	}
	if !out[1].SpanContext().IsSampled() {
		t.Error("the kept span's sampled flag was lost")
	}
	// The spans handed in are unchanged.
	if got := attrMap(t, headSpan); len(got) != 2 || got["sentry.environment"] != "app-set" {
		t.Errorf("the original span was modified: %v", got)
	}
	if len(full.Attributes()) != 4 || full.DroppedAttributes() != 1 {
		t.Errorf("the original span was modified: %v", full.Attributes())
	}
	if len(kept.Attributes()) != 1 {
		t.Errorf("the view handed in was modified: %v", kept.Attributes())
	}
}

func TestAnnotateExportsPassesThrough(t *testing.T) {
	exp := &batchExporter{}
	if got := AnnotateExports(exp, Annotations{}); got != sdktrace.SpanExporter(exp) {
		t.Fatal("nothing to add, yet the exporter was wrapped")
	}
	// Head adds nothing to tail-kept spans: the batch is passed as it is.
	annotated := AnnotateExports(exp, Annotations{Head: func(trace.SpanContext) []attribute.KeyValue { return nil }})
	in := []sdktrace.ReadOnlySpan{stub("a", true, 0), stub("b", true, 0)}
	if err := annotated.ExportSpans(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if &exp.last[0] != &in[0] {
		t.Error("a batch with nothing to add was copied")
	}
}

// TestAnnotateExportsAllocatesPerBatch: three allocations per batch, however
// many spans it has.
func TestAnnotateExportsAllocatesPerBatch(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	head := []attribute.KeyValue{attribute.String("sampling.reason", "head"), attribute.Float64("sentry.sample_rate", 1)}
	for _, n := range []int{1, 512} {
		batch := make([]sdktrace.ReadOnlySpan, n)
		for i := range batch {
			batch[i] = stub("s", true, 0, attribute.String("http.route", "/x"), attribute.Int("n", i))
		}
		exp := &batchExporter{}
		annotated := AnnotateExports(exp, Annotations{Head: func(trace.SpanContext) []attribute.KeyValue { return head }})
		allocs := testing.AllocsPerRun(20, func() {
			_ = annotated.ExportSpans(context.Background(), batch)
		})
		if allocs > 3 {
			t.Errorf("a batch of %d spans: %v allocations, want at most 3", n, allocs)
		}
	}
}

// copyingExporter copies what it needs of each batch before returning, as
// a serialising exporter does, and keeps nothing.
type copyingExporter struct {
	batches [][]map[attribute.Key]string
	t       *testing.T
}

func (e *copyingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	var b []map[attribute.Key]string
	for _, s := range spans {
		b = append(b, attrMap(e.t, s))
	}
	e.batches = append(e.batches, b)
	return nil
}
func (e *copyingExporter) Shutdown(context.Context) error { return nil }

// TestAnnotateExportsReuse: with Reuse, batches of every size — growing,
// shrinking, with spans that get nothing — are annotated right in the
// memory of the previous one; a warm batch allocates nothing, and nothing of
// a batch is kept alive once it has been exported.
func TestAnnotateExportsReuse(t *testing.T) {
	head := []attribute.KeyValue{attribute.String("sampling.reason", "head"), attribute.Float64("sentry.sample_rate", 0.5)}
	exp := &copyingExporter{t: t}
	a := AnnotateExports(exp, Annotations{Static: []attribute.KeyValue{attribute.String("sentry.release", "r1")},
		Head: func(trace.SpanContext) []attribute.KeyValue { return head }, Limit: 5, Reuse: true})
	var want [][]map[attribute.Key]string
	for b, n := range []int{3, 40, 1, 17, 40} {
		batch := make([]sdktrace.ReadOnlySpan, n)
		var wb []map[attribute.Key]string
		for i := range batch {
			// Every third span is tail-kept (unsampled: no head attributes);
			// every fifth has more attributes than the limit leaves room for.
			own := []attribute.KeyValue{attribute.Int("batch", b), attribute.Int("i", i)}
			if i%5 == 0 {
				own = append(own, attribute.String("extra", "x"))
			}
			batch[i] = stub(fmt.Sprint(i), i%3 != 0, 0, own...)
			w := map[attribute.Key]string{"batch": fmt.Sprint(b), "i": fmt.Sprint(i), "sentry.release": "r1"}
			if i%3 != 0 {
				w["sampling.reason"], w["sentry.sample_rate"] = "head", "0.5"
				// A fifth span's "extra" is dropped by the limit of 5: own
				// attributes go first.
			} else if i%5 == 0 {
				w["extra"] = "x"
			}
			wb = append(wb, w)
		}
		want = append(want, wb)
		if err := a.ExportSpans(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	for b := range want {
		for i := range want[b] {
			if got := exp.batches[b][i]; fmt.Sprint(got) != fmt.Sprint(want[b][i]) {
				t.Errorf("batch %d span %d: %v, want %v", b, i, got, want[b][i])
			}
		}
	}
	ann := a.(*annotator)
	for i, kv := range ann.kvs[:cap(ann.kvs)] {
		if kv.Key != "" {
			t.Fatalf("attribute %d of the last batch kept after its export: %v", i, kv)
		}
	}
	for i := range ann.wrapped[:cap(ann.wrapped)] {
		if ann.wrapped[i].ReadOnlySpan != nil {
			t.Fatalf("span %d of the last batch kept after its export", i)
		}
	}
	batch := make([]sdktrace.ReadOnlySpan, 40)
	for i := range batch {
		batch[i] = stub("s", true, 0, attribute.Int("i", i))
	}
	discard := AnnotateExports(&batchExporter{}, Annotations{Head: func(trace.SpanContext) []attribute.KeyValue { return head }, Reuse: true})
	if allocs := testing.AllocsPerRun(20, func() { _ = discard.ExportSpans(context.Background(), batch) }); allocs != 0 {
		t.Errorf("a warm batch with Reuse: %v allocations, want 0", allocs)
	}
}

// TestAnnotateExportsWithoutReuseKeepsBatches: an exporter that keeps spans
// (Reuse false) still has each batch's attributes after the next batch.
func TestAnnotateExportsWithoutReuseKeepsBatches(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	a := AnnotateExports(exp, Annotations{Static: []attribute.KeyValue{attribute.String("sentry.release", "r1")}})
	for b := range 3 {
		if err := a.ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{stub(fmt.Sprint(b), true, 0, attribute.Int("batch", b))}); err != nil {
			t.Fatal(err)
		}
	}
	for b, s := range exp.GetSpans() {
		if m := attrMap(t, s.Snapshot()); m["batch"] != fmt.Sprint(b) || m["sentry.release"] != "r1" {
			t.Errorf("kept span of batch %d: %v", b, m)
		}
	}
}

func BenchmarkAnnotateExports(b *testing.B) {
	head := []attribute.KeyValue{attribute.String("sampling.reason", "head"), attribute.Float64("sentry.sample_rate", 0.1)}
	batch := make([]sdktrace.ReadOnlySpan, 512)
	for i := range batch {
		kvs := make([]attribute.KeyValue, 8)
		for j := range kvs {
			kvs[j] = attribute.Int(fmt.Sprintf("k%d", j), j)
		}
		batch[i] = stub("s", true, 0, kvs...)
	}
	annotated := AnnotateExports(&batchExporter{}, Annotations{Head: func(trace.SpanContext) []attribute.KeyValue { return head }, Limit: 128})
	b.ReportAllocs()
	for b.Loop() {
		_ = annotated.ExportSpans(context.Background(), batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/span")
}
