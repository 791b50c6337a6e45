package examples_test

import (
	"context"
	"log"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/processors"
	"github.com/otelsentry/otelsentry/telemetry"
)

// A job of your own checks in to a monitor it names. Reported when it ends;
// name it in CronsConfig.SpanNames to also report it when it starts.
func nightlyExport(ctx context.Context) {
	_, span := tracer.Start(ctx, "nightly-export", trace.WithNewRoot(), trace.WithAttributes(
		attribute.String("monitor.slug", "nightly-export"),
		attribute.Int64("monitor.interval", int64((24*time.Hour).Seconds())),
	))
	defer span.End()
	// … the job; span.SetStatus(codes.Error, …) reports a failed run.
}

func Example_cronJob() {
	nightlyExport(context.Background())
}

// The Crons bridge's settings: more job span names, a monitor per
// intelligence monitor, every run reported.
func Example_cronsConfig() {
	crons := processors.DefaultCronsConfig()
	crons.SpanNames = append(crons.SpanNames, "job.run")
	crons.PerMonitor = true // one Sentry monitor (billed) per monitor.id
	crons.MinSpacing = 0
	p, err := telemetry.Setup(context.Background(), telemetry.WithCrons(crons))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Shutdown(context.Background())
}
