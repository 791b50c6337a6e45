package sampling_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/sampling"
)

const testPublicKey = "0123456789abcdef0123456789abcdef"

// sentryHub is a sentry-go hub with tracing on at rate, sending nowhere: the
// real SDK that produces and parses Sentry headers.
func sentryHub(t *testing.T, rate float64) *sentry.Hub {
	t.Helper()
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:              "https://" + testPublicKey + "@o1.ingest.example.com/42",
		EnableTracing:    true,
		TracesSampleRate: rate,
		Environment:      "browser-prod",
		Release:          "web@1.2.3",
		Transport:        &sentry.MockTransport{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sentry.NewHub(client, sentry.NewScope())
}

// ourService is an OpenTelemetry-only service: our sampler at rate 0.1 and
// the propagators Setup installs.
type ourService struct {
	tp   *sdktrace.TracerProvider
	prop propagation.TextMapPropagator
}

func newOurService(t *testing.T) *ourService {
	s, err := sampling.NewSampler(0.1)
	if err != nil {
		t.Fatal(err)
	}
	return &ourService{
		tp: sdktrace.NewTracerProvider(sdktrace.WithSampler(s)),
		prop: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{},
			sampling.NewSentryPropagator(sampling.PropagatorConfig{
				Environment: "production", Release: "api@9.9.9", PublicKey: testPublicKey, SampleRate: 0.1,
			})),
	}
}

// handle receives a request with headers in, starts its server span, and
// returns the span and the headers of its outgoing call.
func (o *ourService) handle(in http.Header) (trace.Span, http.Header) {
	ctx := o.prop.Extract(context.Background(), propagation.HeaderCarrier(in))
	ctx, span := o.tp.Tracer("api").Start(ctx, "GET /api/items", trace.WithSpanKind(trace.SpanKindServer))
	out := http.Header{}
	o.prop.Inject(ctx, propagation.HeaderCarrier(out))
	span.End()
	return span, out
}

// A browser (sentry-go stands in for it) starts the trace; our service
// continues it with the browser's decision, and the browser's SDK accepts
// our outgoing headers back, in both decisions.
func TestSentryRoundTrip(t *testing.T) {
	o := newOurService(t)
	for _, rate := range []float64{1, 0} {
		for range 20 { // most of these IDs our rate 0.1 alone would not sample
			hub := sentryHub(t, rate)
			ctx := sentry.SetHubOnContext(context.Background(), hub)
			tx := sentry.StartTransaction(ctx, "GET /page")
			in := http.Header{}
			in.Set("sentry-trace", tx.ToSentryTrace())
			in.Set("baggage", tx.ToBaggage()+",user_tier=gold")
			tx.Finish()

			span, out := o.handle(in)
			sc := span.SpanContext()
			if sc.TraceID().String() != tx.TraceID.String() {
				t.Fatalf("trace ID %s, want Sentry's %s", sc.TraceID(), tx.TraceID)
			}
			if got := span.(sdktrace.ReadOnlySpan).Parent().SpanID().String(); got != tx.SpanID.String() {
				t.Fatalf("parent span %s, want Sentry's %s", got, tx.SpanID)
			}
			if sc.IsSampled() != (rate == 1) {
				t.Fatalf("Sentry sampled=%v at rate %v, our span sampled=%v", tx.Sampled, rate, sc.IsSampled())
			}

			// Back into a Sentry SDK downstream.
			down := sentry.StartTransaction(sentry.SetHubOnContext(context.Background(), sentryHub(t, 0.5)), "downstream",
				sentry.ContinueFromHeaders(out.Get("sentry-trace"), out.Get("baggage")))
			if down.TraceID != tx.TraceID || down.ParentSpanID.String() != sc.SpanID().String() {
				t.Fatalf("sentry-go continued trace %s parent %s, want %s parent %s (headers %v)",
					down.TraceID, down.ParentSpanID, tx.TraceID, sc.SpanID(), out)
			}
			if down.Sampled.Bool() != (rate == 1) {
				t.Fatalf("sentry-go sampled=%v downstream, want %v", down.Sampled, rate == 1)
			}
			// The DSC is the browser's, frozen, and other baggage survives.
			dsc, err := sentry.DynamicSamplingContextFromHeader([]byte(out.Get("baggage")))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := sentry.DynamicSamplingContextFromHeader([]byte(in.Get("baggage")))
			for k, v := range want.Entries {
				if dsc.Entries[k] != v {
					t.Fatalf("DSC %s=%q downstream, want the head's %q", k, dsc.Entries[k], v)
				}
			}
			if len(dsc.Entries) != len(want.Entries) {
				t.Fatalf("DSC %v downstream, want the head's %v", dsc.Entries, want.Entries)
			}
			if b, _ := baggage.Parse(out.Get("baggage")); b.Member("user_tier").Value() != "gold" {
				t.Fatalf("other baggage lost: %q", out.Get("baggage"))
			}
			if n := strings.Count(out.Get("baggage"), "sentry-trace_id="); n != 1 {
				t.Fatalf("sentry-trace_id %d times in %q", n, out.Get("baggage"))
			}
		}
	}
}

