package processors

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/processors/redact"
)

// recorderLast ends a chain in a SpanRecorder, which keeps the exact
// ReadOnlySpan values the chain hands on (views included).
func redactPipeline(t testing.TB) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	e, err := redact.New(redact.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewChain(rec, Redact(e))))
	return tp, rec
}

func TestRedactCleanSpanPassesUntouched(t *testing.T) {
	e, err := redact.New(redact.Config{})
	if err != nil {
		t.Fatal(err)
	}
	in, out := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
	tee := func(next sdktrace.SpanProcessor) sdktrace.SpanProcessor { return Fanout(in, next) }
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewChain(out, tee, Redact(e))))
	_, s := tp.Tracer("t").Start(context.Background(), "GET /api/monitors/{id}",
		trace.WithAttributes(cleanAttrs()...))
	s.End()
	got := out.Ended()[0]
	if _, isView := got.(*View); isView {
		t.Fatal("a clean span was wrapped in a view")
	}
	if got != in.Ended()[0] {
		t.Fatal("a clean span was not passed on as the same span")
	}
}

func TestRedactEverySpanField(t *testing.T) {
	tp, rec := redactPipeline(t)
	const (
		email = "alice.smith@example.com"
		card  = "4111 1111 1111 1111"
		key   = "sk_live_51HqLyjWDarjtT1zdp7dcXYZ0123456789abcdef"
	)
	ctx, parent := tp.Tracer("t").Start(context.Background(), "parent")
	_, s := tp.Tracer("t").Start(ctx, "GET /users/"+email,
		trace.WithLinks(trace.Link{SpanContext: parent.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("note", "from "+email)}}),
		trace.WithAttributes(
			attribute.String("http.route", "/users/{email}"),
			attribute.String("db.password", "hunter2"),
			attribute.StringSlice("recipients", []string{"ok", email}),
			attribute.Int64("payment.card", 4111111111111111),
			attribute.Int("items", 3),
		))
	s.RecordError(errors.New("charge failed for card " + card))
	s.AddEvent("stripe.call", trace.WithAttributes(attribute.String("authorization", "Bearer "+key)))
	s.SetStatus(codes.Error, "user "+email+" declined")
	s.End()
	parent.End()

	got := rec.Ended()[0]
	v, ok := got.(*View)
	if !ok {
		t.Fatalf("dirty span passed as %T, want *View", got)
	}
	dump := dumpSpan(got)
	for _, secret := range []string{email, card, "4111111111111111", key, "hunter2"} {
		if strings.Contains(dump, secret) {
			t.Errorf("secret %q survived:\n%s", secret, dump)
		}
	}
	for _, want := range []string{"http.route=/users/{email}", "items=3", "redaction.count=", "[EMAIL_REDACTED]", "[CREDIT_CARD_REDACTED]"} {
		if !strings.Contains(dump, want) {
			t.Errorf("redacted span lacks %q:\n%s", want, dump)
		}
	}
	// The original is never mutated: other processors may still read it.
	if orig := v.Original(); !strings.Contains(orig.Name(), email) {
		t.Errorf("original span's name was changed to %q", orig.Name())
	}
	if orig := dumpSpan(v.Original()); !strings.Contains(orig, "charge failed for card "+card) || !strings.Contains(orig, "from "+email) {
		t.Errorf("the original span's events or links were rewritten:\n%s", orig)
	}
	if !got.SpanContext().Equal(s.SpanContext()) {
		t.Error("view changed the span context")
	}
}

// TestRedactRepairsInvalidUTF8: one invalid byte sequence would make the OTLP
// exporter reject the whole batch, so every string leaves valid.
func TestRedactRepairsInvalidUTF8(t *testing.T) {
	tp, rec := redactPipeline(t)
	bad := "caf\xe9 \xff\xfe"
	_, s := tp.Tracer("t").Start(context.Background(), "op "+bad,
		trace.WithAttributes(attribute.String("note", bad), attribute.StringSlice("tags", []string{"ok", bad})))
	s.AddEvent("ev", trace.WithAttributes(attribute.String("detail", bad)))
	s.SetStatus(codes.Error, bad)
	s.End()
	dump := dumpSpan(rec.Ended()[0])
	if !utf8.ValidString(dump) {
		t.Fatalf("invalid UTF-8 left the stage: %q", dump)
	}
	if !strings.Contains(dump, "caf\uFFFD") {
		t.Errorf("invalid bytes not replaced by U+FFFD: %q", dump)
	}
}

func dumpSpan(s sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	b.WriteString(s.Name() + "\n" + s.Status().Description + "\n")
	kv := func(kvs []attribute.KeyValue) {
		for _, a := range kvs {
			b.WriteString(string(a.Key) + "=" + a.Value.Emit() + "\n")
		}
	}
	kv(s.Attributes())
	for _, e := range s.Events() {
		b.WriteString(e.Name + "\n")
		kv(e.Attributes)
	}
	for _, l := range s.Links() {
		kv(l.Attributes)
	}
	return b.String()
}

