package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// fault is an injected failure, for demos and tests. Where each kind lands:
//
//   - error:   the data sources it reaches answer 503;
//   - timeout: the data sources it reaches hang until the caller's deadline;
//   - slow:    the data sources it reaches take FaultLatency longer;
//   - panic:   the handler panics (recovered into a 500).
//
// In an analysis the fault reaches only the ResearchAgent, so the other
// agents show what a healthy sibling looks like; in a monitor check it
// reaches the time-series fetch. Routes without data sources feel only panic.
type fault string

const (
	faultNone    fault = ""
	faultError   fault = "error"
	faultTimeout fault = "timeout"
	faultPanic   fault = "panic"
	faultSlow    fault = "slow"
)

const faultHeader = "X-Fault"

// faultAgent is the agent an analysis's fault lands on.
const faultAgent = "ResearchAgent"

func parseFault(s string) (fault, bool) {
	switch f := fault(strings.ToLower(strings.TrimSpace(s))); f {
	case faultError, faultTimeout, faultPanic, faultSlow:
		return f, true
	}
	return faultNone, false
}

type faultKey struct{}

func withFault(ctx context.Context, f fault) context.Context {
	return context.WithValue(ctx, faultKey{}, f)
}

func faultFrom(ctx context.Context) fault {
	f, _ := ctx.Value(faultKey{}).(fault)
	return f
}

// faultInjector decides which requests and checks carry a fault. It is off
// entirely in production: the header is ignored and the rate is 0.
type faultInjector struct {
	enabled bool
	rate    float64
	latency time.Duration
}

// middleware reads X-Fault (or draws a random fault at the configured rate
// for /api routes), records it on the server span as fault.injected, puts it
// in the request context, and panics at once for the panic fault. An unknown
// X-Fault value is a 400 naming the header.
func (fi faultInjector) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fi.enabled {
			next.ServeHTTP(w, r)
			return
		}
		f := faultNone
		if v := r.Header.Get(faultHeader); v != "" {
			var ok bool
			if f, ok = parseFault(v); !ok {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown fault %q: want error, timeout, panic or slow", v), faultHeader)
				return
			}
		} else if strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/api/test-error" {
			f = fi.draw(true)
		}
		if f == faultNone {
			next.ServeHTTP(w, r)
			return
		}
		trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("fault.injected", string(f)))
		if f == faultPanic {
			panic(fmt.Sprintf("injected fault: panic in %s", r.Pattern))
		}
		next.ServeHTTP(w, r.WithContext(withFault(r.Context(), f)))
	})
}

// draw returns a random fault with probability rate; withPanic says whether
// a panic may be drawn (not in background work, where nothing would answer).
func (fi faultInjector) draw(withPanic bool) fault {
	if !fi.enabled || fi.rate <= 0 || rand.Float64() >= fi.rate {
		return faultNone
	}
	kinds := []fault{faultError, faultTimeout, faultSlow, faultPanic}
	if !withPanic {
		kinds = kinds[:3]
	}
	return kinds[rand.IntN(len(kinds))]
}
