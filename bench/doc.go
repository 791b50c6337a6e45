// Package bench measures the otelsentry pipeline side by side with what a
// team would use instead: the bare OpenTelemetry SDK, sentry-go's native
// tracing, a Go regexp scrubber and the OpenTelemetry Collector's
// redactionprocessor. It is its own module so that the library's go.mod
// does not carry the Collector's dependencies.
//
// Run everything with scripts/bench; see docs/PERFORMANCE.md for the method.
package bench
