package sampling

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// seqIDs is a deterministic sdktrace.IDGenerator: trace and span IDs from a
// seeded PCG, so that statistics tests are reproducible.
type seqIDs struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newSeqIDs(seed uint64) *seqIDs {
	return &seqIDs{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *seqIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(tid[8:], g.rng.Uint64())
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], g.rng.Uint64()|1)
	return tid, sid
}

func (g *seqIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], g.rng.Uint64()|1)
	return sid
}

// traceIDs returns n deterministic trace IDs.
func traceIDs(seed uint64, n int) []trace.TraceID {
	g := newSeqIDs(seed)
	ids := make([]trace.TraceID, n)
	for i := range ids {
		ids[i], _ = g.NewIDs(context.Background())
	}
	return ids
}

func mustSampler(t testing.TB, rate float64, opts ...Option) *Sampler {
	t.Helper()
	s, err := NewSampler(rate, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rootParams(id trace.TraceID, name string) sdktrace.SamplingParameters {
	return sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: id, Name: name}
}
