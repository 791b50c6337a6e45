//go:build tools

package bench

// The modules the benchmarks compare against, pinned here until the
// benchmark files import them.
import (
	_ "github.com/getsentry/sentry-go"
	_ "github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	_ "github.com/otelsentry/otelsentry/telemetry"
	_ "go.opentelemetry.io/collector/pdata/ptrace"
	_ "go.opentelemetry.io/collector/processor/processortest"
	_ "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	_ "go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	_ "go.opentelemetry.io/otel/sdk/trace"
)
