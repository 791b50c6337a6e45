package processors

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/sampling"
)

// seededIDs is a deterministic IDGenerator: trace and span IDs from a seeded
// PCG, so that every statistics run sees the same traces.
type seededIDs struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newSeededIDs(seed uint64) *seededIDs {
	return &seededIDs{rng: rand.New(rand.NewPCG(seed, 42))}
}

func (g *seededIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	g.mu.Lock()
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(tid[8:], g.rng.Uint64())
	g.mu.Unlock()
	return tid, g.NewSpanID(ctx, tid)
}

func (g *seededIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], g.rng.Uint64()|1)
	return sid
}

// traceExporter records what reaches the end of the chain, per trace. It
// sits behind a SimpleSpanProcessor, which (like the batch processor) drops
// unsampled spans.
type traceExporter struct {
	mu     sync.Mutex
	spans  map[trace.TraceID]int
	reason map[trace.TraceID]string
	bad    error
}

func newTraceExporter() *traceExporter {
	return &traceExporter{spans: map[trace.TraceID]int{}, reason: map[trace.TraceID]string{}}
}

func (e *traceExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range spans {
		id := s.SpanContext().TraceID()
		e.spans[id]++
		var reason string
		var rate float64 = -1
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case sampling.AttrReason:
				reason = kv.Value.AsString()
			case sampling.AttrSampleRate:
				rate = kv.Value.AsFloat64()
			}
		}
		if reason == "" || rate < 0 || (reason != "head" && rate != 1) {
			e.bad = errors.Join(e.bad, errors.New("span "+s.Name()+" exported without sampling.reason/sentry.sample_rate"))
		}
		if prev, ok := e.reason[id]; ok && prev != reason {
			e.bad = errors.Join(e.bad, errors.New("trace exported with reasons "+prev+" and "+reason))
		}
		e.reason[id] = reason
	}
	return nil
}

func (e *traceExporter) Shutdown(context.Context) error { return nil }

// pipeline is the real chain for statistics: sampler, keep stage, exporter.
type pipeline struct {
	tp  *sdktrace.TracerProvider
	exp *traceExporter
	k   *sampling.Keeper
}

func newPipeline(t testing.TB, rate float64, seed uint64) *pipeline {
	t.Helper()
	s, err := sampling.NewSampler(rate)
	if err != nil {
		t.Fatal(err)
	}
	exp := newTraceExporter()
	k := sampling.NewKeeper(sampling.KeepConfig{})
	chain := NewChain(sdktrace.NewSimpleSpanProcessor(exp), Keep(k))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithSpanProcessor(chain),
		sdktrace.WithIDGenerator(newSeededIDs(seed)))
	return &pipeline{tp: tp, exp: exp, k: k}
}

type traceKind int

const (
	healthy traceKind = iota
	failing
	slow
)

// run generates one local trace: a server root with three children, a failure
// in the second child or a root that lasted 3 s, as kind says.
func (p *pipeline) run(kind traceKind) (trace.TraceID, bool) { return p.runN(kind, 3) }

func (p *pipeline) runN(kind traceKind, children int) (trace.TraceID, bool) {
	tr := p.tp.Tracer("stats")
	var opts []trace.SpanStartOption
	if kind == slow {
		opts = append(opts, trace.WithTimestamp(time.Now().Add(-3*time.Second)))
	}
	ctx, root := tr.Start(context.Background(), "GET /api/items", opts...)
	for i := range children {
		_, c := tr.Start(ctx, "db.query")
		if kind == failing && i == 1 {
			c.RecordError(errors.New("connection reset"))
			c.SetStatus(codes.Error, "connection reset")
		}
		c.End()
	}
	root.End()
	return root.SpanContext().TraceID(), root.SpanContext().IsSampled()
}

// statTraces is the number of traces of each statistics run: 100 000, or
// 20 000 under the race detector, which slows the SDK tenfold (±1 % is still
// more than 4 standard deviations at 20 000 traces).
var statTraces = map[bool]int{false: 100_000, true: 20_000}[raceEnabled]

