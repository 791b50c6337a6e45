// Command sdkapp is the reference service (package app) traced by the bare
// OpenTelemetry SDK instead of otelsentry's pipeline: what a team would set
// up without otelsentry, configured only by the standard variables.
//
//   - sampler: the SDK's own reading of OTEL_TRACES_SAMPLER and
//     OTEL_TRACES_SAMPLER_ARG (bench/load sets parentbased_traceidratio, 0.1,
//     production's head rate);
//   - processor: the SDK's batch span processor (OTEL_BSP_* variables), which
//     drops spans when its queue is full and counts nothing;
//   - exporter: otlptracehttp, reading OTEL_EXPORTER_OTLP_* (endpoint,
//     compression, headers);
//   - propagation: W3C trace context and baggage.
//
// Nothing else of otelsentry runs: no tail keep (unsampled traces are not
// recorded, so their errors are not seen), no redaction, no error events,
// no drop accounting. bench/load runs it as B with -b sdk, to put the
// pipeline's load ratio beside the cheapest sampled OpenTelemetry set-up on
// the same service, machine and request mix.
//
// Its command line is the service's own subset that bench/load uses:
//
//	sdkapp -addr 127.0.0.1:0 -shutdown-timeout 20s [-cpuprofile file]
//
// It logs "msg=listening addr=…" once it listens and, on SIGTERM or
// SIGINT, drains requests, stops the service and flushes the SDK.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], nil); err != nil {
		fmt.Fprintln(os.Stderr, "sdkapp:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done; ready, if not nil, receives the bound
// address once the server listens.
func run(ctx context.Context, args []string, ready chan<- string) error {
	fs := flag.NewFlagSet("sdkapp", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	shutdownTimeout := fs.Duration("shutdown-timeout", 15*time.Second, "how long to drain requests and flush spans on shutdown")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("-cpuprofile %s: %w", *cpuProfile, err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(logger)

	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return fmt.Errorf("creating the OTLP exporter: %w", err)
	}
	// No sampler option: the SDK reads OTEL_TRACES_SAMPLER(_ARG) itself.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))

	environment := os.Getenv("ENVIRONMENT")
	if environment == "" {
		environment = "production"
	}
	svc, err := app.New(app.Config{Environment: environment, Logger: logger, TracerProvider: tp})
	if err != nil {
		return errors.Join(err, tp.Shutdown(context.Background()))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return errors.Join(fmt.Errorf("listening on %s: %w", *addr, err), tp.Shutdown(context.Background()))
	}
	srv := &http.Server{
		Handler:           svc.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	svc.Start(bgCtx)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "telemetry", "bare OpenTelemetry SDK")
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-serveErr:
		stopBG()
		return errors.Join(err, svc.Close(context.Background()), tp.Shutdown(context.Background()))
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("draining HTTP requests: %w", err))
	}
	stopBG()
	if err := svc.Close(sctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping the service: %w", err))
	}
	if err := tp.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("flushing spans: %w", err))
	}
	return errors.Join(errs...)
}
