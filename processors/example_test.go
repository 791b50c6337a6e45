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

// A chain with tail keep, the spans of unsampled traces recorded lightly:
// at head rate 0, the healthy trace is dropped and the failing one is
// exported whole, marked sampled. telemetry.Setup builds this (and more).
func ExampleRecordUnsampled() {
	exp := tracetest.NewInMemoryExporter()
	chain := processors.NewChain(processors.NewBatcher(exp, processors.BatchConfig{}),
		processors.Keep(sampling.NewKeeper(sampling.KeepConfig{})))
	sampler, err := sampling.NewSampler(0, sampling.WithLightRecording(true))
	if err != nil {
		panic(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(chain))
	rec := processors.RecordUnsampled(tp, processors.RecordConfig{Processor: chain, Limits: sdktrace.NewSpanLimits()})
	tr := rec.Tracer("example")

	_, healthy := tr.Start(context.Background(), "GET /health")
	healthy.End()

	ctx, root := tr.Start(context.Background(), "GET /orders")
	_, query := tr.Start(ctx, "db.query")
	query.SetStatus(codes.Error, "timeout")
	query.End()
	root.End()

	if err := tp.ForceFlush(context.Background()); err != nil {
		panic(err)
	}
	for _, s := range exp.GetSpans() {
		fmt.Println(s.Name, "sampled:", s.SpanContext.IsSampled(), "status:", s.Status.Code)
	}
	rec.Close()
	_ = tp.Shutdown(context.Background())
	// Output:
	// db.query sampled: true status: Error
	// GET /orders sampled: true status: Unset
}
