package sampling

import (
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Defaults of [KeepConfig].
const (
	DefaultLatency          = 2 * time.Second
	DefaultMaxSpans         = 20000
	DefaultMaxSpansPerTrace = 1000
	DefaultMaxAge           = 60 * time.Second
	DefaultRecentDecisions  = 4096
)

// KeepConfig tunes and bounds a [Keeper]. A zero field gets its default.
type KeepConfig struct {
	// Latency keeps a local trace whose local root lasts longer than it
	// (default 2 s). Negative: no trace is kept for latency.
	Latency time.Duration
	// MaxSpans bounds the spans held at once, over all traces (default
	// 20 000), and also the local traces tracked at once. Past it the oldest
	// undecided traces are dropped (DropOverflow).
	MaxSpans int
	// MaxSpansPerTrace bounds the spans held for one local trace (default
	// 1 000); later spans of the trace are dropped (DropTraceLimit) while it
	// is undecided.
	MaxSpansPerTrace int
	// MaxAge drops a local trace still undecided this long after its first
	// local root started (default 60 s; DropExpired).
	MaxAge time.Duration
	// RecentDecisions is how many decided local traces are remembered, so
	// that a span ending after its local trace was decided gets the same
	// outcome (default 4 096). Past it such a span is dropped (DropLate).
	RecentDecisions int
}

func (c KeepConfig) withDefaults() KeepConfig {
	if c.Latency == 0 {
		c.Latency = DefaultLatency
	}
	if c.MaxSpans <= 0 {
		c.MaxSpans = DefaultMaxSpans
	}
	if c.MaxSpansPerTrace <= 0 {
		c.MaxSpansPerTrace = DefaultMaxSpansPerTrace
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.RecentDecisions <= 0 {
		c.RecentDecisions = DefaultRecentDecisions
	}
	return c
}

// DropReason is why a span that lost the head decision was not exported.
type DropReason uint8

// The drop reasons. DropSampledOut is the policy working as intended; every
// other reason is a bound or a lifecycle event, and worth an alert when it
// grows.
const (
	DropSampledOut DropReason = iota // its local trace neither failed nor was slow
	DropOverflow                     // MaxSpans was reached; its trace was among the oldest undecided
	DropTraceLimit                   // its local trace reached MaxSpansPerTrace
	DropExpired                      // its local trace stayed undecided for MaxAge
	DropLate                         // it ended after its local trace was decided and forgotten, or its local root was never seen
	DropShutdown                     // it was held, undecided, at Shutdown, or ended after it
	NumDropReasons                   // the number of drop reasons
)

// String returns the reason as a metric label.
func (d DropReason) String() string {
	switch d {
	case DropSampledOut:
		return "sampled_out"
	case DropOverflow:
		return "overflow"
	case DropTraceLimit:
		return "trace_limit"
	case DropExpired:
		return "expired"
	case DropLate:
		return "late"
	case DropShutdown:
		return "shutdown"
	}
	return fmt.Sprintf("DropReason(%d)", uint8(d))
}

// Stats are a Keeper's gauges and counters. Counters only grow.
type Stats struct {
	HeldSpans  int // spans held now
	HeldTraces int // local traces tracked now

	KeptErrorTraces   uint64 // local traces kept because a span failed
	KeptLatencyTraces uint64 // local traces kept because the local root was slow
	KeptSpans         uint64 // spans handed on as kept

	DroppedTraces uint64                 // local traces dropped by the policy
	DroppedSpans  [NumDropReasons]uint64 // spans dropped, by reason
}

// Emit receives each span a Keeper keeps, with the reason. It is called
// without the Keeper's lock held, on the goroutine that ended a span (or
// called Flush or Shutdown).
type Emit func(s sdktrace.ReadOnlySpan, r Reason)

// Keeper is the tail keep policy and its bounded buffer. It is given the
// spans that lost the head decision (RecordOnly) and groups them per local
// trace: the spans under the local roots of one trace ID in this process (a
// local root is a span whose parent is invalid or remote; a trace can have
// several at once, two requests of one trace, and is decided when the last
// one ends). A local trace is kept whole when a span has status Error or an
// "exception" event (ReasonError), or when a local root lasts longer than
// KeepConfig.Latency (ReasonLatency), and dropped otherwise.
//
// A decision is made as soon as it is certain, not later: on the first
// failing span, and once a local root has been open longer than Latency (it
// will end slow). The spans held so far are emitted then and later spans of
// the trace pass straight through, so memory is held only for traces that
// may still be dropped. The reason is the first condition met.
//
// Memory is strictly bounded by KeepConfig; whatever a bound turns away is
// counted in [Stats]. The Keeper starts no goroutine: time-based decisions
// (Latency, MaxAge) are taken when spans start or end, from their
// timestamps, and on Flush.
//
// Its methods are safe for concurrent use. After Shutdown it holds nothing
// and drops what it is given (DropShutdown).
type Keeper struct {
	cfg     KeepConfig
	latency int64 // ns; < 0: off
	maxAge  int64 // ns

	mu        sync.Mutex
	traces    map[trace.TraceID]*localTrace
	undecided traceList // by first local root start, oldest first
	decided   traceList // kept, local roots still open; by decision time
	recent    recentDecisions
	held      int
	free      []*localTrace // recycled entries, at most maxFree
	closed    bool
	stats     Stats
}

const maxFree = 1024

// NewKeeper returns a Keeper bounded and tuned by cfg.
func NewKeeper(cfg KeepConfig) *Keeper {
	cfg = cfg.withDefaults()
	k := &Keeper{
		cfg:     cfg,
		latency: int64(cfg.Latency),
		maxAge:  int64(cfg.MaxAge),
		traces:  make(map[trace.TraceID]*localTrace),
		recent:  newRecentDecisions(cfg.RecentDecisions),
	}
	return k
}

// Config returns the Keeper's configuration, defaults filled in.
func (k *Keeper) Config() KeepConfig { return k.cfg }

// localTrace is the state of one local trace.
type localTrace struct {
	id            trace.TraceID
	openRoots     int
	firstStart    int64 // ns, of the first local root
	lastRootStart int64 // ns, of the latest local root
	decidedAt     int64
	reason        Reason // ReasonNone while undecided
	buf           *spanBuf
	prev, next    *localTrace
}

// spanBuf holds a local trace's spans; pooled so that the RecordOnly path
// does not allocate in steady state.
type spanBuf struct {
	spans  []sdktrace.ReadOnlySpan
	reason Reason   // set when it is queued for emission
	next   *spanBuf // the emission queue of one call
}

var spanBufPool = sync.Pool{New: func() any { return &spanBuf{spans: make([]sdktrace.ReadOnlySpan, 0, 8)} }}

// maxPooledSpans: a buffer grown past it is left to the GC rather than pin
// its array in the pool.
const maxPooledSpans = 256

func putSpanBuf(b *spanBuf) {
	clear(b.spans) // release the spans
	if cap(b.spans) > maxPooledSpans {
		return
	}
	b.spans, b.reason, b.next = b.spans[:0], ReasonNone, nil
	spanBufPool.Put(b)
}

// traceList is an intrusive doubly linked list of localTrace.
type traceList struct{ head, tail *localTrace }

func (l *traceList) pushBack(t *localTrace) {
	t.prev, t.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = t
	} else {
		l.head = t
	}
	l.tail = t
}

func (l *traceList) remove(t *localTrace) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		l.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		l.tail = t.prev
	}
	t.prev, t.next = nil, nil
}