func TestKeepExportsTheEnvironmentRate(t *testing.T) {
	for _, env := range []string{"development", "staging", "production"} {
		rate, _ := sampling.EnvironmentRate(env)
		p := newPipeline(t, rate, 1)
		for range statTraces {
			p.runN(healthy, 1)
		}
		got := float64(len(p.exp.spans)) / float64(statTraces)
		t.Logf("%s: rate %v, exported %.4f of %d traces", env, rate, got, statTraces)
		if got < rate-0.01 || got > rate+0.01 {
			t.Errorf("%s: exported %.4f of traces, want %v ± 0.01", env, got, rate)
		}
		for id, n := range p.exp.spans {
			if n != 2 || p.exp.reason[id] != "head" {
				t.Fatalf("%s: trace %s exported %d spans with reason %q, want 2 with head", env, id, n, p.exp.reason[id])
			}
		}
		if p.exp.bad != nil {
			t.Fatal(p.exp.bad)
		}
		if st := p.k.Stats(); st.HeldSpans != 0 || st.KeptSpans != 0 || dropped(st) != st.DroppedSpans[sampling.DropSampledOut] {
			t.Fatalf("%s: keeper %+v", env, st)
		}
	}
}

func dropped(st sampling.Stats) (n uint64) {
	for _, d := range st.DroppedSpans {
		n += d
	}
	return n
}

// At production's 0.1, 2 % of traces fail (or are slow): every one of them
// is exported with all its local spans, and the rest at the head rate.
func TestKeepExportsEveryFailingAndSlowTrace(t *testing.T) {
	for _, kind := range []traceKind{failing, slow} {
		name := map[traceKind]string{failing: "error", slow: "latency"}[kind]
		p := newPipeline(t, 0.1, 2)
		pick := rand.New(rand.NewPCG(3, 4))
		special := map[trace.TraceID]bool{} // trace → head-sampled
		headSampled := 0
		for range statTraces {
			k := healthy
			if pick.Float64() < 0.02 {
				k = kind
			}
			id, sampled := p.run(k)
			if sampled {
				headSampled++
			}
			if k != healthy {
				special[id] = sampled
			}
		}
		for id, sampled := range special {
			if n := p.exp.spans[id]; n != 4 {
				t.Fatalf("%s trace %s: %d of 4 spans exported", name, id, n)
			}
			want := name
			if sampled {
				want = "head"
			}
			if got := p.exp.reason[id]; got != want {
				t.Fatalf("%s trace %s exported with reason %q, want %q", name, id, got, want)
			}
		}
		if p.exp.bad != nil {
			t.Fatal(p.exp.bad)
		}
		tail := 0
		for _, sampled := range special {
			if !sampled {
				tail++
			}
		}
		if want := headSampled + tail; len(p.exp.spans) != want {
			t.Fatalf("exported %d traces, want %d head-sampled + %d tail-kept", len(p.exp.spans), headSampled, tail)
		}
		got, want := float64(len(p.exp.spans))/float64(statTraces), 0.1+0.02*0.9
		t.Logf("%s: %d special traces, all exported whole; exported %.4f of traces (expected %.3f)", name, len(special), got, want)
		if got < want-0.01 || got > want+0.01 {
			t.Errorf("exported %.4f of traces, want %.3f ± 0.01", got, want)
		}
		st := p.k.Stats()
		if st.HeldSpans != 0 || st.KeptSpans != uint64(4*tail) ||
			dropped(st) != st.DroppedSpans[sampling.DropSampledOut] {
			t.Fatalf("keeper %+v", st)
		}
	}
}

// Two services given the same trace IDs make the same head decisions, and
// so does the SDK's own TraceIDRatioBased.
func TestTwoServicesMakeIdenticalHeadDecisions(t *testing.T) {
	a, b := newPipeline(t, 0.3, 9), newPipeline(t, 0.3, 9)
	ref := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.TraceIDRatioBased(0.3)), sdktrace.WithIDGenerator(newSeededIDs(9)))
	sampled := 0
	for i := range statTraces {
		_, sa := a.tp.Tracer("a").Start(context.Background(), "a")
		_, sb := b.tp.Tracer("b").Start(context.Background(), "b")
		_, sr := ref.Tracer("ref").Start(context.Background(), "ref")
		if sa.SpanContext().TraceID() != sb.SpanContext().TraceID() || sa.SpanContext().TraceID() != sr.SpanContext().TraceID() {
			t.Fatal("the ID generators diverged")
		}
		if sa.SpanContext().IsSampled() != sb.SpanContext().IsSampled() || sa.SpanContext().IsSampled() != sr.SpanContext().IsSampled() {
			t.Fatalf("trace %d (%s): service A %v, service B %v, TraceIDRatioBased %v", i, sa.SpanContext().TraceID(),
				sa.SpanContext().IsSampled(), sb.SpanContext().IsSampled(), sr.SpanContext().IsSampled())
		}
		if sa.SpanContext().IsSampled() {
			sampled++
		}
		sa.End()
		sb.End()
		sr.End()
	}
	if f := float64(sampled) / float64(statTraces); f < 0.29 || f > 0.31 {
		t.Fatalf("sampled %.4f at rate 0.3", f)
	}
}

