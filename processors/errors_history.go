package processors

import (
	"encoding/binary"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// spanHistory, when enabled (ErrorsConfig.HistorySize > 0), remembers the
// most recently ended spans that carried no exception, so that when an
// exception does end, the spans of its local trace that ended before it —
// its children, earlier siblings — can become breadcrumbs too.
//
// Why it is off by default: an exception is only known when its span ends,
// after its children have ended, so remembering them means writing every
// span somewhere shared. The cheapest shared write is one uncontended lock
// and one slot per span, no allocation; that is 10–15 ns on an idle core —
// most of the stage's 20 ns budget for a span without an exception, which
// without the history costs a few nanoseconds and no locked instruction.
// Without it, a trace is held from its first exception on, and its events
// carry everything recorded on the failing span and its ancestors, but not
// the spans that had already ended.
//
// The history holds the last HistorySize spans of all traces, split into
// shards by trace ID (one trace's spans are in one shard, which collect scans;
// concurrent writers rarely meet). Under heavy load a long request's early
// spans may be overwritten before its error ends; the most recent ones, which
// matter most, survive. Retained spans are the SDK's immutable snapshots,
// held by reference.
type spanHistory struct {
	shards []historyShard
	mask   uint64
}

const historyShards = 64

type historyShard struct {
	mu    sync.Mutex
	next  uint32
	spans []sdktrace.ReadOnlySpan
	_     [32]byte // keep hot shards on separate cache lines
}

// newSpanHistory sizes the history to at least size spans (a power of two
// per shard); it returns nil, no history, for size 0.
func newSpanHistory(size int) *spanHistory {
	if size <= 0 {
		return nil
	}
	per := 1
	for per*historyShards < size {
		per <<= 1
	}
	h := &spanHistory{shards: make([]historyShard, historyShards), mask: historyShards - 1}
	for i := range h.shards {
		h.shards[i].spans = make([]sdktrace.ReadOnlySpan, per)
	}
	return h
}

func (h *spanHistory) shard(tid trace.TraceID) *historyShard {
	// Trace IDs are random; their low bytes spread evenly.
	return &h.shards[binary.LittleEndian.Uint64(tid[8:])&h.mask]
}

// add remembers s, overwriting the oldest span of its shard.
func (h *spanHistory) add(tid trace.TraceID, s sdktrace.ReadOnlySpan) {
	sh := h.shard(tid)
	sh.mu.Lock()
	sh.spans[sh.next] = s
	sh.next = (sh.next + 1) & uint32(len(sh.spans)-1)
	sh.mu.Unlock()
}

// collect appends to dst the remembered spans of trace tid, oldest first.
func (h *spanHistory) collect(tid trace.TraceID, dst []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	sh := h.shard(tid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := uint32(len(sh.spans))
	for i := uint32(0); i < n; i++ {
		s := sh.spans[(sh.next+i)&(n-1)]
		if s != nil && s.SpanContext().TraceID() == tid {
			dst = append(dst, s)
		}
	}
	return dst
}