func isLocalRoot(parent trace.SpanContext) bool { return !parent.IsValid() || parent.IsRemote() }

// failed reports whether s has status Error or an exception event.
func failed(s sdktrace.ReadOnlySpan) bool {
	if s.Status().Code == codes.Error {
		return true
	}
	for _, e := range s.Events() {
		if e.Name == "exception" {
			return true
		}
	}
	return false
}

// OnStart registers s if it is a local root. Call it for every span that
// lost the head decision, when it starts; emit receives spans of traces
// decided meanwhile.
func (k *Keeper) OnStart(s sdktrace.ReadOnlySpan, emit Emit) {
	if !isLocalRoot(s.Parent()) {
		return
	}
	now := s.StartTime().UnixNano()
	id := s.SpanContext().TraceID()
	var out *spanBuf
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return
	}
	k.expire(now, &out)
	t := k.traces[id]
	if t == nil {
		if len(k.traces) >= k.cfg.MaxSpans {
			k.evictTrace()
		}
		t = k.newTrace(id, now)
	}
	t.openRoots++
	t.lastRootStart = max(t.lastRootStart, now)
	k.mu.Unlock()
	emitAll(out, emit)
}

// OnEnd takes a span that lost the head decision when it ends: it holds it,
// or emits it (with the spans held for its trace) when its local trace is
// kept, or drops it.
func (k *Keeper) OnEnd(s sdktrace.ReadOnlySpan, emit Emit) {
	id := s.SpanContext().TraceID()
	root := isLocalRoot(s.Parent())
	bad := failed(s)
	end := s.EndTime().UnixNano()
	slow := root && k.latency >= 0 && end-s.StartTime().UnixNano() > k.latency

	var out *spanBuf
	k.mu.Lock()
	if k.closed {
		k.stats.DroppedSpans[DropShutdown]++
		k.mu.Unlock()
		return
	}
	k.expire(end, &out)
	t := k.traces[id]
	if t == nil {
		o, ok := k.recent.get(id)
		switch {
		case !ok:
			k.stats.DroppedSpans[DropLate]++
		case o.kept != ReasonNone:
			k.stats.KeptSpans++
			k.mu.Unlock()
			emit(s, o.kept)
			emitAll(out, emit)
			return
		default:
			k.stats.DroppedSpans[o.drop]++
		}
		k.mu.Unlock()
		emitAll(out, emit)
		return
	}
	if root {
		t.openRoots--
	}
	if t.reason != ReasonNone { // kept already; its roots are still open
		r := t.reason
		k.stats.KeptSpans++
		if t.openRoots <= 0 {
			k.decided.remove(t)
			k.retire(t, outcome{kept: r})
		}
		k.mu.Unlock()
		emit(s, r)
		emitAll(out, emit)
		return
	}

	reason := ReasonNone
	if bad {
		reason = ReasonError
	} else if slow {
		reason = ReasonLatency
	}
	switch {
	case reason != ReasonNone:
		k.hold(t, s, true)
		k.keep(t, reason, end, &out)
	default:
		k.hold(t, s, false)
		if t.openRoots <= 0 {
			k.drop(t, DropSampledOut)
			k.stats.DroppedTraces++
		}
		for k.held > k.cfg.MaxSpans && k.undecided.head != nil {
			k.drop(k.undecided.head, DropOverflow)
		}
	}
	k.mu.Unlock()
	emitAll(out, emit)
}