// recordingNext is the next link of a chain, recording what it is given.
type recordingNext struct {
	mu               sync.Mutex
	ended            []sdktrace.ReadOnlySpan
	started          int
	flushed, stopped int
}

func (r *recordingNext) OnStart(context.Context, sdktrace.ReadWriteSpan) {
	r.mu.Lock()
	r.started++
	r.mu.Unlock()
}

func (r *recordingNext) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	r.ended = append(r.ended, s)
	r.mu.Unlock()
}

func (r *recordingNext) ForceFlush(context.Context) error { r.flushed++; return nil }
func (r *recordingNext) Shutdown(context.Context) error   { r.stopped++; return nil }

func TestKeepStage(t *testing.T) {
	next := &recordingNext{}
	k := sampling.NewKeeper(sampling.KeepConfig{})
	s, _ := sampling.NewSampler(0)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithSpanProcessor(NewChain(next, Keep(k))))
	tr := tp.Tracer("keep")

	// Head-sampled: passed on as the very span the SDK ended.
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true}))
	_, sampled := tr.Start(ctx, "sampled")
	sampled.End()
	if len(next.ended) != 1 {
		t.Fatalf("head-sampled span: %d spans handed on", len(next.ended))
	}
	if _, isView := next.ended[0].(*View); isView || !next.ended[0].SpanContext().IsSampled() {
		t.Fatal("head-sampled span was wrapped")
	}

	// Failing, unsampled: handed on as sampled views with the reason added.
	ctx, root := tr.Start(context.Background(), "root", trace.WithAttributes(attribute.String("a", "b")))
	_, child := tr.Start(ctx, "child")
	child.SetStatus(codes.Error, "boom")
	child.End()
	root.End()
	if len(next.ended) != 3 {
		t.Fatalf("failing trace: %d spans handed on, want 3", len(next.ended))
	}
	for _, s := range next.ended[1:] {
		v, ok := s.(*View)
		if !ok || !s.SpanContext().IsSampled() {
			t.Fatalf("kept span %q not a sampled view", s.Name())
		}
		if v.Original().SpanContext().IsSampled() {
			t.Fatal("the original span changed")
		}
		got := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes() {
			got[kv.Key] = kv.Value
		}
		if got[sampling.AttrReason].AsString() != "error" || got[sampling.AttrSampleRate].AsFloat64() != 1 {
			t.Fatalf("kept span %q attributes %v", s.Name(), s.Attributes())
		}
		if s.Name() == "root" && got["a"].AsString() != "b" {
			t.Fatalf("kept span lost its own attributes: %v", s.Attributes())
		}
	}
	if next.started != 3 {
		t.Fatalf("next saw %d starts, want 3", next.started)
	}

	// Undecided at Shutdown: counted, and next is shut down.
	ctx, open := tr.Start(context.Background(), "open")
	_, c := tr.Start(ctx, "c")
	c.End()
	if err := tp.ForceFlush(context.Background()); err != nil || next.flushed != 1 {
		t.Fatalf("ForceFlush: %v, next flushed %d times", err, next.flushed)
	}
	if err := tp.Shutdown(context.Background()); err != nil || next.stopped != 1 {
		t.Fatalf("Shutdown: %v, next stopped %d times", err, next.stopped)
	}
	open.End()
	if st := k.Stats(); st.DroppedSpans[sampling.DropShutdown] != 1 || len(next.ended) != 3 {
		t.Fatalf("after Shutdown: %+v, %d spans handed on", st, len(next.ended))
	}
}

// The keep stage adds no allocation to a head-sampled span, nor, in steady
// state, to a span that is held and dropped.
func TestKeepStageAllocations(t *testing.T) {
	for _, rate := range []float64{1, 0} {
		s, _ := sampling.NewSampler(rate)
		bare := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithSpanProcessor(discard{}))
		kept := sdktrace.NewTracerProvider(sdktrace.WithSampler(s),
			sdktrace.WithSpanProcessor(NewChain(discard{}, Keep(sampling.NewKeeper(sampling.KeepConfig{})))))
		measure := func(tp *sdktrace.TracerProvider) float64 {
			tr := tp.Tracer("allocs")
			return testing.AllocsPerRun(1000, func() {
				ctx, root := tr.Start(context.Background(), "root")
				_, c := tr.Start(ctx, "child")
				c.End()
				root.End()
			})
		}
		b, k := measure(bare), measure(kept)
		t.Logf("rate %v: %v allocs per trace of 2 spans without the keep stage, %v with it", rate, b, k)
		if k > b {
			t.Errorf("rate %v: the keep stage adds %v allocations per trace", rate, k-b)
		}
	}
}