// Our service starts the trace; a Sentry SDK downstream continues it, with
// our decision and our DSC.
func TestSentryContinuesOurTrace(t *testing.T) {
	o := newOurService(t)
	var sampled, unsampled int
	for range 200 {
		span, out := o.handle(http.Header{})
		sc := span.SpanContext()
		if out.Get("traceparent") == "" {
			t.Fatal("no traceparent injected")
		}
		down := sentry.StartTransaction(sentry.SetHubOnContext(context.Background(), sentryHub(t, 0.5)), "downstream",
			sentry.ContinueFromHeaders(out.Get("sentry-trace"), out.Get("baggage")))
		if down.TraceID.String() != sc.TraceID().String() || down.ParentSpanID.String() != sc.SpanID().String() {
			t.Fatalf("sentry-go continued %s/%s, want %s/%s", down.TraceID, down.ParentSpanID, sc.TraceID(), sc.SpanID())
		}
		if down.Sampled.Bool() != sc.IsSampled() {
			t.Fatalf("sentry-go sampled=%v, ours %v", down.Sampled, sc.IsSampled())
		}
		dsc, err := sentry.DynamicSamplingContextFromHeader([]byte(out.Get("baggage")))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"trace_id": sc.TraceID().String(), "sample_rate": "0.1", "sampled": map[bool]string{true: "true", false: "false"}[sc.IsSampled()],
			"environment": "production", "release": "api@9.9.9", "public_key": testPublicKey,
		}
		for k, v := range want {
			if dsc.Entries[k] != v {
				t.Fatalf("DSC %s=%q, want %q (baggage %q)", k, dsc.Entries[k], v, out.Get("baggage"))
			}
		}
		if sc.IsSampled() {
			sampled++
		} else {
			unsampled++
		}
	}
	if sampled == 0 || unsampled == 0 {
		t.Fatalf("sampled %d, unsampled %d: both decisions must be exercised", sampled, unsampled)
	}
}

