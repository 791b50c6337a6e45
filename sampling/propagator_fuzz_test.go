package sampling

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// FuzzPropagator feeds arbitrary traceparent, tracestate, sentry-trace and
// baggage headers through the composite propagator Setup installs: it must
// never panic, and what it extracts and injects back must be well formed —
// a hostile header either continues a valid trace or starts a fresh one.
func FuzzPropagator(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "otelsentry=r:0.1", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", "sentry-trace_id=4bf92f3577b34da6a3ce929d0e0e4736,sentry-sample_rand=0.5,sentry-sampled=true")
	f.Add("", "", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "sentry-sample_rate=2,sentry-sample_rand=NaN")
	f.Add("00-zzzz-01", "=,=", "--", "%%%,k=,=v,"+strings.Repeat("a=b,", 200))
	f.Add("ff-00000000000000000000000000000000-0000000000000000-ff", "a=b=c", "x-y-z-w", "sentry-sampled=maybe")
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{},
		NewSentryPropagator(PropagatorConfig{Environment: "production", Release: "r1", PublicKey: "pk", SampleRate: 0.1}))
	f.Fuzz(func(t *testing.T, traceparent, tracestate, sentryTrace, baggage string) {
		in := propagation.MapCarrier{"traceparent": traceparent, "tracestate": tracestate, "sentry-trace": sentryTrace, "baggage": baggage}
		ctx := prop.Extract(context.Background(), in)
		sc := trace.SpanContextFromContext(ctx)
		if sc.IsValid() != (sc.TraceID().IsValid() && sc.SpanID().IsValid()) {
			t.Fatalf("extracted a half-valid span context %v", sc)
		}
		out := propagation.MapCarrier{}
		prop.Inject(ctx, out)
		for k, v := range out {
			if !utf8.ValidString(v) || strings.ContainsAny(v, "\r\n") {
				t.Fatalf("injected header %s=%q is not a valid header value", k, v)
			}
		}
		if sc.IsValid() && out["traceparent"] == "" {
			t.Fatalf("valid context %v injected no traceparent", sc)
		}
	})
}