// Flush decides what the clock alone can decide now (slow local roots, aged
// traces) and emits what is kept. Undecided traces stay held.
func (k *Keeper) Flush(emit Emit) {
	var out *spanBuf
	k.mu.Lock()
	if !k.closed {
		k.expire(time.Now().UnixNano(), &out)
	}
	k.mu.Unlock()
	emitAll(out, emit)
}

// Shutdown drops every span still held (its trace is undecided: it has not
// failed and no local root has been open longer than Latency), counting them
// as DropShutdown, and makes the Keeper drop what it is given from then on.
// It decides first what the clock can decide, emitting to emit.
func (k *Keeper) Shutdown(emit Emit) {
	var out *spanBuf
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return
	}
	k.expire(time.Now().UnixNano(), &out)
	for k.undecided.head != nil {
		k.drop(k.undecided.head, DropShutdown)
	}
	for t := k.decided.head; t != nil; t = k.decided.head {
		k.decided.remove(t)
		delete(k.traces, t.id)
	}
	k.closed = true
	k.mu.Unlock()
	emitAll(out, emit)
}

// Stats returns the Keeper's gauges and counters.
func (k *Keeper) Stats() Stats {
	k.mu.Lock()
	defer k.mu.Unlock()
	st := k.stats
	st.HeldSpans, st.HeldTraces = k.held, len(k.traces)
	return st
}

