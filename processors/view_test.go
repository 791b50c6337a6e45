package processors

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestViewOverridesOnlyWhatIsSet(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}})
	orig := tracetest.SpanStub{
		Name: "GET /users/alice@example.com", SpanContext: sc, StartTime: time.Unix(1, 0),
		Attributes: []attribute.KeyValue{attribute.String("user.email", "alice@example.com")},
		Events:     []sdktrace.Event{{Name: "exception"}},
		Links:      []sdktrace.Link{{SpanContext: sc}},
		Status:     sdktrace.Status{Code: codes.Error, Description: "alice@example.com"},
	}.Snapshot()

	v := NewView(orig)
	if v.Name() != orig.Name() || !v.SpanContext().Equal(orig.SpanContext()) || len(v.Attributes()) != 1 ||
		len(v.Events()) != 1 || len(v.Links()) != 1 || v.Status() != orig.Status() || v.StartTime() != orig.StartTime() {
		t.Fatal("an empty view does not read through to the original")
	}

	sampled := sc.WithTraceFlags(trace.FlagsSampled)
	attrs := []attribute.KeyValue{attribute.String("user.email", "[EMAIL_REDACTED]")}
	v.WithName("GET /users/{id}").WithSpanContext(sampled).WithAttributes(attrs).
		WithEvents(nil).WithLinks(nil).WithStatus(sdktrace.Status{Code: codes.Error})
	if v.Name() != "GET /users/{id}" || !v.SpanContext().IsSampled() || v.Attributes()[0].Value.AsString() != "[EMAIL_REDACTED]" ||
		len(v.Events()) != 0 || len(v.Links()) != 0 || v.Status().Description != "" {
		t.Fatalf("overrides not reported: %q %v %v", v.Name(), v.SpanContext(), v.Attributes())
	}
	if v.StartTime() != time.Unix(1, 0) {
		t.Fatal("a method not overridden does not read through")
	}
	if orig.Name() != "GET /users/alice@example.com" || orig.SpanContext().IsSampled() ||
		orig.Attributes()[0].Value.AsString() != "alice@example.com" {
		t.Fatal("the original changed")
	}

	// A view of a view copies it and embeds the same original.
	w := NewView(v).WithName("renamed")
	if _, nested := w.Original().(*View); nested || w.Original().Name() != orig.Name() {
		t.Fatalf("stacked view embeds %T %q, want the original", w.Original(), w.Original().Name())
	}
	if !w.SpanContext().IsSampled() || w.Name() != "renamed" || v.Name() != "GET /users/{id}" {
		t.Fatalf("stacked view: sampled %v, names %q/%q", w.SpanContext().IsSampled(), w.Name(), v.Name())
	}
}
