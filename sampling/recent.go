package sampling

import "go.opentelemetry.io/otel/trace"

// outcome is how a local trace was decided: kept for a reason, or dropped
// for one.
type outcome struct {
	kept Reason     // ReasonNone when dropped
	drop DropReason // meaningful when kept is ReasonNone
}

// recentDecisions remembers the outcome of the last n decided local traces,
// for spans that end after their local trace was decided (a child that
// outlives its local root). It is a ring with an index: bounded memory, the
// oldest outcome forgotten first, allocated as it fills (a pipeline that
// never holds a span — every span head-sampled — keeps none of it). Not safe
// for concurrent use; the Keeper's lock guards it.
type recentDecisions struct {
	max  int
	ring []recentEntry
	next int
	idx  map[trace.TraceID]int32
}

type recentEntry struct {
	id trace.TraceID
	o  outcome
}

func newRecentDecisions(n int) recentDecisions { return recentDecisions{max: max(n, 0)} }

func (r *recentDecisions) put(id trace.TraceID, o outcome) {
	if r.max == 0 {
		return
	}
	if r.idx == nil {
		r.idx = make(map[trace.TraceID]int32)
	}
	if i, ok := r.idx[id]; ok {
		r.ring[i].o = o
		return
	}
	if len(r.ring) < r.max {
		r.idx[id] = int32(len(r.ring))
		r.ring = append(r.ring, recentEntry{id, o})
		return
	}
	old := &r.ring[r.next]
	delete(r.idx, old.id)
	*old = recentEntry{id, o}
	r.idx[id] = int32(r.next)
	r.next = (r.next + 1) % len(r.ring)
}

func (r *recentDecisions) get(id trace.TraceID) (outcome, bool) {
	i, ok := r.idx[id]
	if !ok {
		return outcome{}, false
	}
	return r.ring[i].o, true
}
