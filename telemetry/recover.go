package telemetry

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"

	"github.com/felixge/httpsnoop"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/processors"
)

// PanicExceptionType is the exception.type Recover records. The Sentry
// error bridge reports such exceptions at level fatal, marked unhandled.
const PanicExceptionType = "panic"

// RecoverOption configures [Recover].
type RecoverOption func(*recoverConfig)

type recoverConfig struct {
	repanic bool
}

// WithRepanic makes Recover panic again, with the same value, once it has
// recorded the panic — for servers that want net/http's own handling (the
// connection is dropped, the stack logged) or a supervisor to see it. No
// response is written then.
func WithRepanic(on bool) RecoverOption { return func(c *recoverConfig) { c.repanic = on } }

// Recover returns middleware that turns a panic in next into an error on the
// request's server span and a 500 answer, so one bad request does not take
// the connection — or, without net/http's own recovery, the process — down.
//
// Use it inside the OpenTelemetry HTTP handler, whose span must still be
// open: otelhttp.NewHandler(telemetry.Recover(h), route). On a panic it
// records an exception event on the span in the request's context —
// exception.type "panic", exception.message the panic value as fmt prints
// it, exception.stacktrace the full stack of the panicking goroutine — sets
// the span's status to Error and answers
//
//	500 {"error": "internal error", "request_id": "…"}
//
// The request ID is the X-Request-ID response header, which request-ID
// middleware outside Recover sets before calling it, else the request_id
// context attribute ([WithRequestID]) of the request; "" when neither is
// set. If the handler had already started its response, a clean 500 is no
// longer possible: Recover aborts the response with http.ErrAbortHandler
// (the client sees a broken response, never a truncated one that looks
// whole). http.ErrAbortHandler itself passes through unrecorded: it is how a
// handler asks net/http to abort, not a bug.
//
// The wrapped ResponseWriter keeps the optional interfaces (Flusher,
// Hijacker, ReaderFrom, …) of the one it wraps.
func Recover(next http.Handler, opts ...RecoverOption) http.Handler {
	var cfg recoverConfig
	for _, o := range opts {
		o(&cfg)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := false
		tw := httpsnoop.Wrap(w, httpsnoop.Hooks{
			WriteHeader: func(f httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
				return func(code int) {
					// 1xx responses are interim: the final status is still to come.
					if code >= 200 {
						started = true
					}
					f(code)
				}
			},
			Write: func(f httpsnoop.WriteFunc) httpsnoop.WriteFunc {
				return func(b []byte) (int, error) { started = true; return f(b) }
			},
			WriteString: func(f httpsnoop.WriteStringFunc) httpsnoop.WriteStringFunc {
				return func(s string) (int, error) { started = true; return f(s) }
			},
			ReadFrom: func(f httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
				return func(src io.Reader) (int64, error) { started = true; return f(src) }
			},
			Flush: func(f httpsnoop.FlushFunc) httpsnoop.FlushFunc {
				return func() { started = true; f() }
			},
			FlushError: func(f httpsnoop.FlushErrorFunc) httpsnoop.FlushErrorFunc {
				return func() error { started = true; return f() }
			},
			Hijack: func(f httpsnoop.HijackFunc) httpsnoop.HijackFunc {
				return func() (net.Conn, *bufio.ReadWriter, error) { started = true; return f() }
			},
		})
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // net/http compares by identity too
				panic(v)
			}
			recordPanic(trace.SpanFromContext(r.Context()), v, debug.Stack())
			if cfg.repanic {
				panic(v)
			}
			if started {
				panic(http.ErrAbortHandler)
			}
			writePanicResponse(w, requestIDOf(w, r))
		}()
		next.ServeHTTP(tw, r)
	})
}

// recordPanic records v as the span's exception. span.RecordError would
// name the Go type of the value; "panic" groups panics apart from returned
// errors and tells the bridge the error was unhandled.
func recordPanic(span trace.Span, v any, stack []byte) {
	span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
		semconv.ExceptionType(PanicExceptionType),
		semconv.ExceptionMessage(fmt.Sprint(v)),
		semconv.ExceptionStacktrace(string(stack)),
	))
	span.SetStatus(codes.Error, PanicExceptionType)
}

const requestIDHeader = "X-Request-ID"

func requestIDOf(w http.ResponseWriter, r *http.Request) string {
	if id := w.Header().Get(requestIDHeader); id != "" {
		return id
	}
	for _, kv := range processors.AttributesFromContext(r.Context()) {
		if kv.Key == "request_id" {
			return kv.Value.Emit()
		}
	}
	return ""
}

func writePanicResponse(w http.ResponseWriter, requestID string) {
	h := w.Header()
	// Headers a handler set before panicking describe a response that
	// will not be sent.
	for k := range h {
		if k != requestIDHeader {
			delete(h, k)
		}
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusInternalServerError)
	_ = json.NewEncoder(w).Encode(struct {
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
	}{"internal error", requestID})
}
