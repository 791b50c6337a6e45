package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/processors"
)

// harness is a Service whose spans go through the pipeline's real enrich
// stage into a recorder, so context attributes reach child spans as they do
// in production.
type harness struct {
	t   *testing.T
	svc *Service
	h   http.Handler
	rec *tracetest.SpanRecorder
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(processors.NewChain(rec, processors.Enrich())))
	cfg.TracerProvider = tp
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LatencyScale == 0 {
		cfg.LatencyScale = 0.01
	}
	if cfg.Environment == "" {
		cfg.Environment = "test"
	}
	if cfg.AlertSink == nil {
		// The default sink refuses one delivery in twenty at random; a test
		// that wants a refusal says so (failingSink, TestSimulatedWebhook).
		cfg.AlertSink = simulatedWebhook{scale: cfg.LatencyScale}
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		_ = tp.Shutdown(ctx)
	})
	return &harness{t: t, svc: svc, h: svc.Handler(), rec: rec}
}

// do serves one request; headers are name, value pairs.
func (h *harness) do(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, req)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %q: %v", w.Body.String(), err)
	}
	return v
}

// waitSpans polls the recorder until pred holds over the ended spans. Some
// spans end after the response (a timed-out agent's data-source call winds
// down after its deadline); polling waits for the outcome without assuming
// how long that takes.
func (h *harness) waitSpans(pred func([]sdktrace.ReadOnlySpan) bool) []sdktrace.ReadOnlySpan {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		spans := h.rec.Ended()
		if pred(spans) {
			return spans
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("spans never reached the expected state; have:\n%s", dump(spans))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dump(spans []sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString("  " + s.Name() + " " + s.SpanContext().SpanID().String() + " parent=" + s.Parent().SpanID().String() + "\n")
	}
	return b.String()
}

func named(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func countNamed(name string, n int) func([]sdktrace.ReadOnlySpan) bool {
	return func(spans []sdktrace.ReadOnlySpan) bool { return len(named(spans, name)) >= n }
}

func childrenOf(spans []sdktrace.ReadOnlySpan, parent sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Parent().SpanID() == parent.SpanContext().SpanID() && s.SpanContext().TraceID() == parent.SpanContext().TraceID() {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func wantAttr(t *testing.T, s sdktrace.ReadOnlySpan, key string, want any) {
	t.Helper()
	v, ok := attr(s, key)
	if !ok {
		t.Errorf("span %q: no attribute %s", s.Name(), key)
		return
	}
	if got := v.AsInterface(); !equalValue(got, want) {
		t.Errorf("span %q: %s = %v (%T), want %v (%T)", s.Name(), key, got, got, want, want)
	}
}

func equalValue(got, want any) bool {
	switch w := want.(type) {
	case int:
		g, ok := got.(int64)
		return ok && g == int64(w)
	case []string:
		g, ok := got.([]string)
		return ok && slices.Equal(g, w)
	}
	return got == want
}

func hasAttr(s sdktrace.ReadOnlySpan, key string) bool {
	_, ok := attr(s, key)
	return ok
}

func event(s sdktrace.ReadOnlySpan, name string) (sdktrace.Event, bool) {
	for _, e := range s.Events() {
		if e.Name == name {
			return e, true
		}
	}
	return sdktrace.Event{}, false
}

func eventAttr(e sdktrace.Event, key string) string {
	for _, kv := range e.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

func countEvents(s sdktrace.ReadOnlySpan, name string) int {
	n := 0
	for _, e := range s.Events() {
		if e.Name == name {
			n++
		}
	}
	return n
}

func byAgent(spans []sdktrace.ReadOnlySpan) map[string]sdktrace.ReadOnlySpan {
	out := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range named(spans, "agent.execute") {
		if v, ok := attr(s, "agent.name"); ok {
			out[v.AsString()] = s
		}
	}
	return out
}

func serverSpan(t *testing.T, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if s.Name() == name && s.SpanKind() == trace.SpanKindServer {
			return s
		}
	}
	t.Fatalf("no server span %q in:\n%s", name, dump(spans))
	return nil
}
