package sampling_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/sampling"
)

func ExampleEnvironmentRate() {
	for _, env := range []string{"development", "staging", "production", "prod"} {
		rate, known := sampling.EnvironmentRate(env)
		fmt.Println(env, rate, known)
	}
	// Output:
	// development 1 true
	// staging 0.3 true
	// production 0.1 true
	// prod 0.1 false
}

func ExampleHeadSampled() {
	id, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	// Every service using rate 0.3 makes this decision for this trace, and
	// so does sdktrace.TraceIDRatioBased(0.3).
	fmt.Println(sampling.HeadSampled(id, 0.3), sampling.HeadSampled(id, 0.9))
	// Output: false true
}

func ExampleNewSampler() {
	s, err := sampling.NewSampler(0.1, sampling.WithRules(
		sampling.Rule{Route: "GET /healthz", Rate: 0},
		sampling.Rule{Name: "POST /api/checkout", Rate: 1},
	))
	if err != nil {
		panic(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	_, span := tp.Tracer("shop").Start(context.Background(), "POST /api/checkout")
	defer span.End()
	fmt.Println(span.SpanContext().IsSampled(), span.SpanContext().TraceState())
	// Output: true otelsentry=r:1
}

func ExampleParseRules() {
	rules, err := sampling.ParseRules([]byte(`
rules:
  - route: GET /healthz
    rate: 0
  - name: POST /api/checkout
    rate: 1.0
`), "sampling.yaml")
	fmt.Println(rules, err)

	_, err = sampling.ParseRules([]byte("rules:\n  - route: /x\n    rate: 2\n"), "sampling.yaml")
	fmt.Println(err)
	// Output:
	// [route "GET /healthz" → 0 name "POST /api/checkout" → 1] <nil>
	// sampling rules file sampling.yaml: line 2: rule 1: route "/x" → 2: rate 2 must be between 0 and 1
}

func ExampleNewKeeper() {
	k := sampling.NewKeeper(sampling.KeepConfig{}) // 2 s latency, 20 000 spans, 1 000 per trace, 60 s
	fmt.Println(k.Config().Latency, k.Config().MaxSpans, k.Config().MaxSpansPerTrace, k.Config().MaxAge)
	// Output: 2s 20000 1000 1m0s
}

func ExampleSentryPropagator() {
	prop := propagation.NewCompositeTextMapPropagator(
		propagation.TraceContext{}, propagation.Baggage{},
		sampling.NewSentryPropagator(sampling.PropagatorConfig{Environment: "production", Release: "api@1.0.0", SampleRate: 0.1}),
	)
	// A request from a browser instrumented with Sentry.
	in := propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
		"baggage":      "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=1,sentry-sampled=true",
	}
	ctx := prop.Extract(context.Background(), in)
	sc := trace.SpanContextFromContext(ctx)
	fmt.Println(sc.TraceID(), sc.SpanID(), sc.IsSampled(), sc.IsRemote())

	out := propagation.MapCarrier{}
	prop.Inject(ctx, out)
	fmt.Println(out["sentry-trace"])
	fmt.Println(out["baggage"])
	// Output:
	// 771a43a4192642f0b136d5159a501700 b0e6f15b45c36b12 true true
	// 771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1
	// sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=1,sentry-sampled=true
}
