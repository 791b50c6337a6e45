package sampling

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// world builds spans (as the SDK would end them) and drives a Keeper,
// recording what it emits.
type world struct {
	t       testing.TB
	k       *Keeper
	mu      sync.Mutex
	emitted []emitted
	given   uint64 // spans passed to OnEnd
	nextSID uint64
}

type emitted struct {
	span   sdktrace.ReadOnlySpan
	reason Reason
}

func newWorld(t testing.TB, cfg KeepConfig) *world {
	return &world{t: t, k: NewKeeper(cfg)}
}

func (w *world) emit(s sdktrace.ReadOnlySpan, r Reason) {
	w.mu.Lock()
	w.emitted = append(w.emitted, emitted{s, r})
	w.mu.Unlock()
}

// span is an unsampled span of trace id; parent is its parent's SpanID
// (zero for a root), remote makes the parent remote.
type span struct {
	w      *world
	stub   tracetest.SpanStub
	parent trace.SpanContext
}

func (w *world) tid(n uint64) trace.TraceID {
	var id trace.TraceID
	id[0] = 1
	for i := 0; i < 8; i++ {
		id[15-i] = byte(n >> (8 * i))
	}
	return id
}

func (w *world) newSpan(id trace.TraceID, parent trace.SpanContext, start time.Time) *span {
	w.mu.Lock()
	w.nextSID++
	var sid trace.SpanID
	sid[0] = 2
	for i := 0; i < 7; i++ {
		sid[7-i] = byte(w.nextSID >> (8 * i))
	}
	w.mu.Unlock()
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: id, SpanID: sid})
	s := &span{w: w, parent: parent, stub: tracetest.SpanStub{Name: "op", SpanContext: sc, Parent: parent, StartTime: start}}
	w.k.OnStart(s.stub.Snapshot(), w.emit)
	return s
}

// root starts a local root at start (remote: under a remote parent).
func (w *world) root(id trace.TraceID, start time.Time, remote bool) *span {
	var parent trace.SpanContext
	if remote {
		parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: id, SpanID: trace.SpanID{9, 9}, Remote: true})
	}
	return w.newSpan(id, parent, start)
}

func (s *span) child(start time.Time) *span {
	return s.w.newSpan(s.stub.SpanContext.TraceID(), s.stub.SpanContext, start)
}

func (s *span) fail() *span {
	s.stub.Status = sdktrace.Status{Code: codes.Error, Description: "boom"}
	return s
}

func (s *span) exception() *span {
	s.stub.Events = append(s.stub.Events, sdktrace.Event{Name: "exception"})
	return s
}

func (s *span) end(at time.Time) sdktrace.ReadOnlySpan {
	s.stub.EndTime = at
	ro := s.stub.Snapshot()
	s.w.mu.Lock()
	s.w.given++
	s.w.mu.Unlock()
	s.w.k.OnEnd(ro, s.w.emit)
	return ro
}

// reasons counts the emitted spans per trace and reason.
func (w *world) emittedOf(id trace.TraceID) (n int, reasons map[Reason]int) {
	reasons = map[Reason]int{}
	for _, e := range w.emitted {
		if e.span.SpanContext().TraceID() == id {
			n++
			reasons[e.reason]++
		}
	}
	return n, reasons
}

// checkConservation: every span given is kept, dropped (with a reason) or
// held — none silently lost.
func (w *world) checkConservation() Stats {
	w.t.Helper()
	st := w.k.Stats()
	var dropped uint64
	for _, d := range st.DroppedSpans {
		dropped += d
	}
	if got := st.KeptSpans + dropped + uint64(st.HeldSpans); got != w.given {
		w.t.Fatalf("kept %d + dropped %d + held %d = %d, want the %d spans given (%+v)",
			st.KeptSpans, dropped, st.HeldSpans, got, w.given, st)
	}
	if st.KeptSpans != uint64(len(w.emitted)) {
		w.t.Fatalf("KeptSpans %d, but %d spans emitted", st.KeptSpans, len(w.emitted))
	}
	return st
}

