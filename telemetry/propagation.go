package telemetry

import (
	"slices"
	"strings"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/propagation"

	"github.com/otelsentry/otelsentry/sampling"
)

const envPropagators = "OTEL_PROPAGATORS"

// defaultPropagators: W3C trace context and baggage, and Sentry's headers so
// that services instrumented with Sentry SDKs continue our traces and we
// theirs.
var defaultPropagators = []string{"tracecontext", "baggage", "sentry"}

// propagator is the global text-map propagator Setup installs: those named by
// OTEL_PROPAGATORS (tracecontext, baggage, sentry, or none), else the
// defaults. Sentry's always runs last whatever the order given: it must see
// whether traceparent was extracted, and merge its entries into the baggage
// header the W3C baggage propagator wrote.
func (c *config) propagator() (propagation.TextMapPropagator, error) {
	names := defaultPropagators
	if v := strings.TrimSpace(c.getenv(envPropagators)); v != "" {
		names = nil
		for n := range strings.SplitSeq(v, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			if n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		if slices.Contains(names, "none") && len(names) > 1 {
			return nil, &configError{envPropagators, v, `"none" cannot be combined with other propagators`}
		}
	}
	var ps []propagation.TextMapPropagator
	withSentry := false
	for _, n := range names {
		switch n {
		case "tracecontext":
			ps = append(ps, propagation.TraceContext{})
		case "baggage":
			ps = append(ps, propagation.Baggage{})
		case "sentry":
			withSentry = true
		case "none":
		default:
			return nil, &configError{envPropagators, c.getenv(envPropagators),
				"unsupported propagator " + n + " (want tracecontext, baggage, sentry or none)"}
		}
	}
	if withSentry {
		ps = append(ps, sampling.NewSentryPropagator(sampling.PropagatorConfig{
			Environment: c.environment,
			Release:     c.release,
			PublicKey:   dsnPublicKey(c.dsn),
			SampleRate:  *c.sampling.rate,
		}))
	}
	return propagation.NewCompositeTextMapPropagator(ps...), nil
}

// dsnPublicKey is the DSN's public key, for sentry-public_key; "" without a
// valid DSN. It is sent to Sentry-instrumented peers (as Sentry SDKs do) and
// never logged.
func dsnPublicKey(dsn string) string {
	if dsn == "" {
		return ""
	}
	d, err := sentry.NewDsn(dsn)
	if err != nil {
		return ""
	}
	return d.GetPublicKey()
}
