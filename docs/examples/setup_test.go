package examples_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"

	"github.com/otelsentry/otelsentry/processors/redact"
	"github.com/otelsentry/otelsentry/sampling"
	"github.com/otelsentry/otelsentry/telemetry"
)

// The one call in main, and the shutdown that flushes what is queued.
func Example_setup() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	p, err := telemetry.Setup(ctx)
	if err != nil {
		log.Fatal(err) // a malformed variable or option: the error names it
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Shutdown(sctx); err != nil {
			log.Print(err) // what could not be delivered, by stage
		}
	}()

	tracer := otel.Tracer("shop")
	_, span := tracer.Start(ctx, "startup")
	span.End()
}

// Every knob as an option; an option wins over its environment variable.
func Example_options() {
	ctx := context.Background()
	p, err := telemetry.Setup(ctx,
		telemetry.WithServiceName("checkout"),
		telemetry.WithEnvironment("staging"),
		telemetry.WithRelease("2024.06.1"),
		telemetry.WithDSN(os.Getenv("CHECKOUT_SENTRY_DSN")),
		telemetry.WithExporters("sentry", "otlp"),
		telemetry.WithSampleRate(0.5),
		telemetry.WithSamplingRules(sampling.Rule{Route: "GET /healthz", Rate: 0}),
		telemetry.WithTailLatency(3*time.Second),
		telemetry.WithErrorSampleRate(1),
		telemetry.WithRedaction(redact.Config{Disable: []string{"phone"}}),
		telemetry.WithQueueSize(16384),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Shutdown(context.Background())
}

// One server span per request, named by its route, with panics recorded on
// it; the pipeline's own counters beside the service.
func Example_httpServer() {
	p, err := telemetry.Setup(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	defer p.Shutdown(context.Background())

	mux := http.NewServeMux()
	route := func(pattern string, h http.HandlerFunc) {
		// Route first, then the span: it is born named "POST /api/orders",
		// with http.route set, which sampling rules and Sentry's
		// transaction names need.
		mux.Handle(pattern, otelhttp.NewHandler(telemetry.Recover(h), pattern))
	}
	route("POST /api/orders", createOrder)
	route("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("GET /metrics", p.MetricsHandler())

	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
	}
}

func createOrder(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }

// In tests: a private pipeline, nothing global, nothing exported.
func Example_testing() {
	ctx := context.Background()
	p, err := telemetry.Setup(ctx,
		telemetry.WithGlobals(false),
		telemetry.WithExporters("none"),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Shutdown(ctx)
	tracer := p.TracerProvider().Tracer("test")
	_, span := tracer.Start(ctx, "under test")
	span.End()
	st := p.Stats()
	log.Println(st.SpansStarted, st.Redactions["email"])
}