func TestKeeperKeepsFailingTraceWhole(t *testing.T) {
	for _, how := range []string{"status", "exception"} {
		t.Run(how, func(t *testing.T) {
			w := newWorld(t, KeepConfig{})
			id := w.tid(1)
			r := w.root(id, t0, false)
			c1 := r.child(t0.Add(time.Millisecond))
			c2 := r.child(t0.Add(2 * time.Millisecond))
			g := c1.child(t0.Add(3 * time.Millisecond))
			g.end(t0.Add(4 * time.Millisecond))
			c1.end(t0.Add(5 * time.Millisecond))
			if len(w.emitted) != 0 {
				t.Fatalf("emitted %d spans before the trace failed", len(w.emitted))
			}
			if how == "status" {
				c2.fail()
			} else {
				c2.exception()
			}
			c2.end(t0.Add(6 * time.Millisecond))
			if n, _ := w.emittedOf(id); n != 3 {
				t.Fatalf("on failure %d spans emitted, want the 3 ended so far", n)
			}
			r.end(t0.Add(7 * time.Millisecond))
			n, reasons := w.emittedOf(id)
			if n != 4 || reasons[ReasonError] != 4 {
				t.Fatalf("emitted %d spans %v, want 4 with reason error", n, reasons)
			}
			st := w.checkConservation()
			if st.KeptErrorTraces != 1 || st.HeldSpans != 0 || st.HeldTraces != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestKeeperDropsFastTrace(t *testing.T) {
	w := newWorld(t, KeepConfig{})
	id := w.tid(1)
	r := w.root(id, t0, true)
	r.child(t0).end(t0.Add(time.Millisecond))
	r.child(t0).end(t0.Add(time.Millisecond))
	r.end(t0.Add(1999 * time.Millisecond))
	if len(w.emitted) != 0 {
		t.Fatalf("emitted %d spans of a fast, healthy trace", len(w.emitted))
	}
	st := w.checkConservation()
	if st.DroppedSpans[DropSampledOut] != 3 || st.DroppedTraces != 1 || st.HeldTraces != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestKeeperKeepsSlowTrace(t *testing.T) {
	w := newWorld(t, KeepConfig{Latency: 2 * time.Second})
	id := w.tid(1)
	r := w.root(id, t0, false)
	r.child(t0).end(t0.Add(100 * time.Millisecond))
	r.child(t0).end(t0.Add(200 * time.Millisecond))
	r.end(t0.Add(2001 * time.Millisecond))
	n, reasons := w.emittedOf(id)
	if n != 3 || reasons[ReasonLatency] != 3 {
		t.Fatalf("emitted %d %v, want 3 with reason latency", n, reasons)
	}
	if st := w.checkConservation(); st.KeptLatencyTraces != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A root open longer than Latency will end slow: its trace is kept as soon
// as any span shows the time, and its spans pass through from then on.
func TestKeeperDecidesSlowTraceEarly(t *testing.T) {
	w := newWorld(t, KeepConfig{Latency: 2 * time.Second})
	slow := w.tid(1)
	r := w.root(slow, t0, false)
	r.child(t0).end(t0.Add(time.Second))
	other := w.root(w.tid(2), t0.Add(2500*time.Millisecond), false)
	if n, reasons := w.emittedOf(slow); n != 1 || reasons[ReasonLatency] != 1 {
		t.Fatalf("after 2.5 s: emitted %d %v of the slow trace, want its held span", n, reasons)
	}
	if st := w.k.Stats(); st.HeldSpans != 0 {
		t.Fatalf("held %d spans of a trace already decided", st.HeldSpans)
	}
	r.child(t0).end(t0.Add(2600 * time.Millisecond))
	r.end(t0.Add(3 * time.Second))
	other.end(t0.Add(2600 * time.Millisecond))
	if n, reasons := w.emittedOf(slow); n != 3 || reasons[ReasonLatency] != 3 {
		t.Fatalf("emitted %d %v, want 3 with reason latency", n, reasons)
	}
	st := w.checkConservation()
	if st.KeptLatencyTraces != 1 || st.DroppedTraces != 1 || st.HeldTraces != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Two requests of one trace in one process: the local trace is decided when
// the last local root ends.
func TestKeeperSeveralLocalRoots(t *testing.T) {
	w := newWorld(t, KeepConfig{})
	id := w.tid(1)
	r1 := w.root(id, t0, true)
	r2 := w.root(id, t0.Add(time.Millisecond), true)
	r1.end(t0.Add(10 * time.Millisecond))
	if st := w.k.Stats(); st.HeldSpans != 1 || st.DroppedTraces != 0 {
		t.Fatalf("decided before the second root ended: %+v", st)
	}
	r2.child(t0).fail().end(t0.Add(20 * time.Millisecond))
	r2.end(t0.Add(30 * time.Millisecond))
	if n, reasons := w.emittedOf(id); n != 3 || reasons[ReasonError] != 3 {
		t.Fatalf("emitted %d %v, want both roots and the failed child", n, reasons)
	}
	w.checkConservation()
}

func TestKeeperLateChildren(t *testing.T) {
	w := newWorld(t, KeepConfig{RecentDecisions: 2})
	kept, dropped, forgotten := w.tid(1), w.tid(2), w.tid(3)
	rk := w.root(kept, t0, false)
	ck := rk.child(t0)
	rk.fail().end(t0.Add(time.Millisecond))
	rd := w.root(dropped, t0, false)
	cd := rd.child(t0)
	rd.end(t0.Add(time.Millisecond))
	ck.end(t0.Add(2 * time.Millisecond))
	cd.end(t0.Add(2 * time.Millisecond))
	if n, reasons := w.emittedOf(kept); n != 2 || reasons[ReasonError] != 2 {
		t.Fatalf("a child ending after its kept root: emitted %d %v", n, reasons)
	}
	if n, _ := w.emittedOf(dropped); n != 0 {
		t.Fatalf("a child ending after its dropped root was emitted")
	}
	// Fill the memory of decisions (2) so that forgotten's is lost.
	rf := w.root(forgotten, t0, false)
	cf := rf.child(t0)
	rf.end(t0.Add(time.Millisecond))
	w.root(w.tid(4), t0, false).end(t0.Add(time.Millisecond))
	w.root(w.tid(5), t0, false).end(t0.Add(time.Millisecond))
	cf.end(t0.Add(2 * time.Millisecond))
	st := w.checkConservation()
	if st.DroppedSpans[DropLate] != 1 {
		t.Fatalf("a child of a forgotten trace: stats %+v, want 1 late drop", st)
	}
}

func TestKeeperTraceLimit(t *testing.T) {
	w := newWorld(t, KeepConfig{MaxSpansPerTrace: 50})
	id := w.tid(1)
	r := w.root(id, t0, false)
	for i := 0; i < 100; i++ {
		r.child(t0).end(t0.Add(time.Millisecond))
	}
	if st := w.k.Stats(); st.HeldSpans != 50 || st.DroppedSpans[DropTraceLimit] != 50 {
		t.Fatalf("stats %+v, want 50 held and 50 dropped for the trace limit", st)
	}
	r.child(t0).fail().end(t0.Add(2 * time.Millisecond))
	r.end(t0.Add(3 * time.Millisecond))
	if n, reasons := w.emittedOf(id); n != 52 || reasons[ReasonError] != 52 {
		t.Fatalf("emitted %d %v, want the 50 held, the failing child and the root", n, reasons)
	}
	w.checkConservation()
}

func TestKeeperMaxAge(t *testing.T) {
	w := newWorld(t, KeepConfig{Latency: -1, MaxAge: time.Minute})
	old := w.tid(1)
	r := w.root(old, t0, false)
	r.child(t0).end(t0.Add(time.Second))
	w.root(w.tid(2), t0.Add(61*time.Second), false)
	st := w.checkConservation()
	if st.DroppedSpans[DropExpired] != 1 || st.HeldSpans != 0 || st.HeldTraces != 1 {
		t.Fatalf("stats %+v, want the old trace's span expired", st)
	}
	r.fail().end(t0.Add(62 * time.Second))
	if n, _ := w.emittedOf(old); n != 0 {
		t.Fatalf("an expired trace's root was emitted")
	}
	if st := w.checkConservation(); st.DroppedSpans[DropExpired] != 2 {
		t.Fatalf("the expired trace's root: stats %+v", st)
	}
}

// The flood: far more open traces and spans than every bound. Memory held
// stays within MaxSpans, and every span is accounted for.
func TestKeeperBoundedUnderFlood(t *testing.T) {
	const maxSpans = 1000
	w := newWorld(t, KeepConfig{MaxSpans: maxSpans, MaxSpansPerTrace: 20, RecentDecisions: 64})
	var roots []*span
	for i := range 5000 { // 5 × MaxSpans traces, none ends: nothing is ever decided by the policy
		at := t0.Add(time.Duration(i) * time.Microsecond)
		r := w.root(w.tid(uint64(i)), at, i%2 == 0)
		for range 30 { // 1.5 × MaxSpansPerTrace
			r.child(at).end(at)
		}
		roots = append(roots, r)
		if st := w.k.Stats(); st.HeldSpans > maxSpans || st.HeldTraces > maxSpans {
			t.Fatalf("after %d traces: held %d spans, %d traces; bound %d", i+1, st.HeldSpans, st.HeldTraces, maxSpans)
		}
	}
	st := w.checkConservation()
	if st.DroppedSpans[DropOverflow] == 0 || st.DroppedSpans[DropTraceLimit] == 0 {
		t.Fatalf("flood not counted: %+v", st)
	}
	// Roots of evicted traces end later: dropped and counted, never held.
	for _, r := range roots {
		r.end(t0.Add(time.Second))
	}
	st = w.checkConservation()
	if st.HeldSpans != 0 || st.HeldTraces != 0 {
		t.Fatalf("after every root ended: %+v", st)
	}
	t.Logf("flood: %+v", st)
}

func TestKeeperShutdown(t *testing.T) {
	w := newWorld(t, KeepConfig{})
	t0 := time.Now() // Shutdown reads the clock: a root open past Latency would be kept
	r := w.root(w.tid(1), t0, false)
	r.child(t0).end(t0)
	r.child(t0).end(t0)
	w.k.Shutdown(w.emit)
	st := w.checkConservation()
	if st.DroppedSpans[DropShutdown] != 2 || st.HeldSpans != 0 || st.HeldTraces != 0 {
		t.Fatalf("stats after Shutdown %+v", st)
	}
	r.fail().end(t0.Add(time.Millisecond))
	w.root(w.tid(2), t0, false).end(t0)
	if st := w.checkConservation(); st.DroppedSpans[DropShutdown] != 4 || len(w.emitted) != 0 {
		t.Fatalf("spans after Shutdown: %+v, %d emitted", st, len(w.emitted))
	}
	w.k.Shutdown(w.emit) // idempotent
}

func TestKeeperFlushDecidesSlowTraces(t *testing.T) {
	w := newWorld(t, KeepConfig{Latency: time.Millisecond})
	now := time.Now()
	r := w.root(w.tid(1), now, false)
	r.child(now).end(now)
	time.Sleep(5 * time.Millisecond)
	w.k.Flush(w.emit)
	if len(w.emitted) != 1 || w.emitted[0].reason != ReasonLatency {
		t.Fatalf("Flush emitted %v, want the held span of a root open past Latency", w.emitted)
	}
}

func TestKeeperConcurrent(t *testing.T) {
	w := newWorld(t, KeepConfig{MaxSpans: 500, MaxSpansPerTrace: 10})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				at := t0.Add(time.Duration(i) * time.Millisecond)
				r := w.root(w.tid(uint64(g*100000+i)), at, false)
				for j := range 5 {
					c := r.child(at)
					if i%50 == 0 && j == 3 {
						c.fail()
					}
					c.end(at)
				}
				r.end(at.Add(time.Millisecond))
			}
		})
	}
	wg.Wait()
	st := w.checkConservation()
	if st.KeptErrorTraces != 4*40 || st.KeptSpans != 4*40*6 {
		t.Fatalf("stats %+v, want 160 failing traces kept with 6 spans each", st)
	}
}

func TestDropReasonString(t *testing.T) {
	want := []string{"sampled_out", "overflow", "trace_limit", "expired", "late", "shutdown"}
	for r := range NumDropReasons {
		if r.String() != want[r] {
			t.Errorf("DropReason(%d) = %q, want %q", r, r.String(), want[r])
		}
	}
	if s := fmt.Sprint(NumDropReasons); s != "DropReason(6)" {
		t.Errorf("unknown reason prints %q", s)
	}
}

// heldSpanBytes measures the heap cost of holding spans ended by a real SDK
// (their snapshots, with a couple of attributes, and the keeper's
// bookkeeping), in open traces of one root and 9 children. The same workload
// is run with a processor that lets ended spans go, and the difference is
// divided by the spans held; the open roots are the application's cost in
// both runs.
func heldSpanBytes(t testing.TB, traces int) (perSpan float64, held int) {
	run := func(keep bool) (uint64, *Keeper, []trace.Span) {
		k := NewKeeper(KeepConfig{MaxSpans: traces * 10, MaxSpansPerTrace: 10, Latency: -1})
		emit := func(sdktrace.ReadOnlySpan, Reason) { t.Fatal("nothing should be kept") }
		rec := &recorder{onStart: func(s sdktrace.ReadOnlySpan) {}, onEnd: func(sdktrace.ReadOnlySpan) {}}
		if keep {
			rec.onStart = func(s sdktrace.ReadOnlySpan) { k.OnStart(s, emit) }
			rec.onEnd = func(s sdktrace.ReadOnlySpan) { k.OnEnd(s, emit) }
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(mustSampler(t, 0)), sdktrace.WithSpanProcessor(rec), sdktrace.WithIDGenerator(newSeqIDs(7)))
		tr := tp.Tracer("mem")
		roots := make([]trace.Span, 0, traces)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range traces {
			ctx, root := tr.Start(context.Background(), "GET /api/items", trace.WithAttributes(attrHTTPRoute.String("/api/items")))
			for range 9 {
				_, c := tr.Start(ctx, "db.query", trace.WithAttributes(attrHTTPMethod.String("SELECT")))
				c.End()
			}
			roots = append(roots, root)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		return after.HeapAlloc - before.HeapAlloc, k, roots
	}
	base, _, roots0 := run(false)
	withKeeper, k, roots1 := run(true)
	held = k.Stats().HeldSpans
	if held != traces*9 {
		t.Fatalf("held %d spans, want %d", held, traces*9)
	}
	runtime.KeepAlive(roots0)
	runtime.KeepAlive(roots1)
	runtime.KeepAlive(k)
	return (float64(withKeeper) - float64(base)) / float64(held), held
}

type recorder struct{ onStart, onEnd func(sdktrace.ReadOnlySpan) }

func (r *recorder) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) { r.onStart(s) }
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan)                       { r.onEnd(s) }
func (r *recorder) Shutdown(context.Context) error                      { return nil }
func (r *recorder) ForceFlush(context.Context) error                    { return nil }

func TestKeeperMemoryPerHeldSpan(t *testing.T) {
	b, held := heldSpanBytes(t, 2000)
	t.Logf("holding %d spans costs %.0f B per span (snapshot and bookkeeping)", held, b)
	// A snapshot with one attribute is a few hundred bytes; far more means
	// the keeper leaks or copies.
	if b < 100 || b > 2048 {
		t.Fatalf("%.0f bytes per held span", b)
	}
}
