package sampling

import (
	"encoding/binary"

	"go.opentelemetry.io/otel/trace"
)

// A head decision is a pure function of the trace ID and the rate, computed
// exactly as sdktrace.TraceIDRatioBased computes it: the last 8 bytes of the
// trace ID, big-endian, shifted right by one, compared with rate·2⁶³. Every
// service of a trace that uses the same rate — ours, or any OpenTelemetry SDK
// configured with TraceIDRatioBased — therefore makes the same decision, and
// a service with a higher rate samples a superset of the traces a service
// with a lower rate samples.

// ratioBound is the exclusive upper bound of the 63 random bits that rate
// samples, as TraceIDRatioBased computes it.
func ratioBound(rate float64) uint64 {
	switch {
	case rate >= 1:
		return 1 << 63 // every 63-bit value is below it
	case rate <= 0 || rate != rate:
		return 0
	}
	return uint64(rate * (1 << 63))
}

// traceBits are the 63 random bits of id that the decision uses.
func traceBits(id trace.TraceID) uint64 {
	return binary.BigEndian.Uint64(id[8:16]) >> 1
}

// HeadSampled reports whether a trace with this ID is sampled at rate. It is
// the decision sdktrace.TraceIDRatioBased(rate) makes, and it does not
// allocate.
func HeadSampled(id trace.TraceID, rate float64) bool {
	return traceBits(id) < ratioBound(rate)
}

// SampleRand is the trace's random value in [0, 1) as Sentry's
// sentry-sample_rand carries it: a Sentry SDK samples a trace at rate when
// sample_rand < rate, which is the decision [HeadSampled] makes (up to the 53
// bits of a float64, and the 6 decimals Sentry keeps on the wire).
func SampleRand(id trace.TraceID) float64 {
	// The top 53 of the 63 bits, so the value is exact and never rounds up to 1.
	return float64(traceBits(id)>>10) / (1 << 53)
}
