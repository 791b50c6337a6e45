package sampling

import (
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// TraceStateKey is the tracestate entry in which the [Sampler] records the
// head rate of a trace, as "r:<rate>" (for example "otelsentry=r:0.1").
//
// It is how a span learns the rate its local root was sampled at (a child's
// sampler sees only the parent's SpanContext), and how a downstream service
// learns it; the [SentryPropagator] puts it into sentry-sample_rate.
//
// It is not OpenTelemetry's "ot=th:" threshold on purpose: th promises that
// the decision compared the threshold with the trace ID's 56 low bits, while
// this package uses TraceIDRatioBased's bits (so that it agrees with every
// TraceIDRatioBased service); a th value would mislead consistent-probability
// samplers downstream.
const TraceStateKey = "otelsentry"

func rateValue(rate float64) string {
	return "r:" + strconv.FormatFloat(rate, 'f', -1, 64)
}

// parseRateValue reads a value written by rateValue.
func parseRateValue(v string) (float64, bool) {
	s, ok := strings.CutPrefix(v, "r:")
	if !ok {
		return 0, false
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r < 0 || r > 1 || r != r {
		return 0, false
	}
	return r, true
}

// RateFromTraceState returns the head rate a [Sampler] recorded in ts, and
// whether there was a valid one.
func RateFromTraceState(ts trace.TraceState) (float64, bool) {
	return parseRateValue(ts.Get(TraceStateKey))
}
