// Package telemetry is the one call a Go service makes to get an
// OpenTelemetry tracing pipeline that samples by environment, redacts PII and
// ships traces and errors to Sentry — or, with environment variables only, to
// any OTLP backend or the console.
//
//	p, err := telemetry.Setup(ctx)
//	if err != nil { … }
//	defer p.Shutdown(context.Background())
//
// Application code then uses only the OpenTelemetry API (otel.Tracer,
// span.RecordError, otelhttp) plus the context helpers of this package
// (WithUser, WithRequestID, WithAttributes).
//
// Configuration precedence is: explicit Option > environment variable >
// default. A malformed value is an error from Setup naming the variable and
// the value (secrets such as the DSN key are never echoed).
package telemetry