// cleanAttrs is a realistic server span's 8 attributes with nothing to redact.
func cleanAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("http.request.method", "GET"),
		attribute.String("http.route", "/api/monitors/{id}"),
		attribute.String("url.path", "/api/monitors/7f3c2a9e-1b4d-4c8e-9a2f-5d6e7f8a9b0c"),
		attribute.String("server.address", "api.internal"),
		attribute.String("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"),
		attribute.String("request_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
		attribute.String("company", "Tesla"),
		attribute.Int("http.response.status_code", 200),
	}
}

// benchSpans ends b.N spans with attrs through tp.
func benchSpans(b *testing.B, tp trace.TracerProvider, name string, attrs []attribute.KeyValue) {
	tr := tp.Tracer("bench")
	opt := trace.WithAttributes(attrs...)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, s := tr.Start(ctx, name, opt)
		s.End()
	}
}

// BenchmarkRedactStage compares, in one run, a bare SDK span (nothing but a
// discarding processor), the same span through the redact stage when clean,
// and a span carrying 2 PII values. The stage's own cost is the difference.
func BenchmarkRedactStage(b *testing.B) {
	e, err := redact.New(redact.Config{})
	if err != nil {
		b.Fatal(err)
	}
	pii := append(cleanAttrs()[:6:6],
		attribute.String("customer", "alice.smith@example.com"),
		attribute.String("note", "paid with 4111 1111 1111 1111"))
	bare := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discard{}))
	withRedact := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewChain(discard{}, Redact(e))))
	b.Run("span=bare", func(b *testing.B) { benchSpans(b, bare, "GET /api/monitors/{id}", cleanAttrs()) })
	b.Run("span=clean/redact", func(b *testing.B) { benchSpans(b, withRedact, "GET /api/monitors/{id}", cleanAttrs()) })
	b.Run("span=pii/bare", func(b *testing.B) { benchSpans(b, bare, "GET /api/monitors/{id}", pii) })
	b.Run("span=pii/redact", func(b *testing.B) { benchSpans(b, withRedact, "GET /api/monitors/{id}", pii) })
}

// BenchmarkRedactSpan isolates the stage's work on one already-ended span.
func BenchmarkRedactSpan(b *testing.B) {
	e, err := redact.New(redact.Config{})
	if err != nil {
		b.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	_, clean := tp.Tracer("t").Start(context.Background(), "GET /api/monitors/{id}", trace.WithAttributes(cleanAttrs()...))
	clean.End()
	pii := append(cleanAttrs()[:6:6], attribute.String("customer", "alice.smith@example.com"), attribute.String("note", "paid with 4111 1111 1111 1111"))
	_, dirty := tp.Tracer("t").Start(context.Background(), "GET /api/monitors/{id}", trace.WithAttributes(pii...))
	dirty.End()
	spans := rec.Ended()
	for _, c := range []struct {
		name string
		s    sdktrace.ReadOnlySpan
	}{{"clean", spans[0]}, {"pii", spans[1]}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = RedactSpan(e, c.s)
			}
		})
	}
}

// batchRecorder is an exporter that keeps the batches it was given.
type batchRecorder struct{ batches [][]sdktrace.ReadOnlySpan }

func (r *batchRecorder) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	r.batches = append(r.batches, spans)
	return nil
}
func (r *batchRecorder) Shutdown(context.Context) error { return nil }

// TestRedactExports: the exporter form redacts what the stage redacts; a
// batch of clean spans is handed on as it came (no copy), and a batch with
// a dirty span is copied, the caller's slice left as it was.
func TestRedactExports(t *testing.T) {
	e, err := redact.New(redact.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ended := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(ended))
	for _, name := range []string{"GET /api/monitors/{id}", "GET /users/alice.smith@example.com", "POST /api/analyze"} {
		_, s := tp.Tracer("t").Start(context.Background(), name, trace.WithAttributes(cleanAttrs()...))
		s.End()
	}
	spans := ended.Ended()
	rec := &batchRecorder{}
	exp := RedactExports(rec, e)

	clean := []sdktrace.ReadOnlySpan{spans[0], spans[2]}
	if err := exp.ExportSpans(context.Background(), clean); err != nil {
		t.Fatal(err)
	}
	if got := rec.batches[0]; &got[0] != &clean[0] {
		t.Error("a batch of clean spans was copied")
	}

	batch := slices.Clone(spans)
	if err := exp.ExportSpans(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	got := rec.batches[1]
	if &got[0] == &batch[0] {
		t.Fatal("the dirty batch was redacted in the caller's slice")
	}
	if !slices.Equal(batch, spans) {
		t.Error("the caller's batch was modified")
	}
	if got[0] != spans[0] || got[2] != spans[2] {
		t.Error("clean spans of a dirty batch were not handed on as they came")
	}
	if name := got[1].Name(); name != "GET /users/[EMAIL_REDACTED]" {
		t.Errorf("dirty span's name = %q", name)
	}
	if n := e.Counts()["email"]; n != 1 {
		t.Errorf("email redactions counted %d, want 1", n)
	}
}
