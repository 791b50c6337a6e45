package telemetry

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

const propDSN = "https://pubkey0123456789@o7.ingest.sentry.io/42"

func propagatorFor(t *testing.T, env map[string]string, opts ...Option) propagation.TextMapPropagator {
	t.Helper()
	c := resolved(t, env, opts...)
	p, err := c.propagator()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPropagatorDefaultsAndOTelPropagators(t *testing.T) {
	for _, tc := range []struct {
		env    string
		fields []string
	}{
		{"", []string{"traceparent", "tracestate", "baggage", "sentry-trace"}},
		{"tracecontext", []string{"traceparent", "tracestate"}},
		{"baggage, TraceContext", []string{"baggage", "traceparent", "tracestate"}},
		{"sentry", []string{"sentry-trace", "baggage"}},
		{"none", nil},
	} {
		p := propagatorFor(t, map[string]string{"OTEL_PROPAGATORS": tc.env})
		got := p.Fields()
		for _, f := range tc.fields {
			if !slices.Contains(got, f) {
				t.Errorf("OTEL_PROPAGATORS=%q: fields %v lack %q", tc.env, got, f)
			}
		}
		for _, f := range got {
			if !slices.Contains(tc.fields, f) {
				t.Errorf("OTEL_PROPAGATORS=%q: unexpected field %q", tc.env, f)
			}
		}
	}
	for _, bad := range []string{"b3", "tracecontext,xray", "none,baggage"} {
		c := resolved(t, map[string]string{"OTEL_PROPAGATORS": bad})
		_, err := c.propagator()
		if err == nil || !strings.Contains(err.Error(), "OTEL_PROPAGATORS") {
			t.Errorf("OTEL_PROPAGATORS=%q: error %v, want one naming the variable", bad, err)
		}
	}
}

// Whatever order OTEL_PROPAGATORS gives, traceparent wins over sentry-trace
// and Sentry's entries join the W3C baggage instead of replacing it.
func TestPropagatorSentryRunsLast(t *testing.T) {
	p := propagatorFor(t, map[string]string{"OTEL_PROPAGATORS": "sentry,baggage,tracecontext", "SENTRY_DSN": propDSN})
	in := http.Header{}
	in.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	in.Set("sentry-trace", "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-0")
	in.Set("baggage", "tenant=acme")
	ctx := p.Extract(context.Background(), propagation.HeaderCarrier(in))
	if sc := trace.SpanContextFromContext(ctx); sc.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("extracted %s, want traceparent's trace", sc.TraceID())
	}
	out := http.Header{}
	p.Inject(ctx, propagation.HeaderCarrier(out))
	b := out.Get("baggage")
	if !strings.Contains(b, "tenant=acme") || !strings.Contains(b, "sentry-trace_id=0af7651916cd43dd8448eb211c80319c") ||
		!strings.Contains(b, "sentry-public_key=pubkey0123456789") {
		t.Fatalf("baggage %q, want the W3C member and our DSC with the DSN's public key", b)
	}
	if out.Get("sentry-trace") != "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1" {
		t.Fatalf("sentry-trace %q", out.Get("sentry-trace"))
	}
}

// Through Setup's own provider and propagator: a Sentry-instrumented caller
// (sentry-go) → our service → a Sentry-instrumented callee (sentry-go).
func TestSetupContinuesSentryTraces(t *testing.T) {
	var log syncBuffer
	pl, err := Setup(context.Background(), testOptions(&log, WithExporters("none"),
		withGetenv(envMap(map[string]string{"SENTRY_ENVIRONMENT": "production", "SENTRY_DSN": propDSN})),
		WithSentryTransport(&sentry.MockTransport{}))...)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Shutdown(context.Background())
	c := resolved(t, map[string]string{"SENTRY_ENVIRONMENT": "production", "SENTRY_DSN": propDSN})
	prop, err := c.propagator()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "pubkey0123456789") {
		t.Fatalf("the DSN's public key was logged: %q", log.String())
	}
	caller, _ := sentry.NewClient(sentry.ClientOptions{Dsn: "https://browserkey@o7.ingest.sentry.io/43", EnableTracing: true,
		TracesSampleRate: 1, Transport: &sentry.MockTransport{}})
	for range 10 {
		tx := sentry.StartTransaction(sentry.SetHubOnContext(context.Background(), sentry.NewHub(caller, sentry.NewScope())), "GET /page")
		in := http.Header{}
		in.Set("sentry-trace", tx.ToSentryTrace())
		in.Set("baggage", tx.ToBaggage())

		ctx := prop.Extract(context.Background(), propagation.HeaderCarrier(in))
		ctx, span := pl.TracerProvider().Tracer("api").Start(ctx, "GET /api/items")
		out := http.Header{}
		prop.Inject(ctx, propagation.HeaderCarrier(out))
		span.End()

		if span.SpanContext().TraceID().String() != tx.TraceID.String() || !span.SpanContext().IsSampled() {
			t.Fatalf("our span %s sampled=%v, want Sentry's trace %s, sampled (production's 0.1 must not override it)",
				span.SpanContext().TraceID(), span.SpanContext().IsSampled(), tx.TraceID)
		}
		callee := sentry.StartTransaction(sentry.SetHubOnContext(context.Background(), sentry.NewHub(caller, sentry.NewScope())), "callee", sentry.ContinueFromHeaders(out.Get("sentry-trace"), out.Get("baggage")))
		if callee.TraceID != tx.TraceID || callee.ParentSpanID.String() != span.SpanContext().SpanID().String() || !callee.Sampled.Bool() {
			t.Fatalf("sentry-go continued %s parent %s sampled %v; want %s parent %s sampled", callee.TraceID,
				callee.ParentSpanID, callee.Sampled, tx.TraceID, span.SpanContext().SpanID())
		}
		dsc, _ := sentry.DynamicSamplingContextFromHeader([]byte(out.Get("baggage")))
		if dsc.Entries["public_key"] != "browserkey" || dsc.Entries["trace_id"] != tx.TraceID.String() {
			t.Fatalf("DSC %v: the caller's DSC must be passed on unchanged", dsc.Entries)
		}
	}
}