// A Sentry SDK that defers its decision sends sentry-trace without a flag;
// the decision is then ours, made with its sentry-sample_rand.
func TestSentryDeferredDecisionHonoursSampleRand(t *testing.T) {
	o := newOurService(t)
	const tid = "771a43a4192642f0b136d5159a501700"
	for _, tc := range []struct {
		rand    string
		sampled bool
	}{{"0.05", true}, {"0.099999", true}, {"0.1", false}, {"0.73", false}} {
		in := http.Header{}
		in.Set("sentry-trace", tid+"-b0e6f15b45c36b12")
		in.Set("baggage", "sentry-trace_id="+tid+",sentry-sample_rand="+tc.rand+",sentry-sample_rate=0.1")
		span, out := o.handle(in)
		if span.SpanContext().TraceID().String() != tid {
			t.Fatalf("trace not continued: %s", span.SpanContext().TraceID())
		}
		if span.SpanContext().IsSampled() != tc.sampled {
			t.Errorf("sample_rand %s at rate 0.1: sampled=%v, want %v", tc.rand, span.SpanContext().IsSampled(), tc.sampled)
		}
		if !strings.HasSuffix(out.Get("sentry-trace"), map[bool]string{true: "-1", false: "-0"}[tc.sampled]) {
			t.Errorf("outgoing sentry-trace %q does not carry our decision", out.Get("sentry-trace"))
		}
	}
	// sentry-sampled in the baggage stands in for a missing flag.
	in := http.Header{}
	in.Set("sentry-trace", tid+"-b0e6f15b45c36b12")
	in.Set("baggage", "sentry-trace_id="+tid+",sentry-sampled=true,sentry-sample_rand=0.99")
	if span, _ := o.handle(in); !span.SpanContext().IsSampled() {
		t.Errorf("sentry-sampled=true without a flag: not sampled")
	}
}

func TestSentryPropagatorPrefersTraceparent(t *testing.T) {
	o := newOurService(t)
	in := http.Header{}
	in.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	in.Set("sentry-trace", "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-0")
	// A DSC of another trace (stale, or from a different hop) is not re-sent.
	in.Set("baggage", "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.5,sentry-environment=other")
	span, out := o.handle(in)
	sc := span.SpanContext()
	if sc.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || !sc.IsSampled() {
		t.Fatalf("traceparent not preferred: %s sampled=%v", sc.TraceID(), sc.IsSampled())
	}
	dsc, _ := sentry.DynamicSamplingContextFromHeader([]byte(out.Get("baggage")))
	if dsc.Entries["trace_id"] != "0af7651916cd43dd8448eb211c80319c" || dsc.Entries["environment"] != "production" {
		t.Fatalf("DSC %v, want ours for the traceparent's trace", dsc.Entries)
	}
}

func TestSentryPropagatorIgnoresMalformedHeaders(t *testing.T) {
	p := sampling.NewSentryPropagator(sampling.PropagatorConfig{})
	for _, v := range []string{
		"", "abc", "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-2",
		"771a43a4192642f0b136d5159a501700_b0e6f15b45c36b12", "00000000000000000000000000000000-b0e6f15b45c36b12-1",
		"771a43a4192642f0b136d5159a50170z-b0e6f15b45c36b12-1", "771a43a4192642f0b136d5159a501700-0000000000000000",
	} {
		ctx := p.Extract(context.Background(), propagation.MapCarrier{"sentry-trace": v})
		if trace.SpanContextFromContext(ctx).IsValid() {
			t.Errorf("sentry-trace %q was accepted", v)
		}
	}
	if got := p.Fields(); len(got) != 2 || got[0] != "sentry-trace" || got[1] != "baggage" {
		t.Errorf("Fields() = %v", got)
	}
}

func TestSentryPropagatorEscapesValues(t *testing.T) {
	p := sampling.NewSentryPropagator(sampling.PropagatorConfig{Environment: "eu west, 2", Release: "a;b=c%", SampleRate: 1})
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})
	c := propagation.MapCarrier{}
	p.Inject(trace.ContextWithSpanContext(context.Background(), sc), c)
	b, err := baggage.Parse(c["baggage"])
	if err != nil {
		t.Fatalf("baggage %q: %v", c["baggage"], err)
	}
	if b.Member("sentry-environment").Value() != "eu west, 2" || b.Member("sentry-release").Value() != "a;b=c%" {
		t.Fatalf("values do not round-trip: %q", c["baggage"])
	}
	if b.Member("sentry-public_key").Key() != "" {
		t.Fatalf("empty public key sent: %q", c["baggage"])
	}
}
