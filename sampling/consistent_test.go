package sampling

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// HeadSampled must be TraceIDRatioBased's decision bit for bit, or services
// using the SDK's sampler would disagree with ours.
func TestHeadSampledIsTraceIDRatioBased(t *testing.T) {
	ids := traceIDs(1, 20000)
	// Edge IDs: all zero and all one random bits.
	var lo, hi trace.TraceID
	lo[0], hi[0] = 1, 1
	for i := 8; i < 16; i++ {
		hi[i] = 0xff
	}
	ids = append(ids, lo, hi)
	for _, rate := range []float64{0, 1e-9, 0.001, 0.1, 0.25, 0.3, 0.5, 0.999, 1} {
		ref := sdktrace.TraceIDRatioBased(rate)
		for _, id := range ids {
			want := ref.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: id}).Decision == sdktrace.RecordAndSample
			if got := HeadSampled(id, rate); got != want {
				t.Fatalf("HeadSampled(%s, %g) = %v, TraceIDRatioBased says %v", id, rate, got, want)
			}
		}
	}
}

// A Sentry SDK samples when sample_rand < rate; SampleRand must make it agree.
func TestSampleRandAgreesWithHeadSampled(t *testing.T) {
	ids := traceIDs(2, 20000)
	for _, rate := range []float64{0.01, 0.1, 0.3, 0.5, 0.9} {
		for _, id := range ids {
			r := SampleRand(id)
			if r < 0 || r >= 1 {
				t.Fatalf("SampleRand(%s) = %v, not in [0, 1)", id, r)
			}
			if (r < rate) != HeadSampled(id, rate) {
				t.Fatalf("rate %g, id %s: sample_rand %v disagrees with HeadSampled %v", rate, id, r, HeadSampled(id, rate))
			}
		}
	}
	var max trace.TraceID
	for i := range max {
		max[i] = 0xff
	}
	if r := SampleRand(max); r >= 1 {
		t.Fatalf("SampleRand of all-ones ID = %v, want < 1", r)
	}
}

func TestHeadSampledDoesNotAllocate(t *testing.T) {
	id := traceIDs(3, 1)[0]
	if n := testing.AllocsPerRun(100, func() { _ = HeadSampled(id, 0.1) }); n != 0 {
		t.Fatalf("HeadSampled allocates %v times", n)
	}
}
