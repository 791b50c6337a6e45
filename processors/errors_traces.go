package processors

import (
	"container/list"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// traceTable holds the local traces that have an exception and wait for
// their local root to end. It is bounded by the caller's maxTraces; its
// order list makes eviction of the oldest and expiry O(1) per trace.
//
// The hot path never takes its lock for a trace it does not hold: held
// mirrors len(m), and filter is a counting filter over the held trace IDs
// (one counter per hash bucket, incremented and decremented under mu). Both
// are read with atomic loads, which on common hardware are plain loads, so a
// span of a trace that is not held costs no locked instruction. A false
// positive (another held trace in the same bucket) costs one lock and a map
// miss; with 16 buckets per held trace it is rare.
type traceTable struct {
	mu    sync.Mutex
	m     map[trace.TraceID]*heldTrace
	order list.List // of *heldTrace, oldest first

	held atomic.Int64
	// filter is allocated with the first held trace (a service that
	// records no exception never holds its 64 KB) and stored before held
	// first rises, so a reader that sees held > 0 sees it.
	filter atomic.Pointer[[]atomic.Uint32]
	size   int // buckets
}

func newTraceTable(maxTraces int) *traceTable {
	n := 1024
	for n < 16*maxTraces {
		n <<= 1
	}
	return &traceTable{m: make(map[trace.TraceID]*heldTrace), size: n}
}

// bucket is tid's counter; the filter must exist (held > 0, or t.mu held
// after addException allocated it).
func (t *traceTable) bucket(tid trace.TraceID) *atomic.Uint32 {
	// Trace IDs are random: their low bytes are a good enough hash.
	return &(*t.filter.Load())[binary.LittleEndian.Uint64(tid[8:])&uint64(t.size-1)]
}

// mayHold reports whether trace tid may be held: false means it is not.
func (t *traceTable) mayHold(tid trace.TraceID) bool {
	return t.held.Load() != 0 && t.bucket(tid).Load() != 0
}

// heldTrace is what the stage knows of one local trace with an exception.
// While in the table it is guarded by the table's lock; once taken out, it
// has one owner.
type heldTrace struct {
	id    trace.TraceID
	born  time.Time
	errs  []sdktrace.ReadOnlySpan // spans with an exception event
	spans []sdktrace.ReadOnlySpan // other spans: breadcrumbs, parent links
	seen  map[trace.SpanID]struct{}
	root  sdktrace.ReadOnlySpan // the local root, once it has ended
	elem  *list.Element
}

// addException records s (a span with an exception) for trace tid, with the
// spans of the trace that ended earlier. It returns the trace when it is
// complete (s is its local root), and the oldest trace when one had to be
// evicted to make room.
func (t *traceTable) addException(tid trace.TraceID, s sdktrace.ReadOnlySpan, earlier []sdktrace.ReadOnlySpan,
	isRoot bool, maxTraces, maxSpans int, c *errorsCounters,
) (ready, evicted *heldTrace) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ht := t.m[tid]
	if ht == nil {
		if len(t.m) >= maxTraces {
			evicted = t.removeLocked(t.order.Front().Value.(*heldTrace))
		}
		ht = &heldTrace{id: tid, born: time.Now(), seen: make(map[trace.SpanID]struct{})}
		ht.elem = t.order.PushBack(ht)
		t.m[tid] = ht
		if t.filter.Load() == nil {
			f := make([]atomic.Uint32, t.size)
			t.filter.Store(&f)
		}
		t.held.Add(1)
		t.bucket(tid).Add(1)
	}
	if len(ht.errs) < maxSpans {
		ht.errs = append(ht.errs, s)
		ht.seen[s.SpanContext().SpanID()] = struct{}{}
	} else {
		c.spansDropped.Add(1)
	}
	ht.addSpans(earlier, maxSpans, c)
	if isRoot {
		ht.root = s
		ready = t.removeLocked(ht)
	}
	return ready, evicted
}

// addSpan records s, a span without an exception, if its trace is held
// (a copy: see freeze), and returns the trace when s is its local root: the
// trace is complete.
func (t *traceTable) addSpan(tid trace.TraceID, s sdktrace.ReadOnlySpan, maxSpans int, c *errorsCounters) (ready *heldTrace) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ht := t.m[tid]
	if ht == nil {
		return nil // a filter false positive
	}
	s = freeze(s)
	ht.addSpans([]sdktrace.ReadOnlySpan{s}, maxSpans, c)
	if isLocalRoot(s.Parent()) {
		ht.root = s
		return t.removeLocked(ht)
	}
	return nil
}

// expired removes and returns the traces held since before cutoff.
func (t *traceTable) expired(cutoff time.Time) []*heldTrace {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*heldTrace
	for e := t.order.Front(); e != nil; e = t.order.Front() {
		ht := e.Value.(*heldTrace)
		if !ht.born.Before(cutoff) {
			break
		}
		out = append(out, t.removeLocked(ht))
	}
	return out
}

// takeAll empties the table, for Shutdown.
func (t *traceTable) takeAll() []*heldTrace {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*heldTrace, 0, len(t.m))
	for e := t.order.Front(); e != nil; e = t.order.Front() {
		out = append(out, t.removeLocked(e.Value.(*heldTrace)))
	}
	return out
}

func (t *traceTable) removeLocked(ht *heldTrace) *heldTrace {
	delete(t.m, ht.id)
	t.order.Remove(ht.elem)
	ht.elem = nil
	t.held.Add(-1)
	t.bucket(ht.id).Add(^uint32(0))
	return ht
}

// addSpans adds spans not seen yet, up to maxSpans.
func (ht *heldTrace) addSpans(spans []sdktrace.ReadOnlySpan, maxSpans int, c *errorsCounters) {
	for _, s := range spans {
		id := s.SpanContext().SpanID()
		if _, ok := ht.seen[id]; ok {
			continue
		}
		if len(ht.spans) >= maxSpans {
			c.spansDropped.Add(1)
			continue
		}
		ht.seen[id] = struct{}{}
		ht.spans = append(ht.spans, s)
	}
}

// frozenSpan is a span the stage holds, with the events it had when it
// ended. The SDK's snapshot hands the same events array to every reader, and
// a later stage may rewrite it in place (the redact stage replaces event
// names and attribute slices); the worker reads the span after those stages
// have run, so it keeps its own copy, taken before the span is passed on.
type frozenSpan struct {
	sdktrace.ReadOnlySpan
	events []sdktrace.Event
}

func (f *frozenSpan) Events() []sdktrace.Event { return f.events }

// freeze copies s's events; only held spans pay for it.
func freeze(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	if f, ok := s.(*frozenSpan); ok {
		return f
	}
	return &frozenSpan{ReadOnlySpan: s, events: append([]sdktrace.Event(nil), s.Events()...)}
}
