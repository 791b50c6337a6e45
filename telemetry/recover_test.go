package telemetry

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// endedSpans records what a provider ends.
type endedSpans struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (e *endedSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (e *endedSpans) OnEnd(s sdktrace.ReadOnlySpan) {
	e.mu.Lock()
	e.spans = append(e.spans, s)
	e.mu.Unlock()
}
func (e *endedSpans) ForceFlush(context.Context) error { return nil }
func (e *endedSpans) Shutdown(context.Context) error   { return nil }

func (e *endedSpans) all() []sdktrace.ReadOnlySpan {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), e.spans...)
}

// recoverServer serves h behind otelhttp, request IDs and Recover.
func recoverServer(t *testing.T, h http.HandlerFunc, opts ...RecoverOption) (*httptest.Server, *endedSpans) {
	t.Helper()
	rec := &endedSpans{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	srv := httptest.NewServer(otelhttp.NewHandler(withTestRequestID(Recover(h, opts...)), "GET /boom", otelhttp.WithTracerProvider(tp)))
	t.Cleanup(srv.Close)
	return srv, rec
}

func get(t *testing.T, srv *httptest.Server, requestID string) (*http.Response, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("X-Request-ID", requestID)
	resp, err := srv.Client().Do(req)
	if err != nil {
		return nil, nil
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

//go:noinline
func explode() { panic("report cache corrupted") }

func TestRecoverRecordsAndAnswers500(t *testing.T) {
	srv, rec := recoverServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600") // must not survive into the 500
		explode()
	})
	resp, body := get(t, srv, "req-1")
	if resp == nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("response = %v, want 500", resp)
	}
	if body["error"] != "internal error" || body["request_id"] != "req-1" || len(body) != 2 {
		t.Errorf("body = %v", body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" || resp.Header.Get("Cache-Control") != "" {
		t.Errorf("headers = %v", resp.Header)
	}
	spans := rec.all()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.Status().Code != codes.Error {
		t.Errorf("status = %v", s.Status())
	}
	evs := s.Events()
	if len(evs) != 1 || evs[0].Name != "exception" {
		t.Fatalf("events = %v", evs)
	}
	attrs := map[string]string{}
	for _, kv := range evs[0].Attributes {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["exception.type"] != "panic" || attrs["exception.message"] != "report cache corrupted" {
		t.Errorf("exception = %v", attrs)
	}
	if st := attrs["exception.stacktrace"]; !strings.Contains(st, "telemetry.explode()") || !strings.HasPrefix(st, "goroutine ") {
		t.Errorf("stack does not show the panicking function:\n%s", st)
	}

	// The server keeps serving.
	if resp, body := get(t, srv, "req-2"); resp == nil || resp.StatusCode != 500 || body["request_id"] != "req-2" {
		t.Errorf("second request: %v %v", resp, body)
	}
}

func TestRecoverRequestIDFromContext(t *testing.T) {
	rec := httptest.NewRecorder()
	h := Recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(42) }))
	r := httptest.NewRequest("GET", "/", nil)
	h.ServeHTTP(rec, r.WithContext(WithRequestID(r.Context(), "ctx-7")))
	var body map[string]string
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 500 || body["request_id"] != "ctx-7" {
		t.Errorf("%d %v", rec.Code, body)
	}
}

func TestRecoverRepanics(t *testing.T) {
	rec := &endedSpans{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	h := otelhttp.NewHandler(Recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { explode() }), WithRepanic(true)),
		"GET /boom", otelhttp.WithTracerProvider(tp))
	w := httptest.NewRecorder()
	func() {
		defer func() {
			if v := recover(); v != "report cache corrupted" {
				t.Errorf("recovered %v, want the original panic value", v)
			}
		}()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/boom", nil))
	}()
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("a response was written before re-panicking: %d %q", w.Code, w.Body)
	}
	spans := rec.all()
	if len(spans) != 1 || spans[0].Status().Code != codes.Error || !hasPanicEvent(spans[0]) {
		t.Errorf("the panic was not recorded before re-panicking: %v", spans)
	}
}

func TestRecoverAfterResponseStartedAborts(t *testing.T) {
	h := Recover(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("partial"))
		explode()
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler { //nolint:errorlint
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestRecoverPassesAbortHandlerThrough(t *testing.T) {
	rec := &endedSpans{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	h := otelhttp.NewHandler(Recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })),
		"GET /", otelhttp.WithTracerProvider(tp))
	func() {
		defer func() { _ = recover() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	// The SDK records any panic that unwinds through span.End, this one
	// too; Recover adds nothing (and the bridge ignores the SDK's record).
	for _, s := range rec.all() {
		if hasPanicEvent(s) {
			t.Errorf("http.ErrAbortHandler was recorded as a panic: %v", s.Events())
		}
	}
}

func hasPanicEvent(s sdktrace.ReadOnlySpan) bool {
	for _, ev := range s.Events() {
		for _, kv := range ev.Attributes {
			if kv.Key == "exception.type" && kv.Value.AsString() == PanicExceptionType {
				return true
			}
		}
	}
	return false
}

func TestRecoverKeepsOptionalInterfaces(t *testing.T) {
	var flusher, ok bool
	h := Recover(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, flusher = w.(http.Flusher)
		ok = http.NewResponseController(w).Flush() == nil
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if !flusher || !ok {
		t.Errorf("Flusher lost: type assertion %v, ResponseController %v", flusher, ok)
	}
}
