// Command app runs the otelsentry reference service, and its tools:
//
//	app                 run the service (flags: -addr, -shutdown-timeout)
//	app redact …        redact stdin with the pipeline's engine (dry run)
//	app loadgen …       drive a realistic request mix at a running service
//
// The service is instrumented only with OpenTelemetry; telemetry.Setup picks
// the backend from the environment (console by default, Sentry with
// SENTRY_DSN, an OTLP collector with OTEL_TRACES_EXPORTER=otlp).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/otelsentry/otelsentry/app"
	"github.com/otelsentry/otelsentry/telemetry"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "redact":
			os.Exit(runRedact(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
		case "loadgen":
			os.Exit(runLoadgen(os.Args[2:], os.Stdout, os.Stderr))
		case "alerts":
			os.Exit(runAlerts(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runServe(ctx, os.Args[1:], os.Getenv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

// runServe runs the service until ctx is cancelled (a signal), then stops
// accepting connections, drains in-flight requests, stops the background
// scheduler and finally shuts the telemetry pipeline down, so nothing that
// happened before the signal is lost. ready, if not nil, receives the bound
// address once the server listens.
func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defaultAddr := ":8080"
	if p := getenv("PORT"); p != "" {
		defaultAddr = ":" + p
	}
	addr := fs.String("addr", defaultAddr, "listen address (default from PORT)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 15*time.Second, "how long to drain requests and flush telemetry on shutdown")
	spoolDir := fs.String("spool-dir", "", "where Sentry error events wait out a backend outage (default: OTELSENTRY_SPOOL_DIR, else the user cache dir; \"none\" turns the spool off)")
	faultRate := fs.Float64("fault-rate", 0, "share of /api requests and monitor checks given a random fault (demos; refused in production)")
	faultLatency := fs.Duration("fault-latency", time.Second, "latency the slow fault adds")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof reads it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	slog.SetDefault(logger)

	opts := []telemetry.Option{telemetry.WithLogger(logger), telemetry.WithConsoleWriter(stderr)}
	if dir := serviceSpoolDir(*spoolDir, getenv, logger); dir != "" {
		opts = append(opts, telemetry.WithSpoolDir(dir))
	}
	pipeline, err := telemetry.Setup(ctx, opts...)
	if err != nil {
		return err
	}
	svc, err := app.New(app.Config{Environment: pipeline.Environment(), Logger: logger, FaultRate: *faultRate, FaultLatency: *faultLatency})
	if err != nil {
		return errors.Join(err, pipeline.Shutdown(context.Background()))
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return errors.Join(fmt.Errorf("listening on %s: %w", *addr, err), pipeline.Shutdown(context.Background()))
	}
	// /metrics is the pipeline's own (drops, queue depths, redactions):
	// served beside the service, outside its tracing.
	root := http.NewServeMux()
	root.Handle("GET /metrics", pipeline.MetricsHandler())
	root.Handle("/", svc.Handler())
	srv := &http.Server{
		Handler:           root,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	svc.Start(bgCtx)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-serveErr:
		stopBG()
		return errors.Join(err, svc.Close(context.Background()), pipeline.Shutdown(context.Background()))
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests, then flushing telemetry", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	errs := []error{}
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("draining HTTP requests: %w", err))
	}
	stopBG()
	if err := svc.Close(sctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping the service: %w", err))
	}
	if err := pipeline.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("flushing telemetry: %w", err))
	}
	return errors.Join(errs...)
}

// serviceSpoolDir picks the error spool's directory. The library leaves the
// spool off by default; the service turns it on so an error captured during
// a Sentry outage survives it, and a restart: an explicit -spool-dir, else
// OTELSENTRY_SPOOL_DIR (read by telemetry itself), else a directory under
// the user cache dir, used only if it can be created ("" leaves the choice to
// telemetry).
func serviceSpoolDir(flagValue string, getenv func(string) string, logger *slog.Logger) string {
	switch {
	case flagValue == "none":
		return ""
	case flagValue != "":
		return flagValue
	case getenv("OTELSENTRY_SPOOL_DIR") != "" || getenv("SENTRY_DSN") == "":
		return ""
	}
	base, err := os.UserCacheDir()
	if err != nil {
		logger.Warn("error spool off: no user cache directory", "error", err)
		return ""
	}
	service := getenv("OTEL_SERVICE_NAME")
	if service == "" {
		service = "app"
	}
	dir := filepath.Join(base, "otelsentry", "spool", service)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		logger.Warn("error spool off: cannot create its directory", "dir", dir, "error", err)
		return ""
	}
	return dir
}

// startCPUProfile starts the -cpuprofile profile; the returned function
// stops it and closes the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile %s: %w", path, err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
