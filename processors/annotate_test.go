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
