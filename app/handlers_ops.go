package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// healthz answers whether the process serves at all (liveness).
func (s *Service) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 503 once Close has begun, so a load balancer stops sending
// traffic while in-flight work drains.
func (s *Service) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.closing.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "scheduler": s.sched.state()})
}

// errTestError is the error POST /api/test-error raises.
var errTestError = errors.New("test error: verifying the error-reporting wiring")

// testError records a handled error on the server span and answers 500, so an
// operator can check that errors reach Sentry. In production it answers
// exactly like an unknown path: the endpoint is not there.
func (s *Service) testError(w http.ResponseWriter, r *http.Request) {
	if isProduction(s.cfg.Environment) {
		writeError(w, http.StatusNotFound, "not found", "")
		return
	}
	err := fmt.Errorf("handling POST /api/test-error: %w", errTestError)
	span := trace.SpanFromContext(r.Context())
	span.RecordError(err, trace.WithStackTrace(true))
	span.SetStatus(codes.Error, err.Error())
	span.SetAttributes(semconv.ErrorTypeKey.String("test_error"))
	s.log.InfoContext(r.Context(), "test error raised", "request_id", w.Header().Get(requestIDHeader))
	writeError(w, http.StatusInternalServerError, "test error raised", "")
}

// unmatched answers what the mux would (404, or 405 with Allow) as JSON.
func (s *Service) unmatched(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// The mux's own handler knows 404 from 405 and the Allow header; run
		// it into a recorder and keep only its status and Allow header.
		h, _ := mux.Handler(r)
		rec := &statusRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.code == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
			writeError(w, http.StatusMethodNotAllowed, "method not allowed", "")
			return
		}
		writeError(w, http.StatusNotFound, "not found", "")
	}
}

// statusRecorder keeps a response's status and headers and drops its body.
type statusRecorder struct {
	header http.Header
	code   int
}

func (r *statusRecorder) Header() http.Header { return r.header }
func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
func (r *statusRecorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return len(b), nil
}

// unmatchedSpanName follows the HTTP semantic conventions for a request with
// no route: the method alone ("HTTP" for a non-standard one), never the raw
// path, whose cardinality is unbounded.
func unmatchedSpanName(_ string, r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return r.Method
	}
	return "HTTP"
}

// internalError records an unexpected error on the server span and answers
// 500 without its details.
func (s *Service) internalError(w http.ResponseWriter, r *http.Request, err error) {
	failSpan(trace.SpanFromContext(r.Context()), err)
	s.log.ErrorContext(r.Context(), "request failed", "error", err, "request_id", w.Header().Get(requestIDHeader))
	writeError(w, http.StatusInternalServerError, "internal error", "")
}

// spanEvent adds an event to the span in ctx.
func spanEvent(ctx context.Context, name string, kvs ...attribute.KeyValue) {
	trace.SpanFromContext(ctx).AddEvent(name, trace.WithAttributes(kvs...))
}
