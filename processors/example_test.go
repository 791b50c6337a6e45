package processors_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelsentry/otelsentry/processors"
	"github.com/otelsentry/otelsentry/sampling"
)

// Light spans into a chain with tail keep: at head rate 0, the healthy
// trace is dropped and the failing one is exported whole, marked sampled.
// telemetry.Setup builds this (and more).
func ExampleNewLightProvider() {
	exp := tracetest.NewInMemoryExporter()
	chain := processors.NewChain(processors.NewBatcher(exp, processors.BatchConfig{}),
		processors.Keep(sampling.NewKeeper(sampling.KeepConfig{})))
	sampler, err := sampling.NewSampler(0)
	if err != nil {
		panic(err)
	}
	lp := processors.NewLightProvider(processors.LightConfig{Sampler: sampler, Processor: chain, Limits: sdktrace.NewSpanLimits()})
	tr := lp.Tracer("example")

	_, healthy := tr.Start(context.Background(), "GET /health")
	healthy.End()

	ctx, root := tr.Start(context.Background(), "GET /orders")
	_, query := tr.Start(ctx, "db.query")
	query.SetStatus(codes.Error, "timeout")
	query.End()
	root.End()

	if err := chain.ForceFlush(context.Background()); err != nil {
		panic(err)
	}
	for _, s := range exp.GetSpans() {
		fmt.Println(s.Name, "sampled:", s.SpanContext.IsSampled(), "status:", s.Status.Code)
	}
	lp.Close()
	_ = chain.Shutdown(context.Background())
	// Output:
	// db.query sampled: true status: Error
	// GET /orders sampled: true status: Unset
}
