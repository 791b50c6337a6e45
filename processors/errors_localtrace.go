package processors

import (
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// localTrace indexes what the stage knows of one local trace (the spans of
// one trace recorded in this process), for the worker. It is built and used
// by the worker goroutine only.
type localTrace struct {
	id    trace.TraceID
	spans []sdktrace.ReadOnlySpan // every known span, exception spans first
	byID  map[trace.SpanID]sdktrace.ReadOnlySpan
	root  sdktrace.ReadOnlySpan // nil when the local root was not seen
}

// maxAncestry bounds parent-chain walks; deeper chains are treated as
// broken rather than walked forever (a cycle cannot happen with real IDs,
// but the bound costs nothing).
const maxAncestry = 256

func newLocalTrace(ht *heldTrace) *localTrace {
	lt := &localTrace{id: ht.id, root: ht.root, byID: make(map[trace.SpanID]sdktrace.ReadOnlySpan, len(ht.errs)+len(ht.spans)+1)}
	add := func(s sdktrace.ReadOnlySpan) {
		id := s.SpanContext().SpanID()
		if _, ok := lt.byID[id]; ok {
			return
		}
		lt.byID[id] = s
		lt.spans = append(lt.spans, s)
	}
	for _, s := range ht.errs {
		add(s)
	}
	for _, s := range ht.spans {
		add(s)
	}
	if ht.root != nil {
		add(ht.root)
	}
	if lt.root == nil {
		// Evicted or expired: the best stand-in is a known span whose
		// parent is outside the process, if one ended already.
		for _, s := range lt.spans {
			if isLocalRoot(s.Parent()) {
				lt.root = s
				break
			}
		}
	}
	return lt
}

// parent returns the known parent of s within the local trace.
func (lt *localTrace) parent(s sdktrace.ReadOnlySpan) (sdktrace.ReadOnlySpan, bool) {
	p := s.Parent()
	if isLocalRoot(p) {
		return nil, false
	}
	ps, ok := lt.byID[p.SpanID()]
	return ps, ok
}

// isAncestor reports whether a is a proper ancestor of d, following known
// parent links only.
func (lt *localTrace) isAncestor(a, d sdktrace.ReadOnlySpan) bool {
	aid := a.SpanContext().SpanID()
	cur := d
	for i := 0; i < maxAncestry; i++ {
		p := cur.Parent()
		if isLocalRoot(p) {
			return false
		}
		if p.SpanID() == aid {
			return true
		}
		next, ok := lt.byID[p.SpanID()]
		if !ok {
			return false
		}
		cur = next
	}
	return false
}

// lineage returns s, its known ancestors nearest first, and the local root
// if the chain did not reach it: the spans whose attributes describe an
// error on s, in order of precedence.
func (lt *localTrace) lineage(s sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	out := []sdktrace.ReadOnlySpan{s}
	cur := s
	for i := 0; i < maxAncestry; i++ {
		p, ok := lt.parent(cur)
		if !ok {
			break
		}
		out = append(out, p)
		cur = p
	}
	if lt.root != nil && out[len(out)-1].SpanContext().SpanID() != lt.root.SpanContext().SpanID() {
		out = append(out, lt.root)
	}
	return out
}

// lookupAttr finds key on the first span of spans that has it.
func lookupAttr(spans []sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			if kv.Key == key {
				return kv.Value, true
			}
		}
	}
	return attribute.Value{}, false
}
