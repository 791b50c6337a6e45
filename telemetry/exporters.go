package telemetry

import (
	"context"
	"fmt"
	"strings"

	sentryotlp "github.com/getsentry/sentry-go/otel/otlp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Exporter names accepted in OTEL_TRACES_EXPORTER and WithExporters.
const (
	ExporterSentry  = "sentry"
	ExporterOTLP    = "otlp"
	ExporterConsole = "console"
	ExporterNone    = "none"
)

// resolveExporters decides the exporter list: option, else
// OTEL_TRACES_EXPORTER (comma-separated), else sentry with a DSN and console
// without. Unknown names, and sentry without a DSN, are errors.
//
// contrib's autoexport is not used for the selection: it reads a single name
// from the variable (no comma list) and pre-registers "console" as the
// stdouttrace JSON dump, which this pipeline replaces with a readable tree.
func (c *config) resolveExporters() error {
	source, raw := "option", strings.Join(c.exporters, ",")
	if c.exporters == nil {
		source, raw = envTracesExporter, c.getenv(envTracesExporter)
	}
	var names []string
	for _, n := range strings.Split(raw, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		switch n {
		case ExporterSentry, ExporterOTLP, ExporterConsole, ExporterNone:
		default:
			return &configError{exporterSourceName(source), raw, fmt.Sprintf("unknown exporter %q (want sentry, otlp, console or none, comma-separated)", n)}
		}
		if !contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 && raw == "" {
		if c.dsn != "" {
			names = []string{ExporterSentry}
		} else {
			names = []string{ExporterConsole}
		}
	}
	if len(names) == 0 {
		return &configError{exporterSourceName(source), raw, "names no exporter"}
	}
	if contains(names, ExporterNone) && len(names) > 1 {
		return &configError{exporterSourceName(source), raw, `"none" cannot be combined with other exporters`}
	}
	if contains(names, ExporterSentry) && c.dsn == "" {
		return &configError{exporterSourceName(source), raw, "the sentry exporter needs SENTRY_DSN"}
	}
	c.exporters = names
	return nil
}

func exporterSourceName(source string) string {
	if source == "option" {
		return "WithExporters"
	}
	return source
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// newExporter builds one named exporter.
func (c *config) newExporter(ctx context.Context, name string) (sdktrace.SpanExporter, error) {
	switch name {
	case ExporterSentry:
		e, err := sentryotlp.NewTraceExporter(ctx, c.dsn, sentryotlp.WithCompression(otlptracehttp.GzipCompression))
		if err != nil {
			return nil, fmt.Errorf("telemetry: creating the sentry exporter for %s: %s", dsnHost(c.dsn), scrubDSN(err.Error()))
		}
		return e, nil
	case ExporterOTLP:
		return newOTLPExporter(ctx, c.getenv)
	case ExporterConsole:
		return NewConsoleExporter(c.consoleOut), nil
	}
	return nil, nil // none
}

// newOTLPExporter builds the OTLP exporter the way the OpenTelemetry
// specification (and contrib's autoexport) does: the protocol from
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL, default
// http/protobuf; every other OTEL_EXPORTER_OTLP_* variable is read by the
// exporter itself.
func newOTLPExporter(ctx context.Context, getenv func(string) string) (sdktrace.SpanExporter, error) {
	name, proto := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		name, proto = "OTEL_EXPORTER_OTLP_PROTOCOL", getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var (
		e   sdktrace.SpanExporter
		err error
	)
	switch strings.TrimSpace(proto) {
	case "", "http/protobuf":
		e, err = otlptracehttp.New(ctx)
	case "grpc":
		e, err = otlptracegrpc.New(ctx)
	default:
		return nil, &configError{name, proto, "unknown OTLP protocol (want http/protobuf or grpc)"}
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: creating the otlp exporter: %w", err)
	}
	return e, nil
}