func (k *Keeper) newTrace(id trace.TraceID, now int64) *localTrace {
	var t *localTrace
	if n := len(k.free); n > 0 {
		t, k.free = k.free[n-1], k.free[:n-1]
	} else {
		t = new(localTrace)
	}
	*t = localTrace{id: id, firstStart: now, lastRootStart: now}
	k.traces[id] = t
	k.undecided.pushBack(t)
	return t
}

// hold adds s to t's buffer; past MaxSpansPerTrace it is dropped unless
// force (the trace is being kept: s is emitted at once, not held).
func (k *Keeper) hold(t *localTrace, s sdktrace.ReadOnlySpan, force bool) {
	if t.buf == nil {
		t.buf = spanBufPool.Get().(*spanBuf)
	}
	if !force && len(t.buf.spans) >= k.cfg.MaxSpansPerTrace {
		k.stats.DroppedSpans[DropTraceLimit]++
		return
	}
	t.buf.spans = append(t.buf.spans, s)
	k.held++
}

// keep decides an undecided t as kept: its spans are queued on out, and t
// stays tracked while local roots are open so later spans pass through.
func (k *Keeper) keep(t *localTrace, r Reason, now int64, out **spanBuf) {
	switch r {
	case ReasonError:
		k.stats.KeptErrorTraces++
	case ReasonLatency:
		k.stats.KeptLatencyTraces++
	}
	k.undecided.remove(t)
	if b := t.buf; b != nil {
		t.buf = nil
		k.held -= len(b.spans)
		k.stats.KeptSpans += uint64(len(b.spans))
		b.reason, b.next = r, *out
		*out = b
	}
	if t.openRoots <= 0 {
		k.retire(t, outcome{kept: r})
		return
	}
	t.reason, t.decidedAt = r, now
	k.decided.pushBack(t)
}

// drop decides an undecided t as dropped, releasing its spans.
func (k *Keeper) drop(t *localTrace, why DropReason) {
	k.undecided.remove(t)
	if b := t.buf; b != nil {
		t.buf = nil
		k.held -= len(b.spans)
		k.stats.DroppedSpans[why] += uint64(len(b.spans))
		putSpanBuf(b)
	}
	k.retire(t, outcome{drop: why})
}

// retire forgets t (already off its list), remembering its outcome.
func (k *Keeper) retire(t *localTrace, o outcome) {
	delete(k.traces, t.id)
	k.recent.put(t.id, o)
	if len(k.free) < maxFree {
		*t = localTrace{}
		k.free = append(k.free, t)
	}
}

// expire takes the decisions that time alone makes, oldest traces first:
// a local root open longer than Latency is kept (it will end slow), an
// undecided trace older than MaxAge is dropped, and a kept trace whose roots
// stay open past MaxAge is forgotten (its late spans are still kept while the
// decision is remembered).
func (k *Keeper) expire(now int64, out **spanBuf) {
	for t := k.undecided.head; t != nil; t = k.undecided.head {
		switch {
		case k.latency >= 0 && t.openRoots > 0 && now-t.lastRootStart > k.latency:
			k.keep(t, ReasonLatency, now, out)
		case now-t.firstStart > k.maxAge:
			k.drop(t, DropExpired)
		default:
			goto decided
		}
	}
decided:
	for t := k.decided.head; t != nil && now-t.decidedAt > k.maxAge; t = k.decided.head {
		k.decided.remove(t)
		k.retire(t, outcome{kept: t.reason})
	}
}

// evictTrace makes room for one more tracked trace: it forgets the oldest
// kept trace (no span is lost), else drops the oldest undecided one.
func (k *Keeper) evictTrace() {
	if t := k.decided.head; t != nil {
		k.decided.remove(t)
		k.retire(t, outcome{kept: t.reason})
		return
	}
	if t := k.undecided.head; t != nil {
		k.drop(t, DropOverflow)
	}
}

// emitAll emits the queued buffers, outside the lock, and recycles them.
func emitAll(out *spanBuf, emit Emit) {
	for b := out; b != nil; {
		next := b.next
		for _, s := range b.spans {
			emit(s, b.reason)
		}
		putSpanBuf(b)
		b = next
	}
}
