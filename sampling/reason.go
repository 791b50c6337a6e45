package sampling

import "go.opentelemetry.io/otel/attribute"

// Attributes every exported span carries.
const (
	// AttrReason says why the span was exported: "head", "error" or "latency".
	AttrReason = attribute.Key("sampling.reason")
	// AttrSampleRate is the probability with which the span was kept, so that
	// a backend can weight it by 1/rate when it extrapolates counts. It is
	// the head rate for head-sampled spans and 1 for tail-kept ones: a local
	// trace that fails or is slow is kept with certainty.
	AttrSampleRate = attribute.Key("sentry.sample_rate")
)

// Reason is why a span was exported.
type Reason uint8

// The reasons, in the order of priority the keeper applies when a trace
// meets several.
const (
	ReasonNone    Reason = iota // not (yet) kept
	ReasonHead                  // the head decision sampled the trace
	ReasonError                 // a span of the local trace failed
	ReasonLatency               // the local root lasted longer than the threshold
)

// String returns the value of the sampling.reason attribute.
func (r Reason) String() string {
	switch r {
	case ReasonHead:
		return "head"
	case ReasonError:
		return "error"
	case ReasonLatency:
		return "latency"
	}
	return "none"
}

// keptAttributes are added to every tail-kept span, one pre-built slice per
// reason so that the keep stage does not build them per span.
var keptAttributes = [...][]attribute.KeyValue{
	ReasonError:   {AttrReason.String(ReasonError.String()), AttrSampleRate.Float64(1)},
	ReasonLatency: {AttrReason.String(ReasonLatency.String()), AttrSampleRate.Float64(1)},
}

// KeptAttributes returns the attributes a span kept for reason r carries
// (sampling.reason and sentry.sample_rate). The slice is shared: callers must
// not modify it. It is empty for ReasonNone and ReasonHead (head-sampled spans
// get theirs from the [Sampler]).
func KeptAttributes(r Reason) []attribute.KeyValue {
	if int(r) < len(keptAttributes) {
		return keptAttributes[r]
	}
	return nil
}
