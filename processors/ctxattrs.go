package processors

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Context attributes deferred to the end of a span.
//
// Setting a request's context attributes (request_id, user.*, agent.name, …)
// on every live span is the SDK's most expensive way to store them: each
// SetAttributes grows the span's attribute array (a copy of everything set
// before), and a span with more than eight attributes is de-duplicated at
// End with a heap-allocated map. Measured on the reference service's
// analysis request (ten spans, bench's BenchmarkRequest), that was 11 KB and
// 9 allocations of array growth and 4 KB and 26 allocations of
// de-duplication maps per request, on the goroutines serving requests.
//
// The deferring enrich stage ([EnrichDeferred]) instead remembers, per live
// span, the context's attribute slice (shared, never copied) in a sharded
// table, and when the span ends hands it on as a [contextSpan]: the ended
// span plus that slice. Its Attributes merges the two for the readers that
// ask (the error bridge, Crons, the keep stage: a few spans); the redact
// stage and the export annotator read the two parts apart and write the
// merged attributes into arrays they reuse, so the common path allocates
// nothing per span.

// ctxShards × ctxShardMax bounds the spans whose context attributes wait in
// the table: past it (spans started and never ended, or a flood), a span
// gets its context attributes set live, as [Enrich] does.
const (
	ctxShards   = 64
	ctxShardMax = 1024
)

type ctxTable struct {
	n      atomic.Int64 // entries in all shards: OnEnd skips the lock at 0
	shards [ctxShards]ctxShard
}

type ctxShard struct {
	mu   sync.Mutex
	m    map[trace.SpanID]ctxEntry
	peak int      // the most entries m has held since it was made
	_    [40]byte // one shard per cache line
}

// ctxShardRemake is the size past which an emptied shard's map is dropped
// (Go maps never shrink: after a burst, start again small).
const ctxShardRemake = 64

type ctxEntry struct {
	tid trace.TraceID
	kvs []attribute.KeyValue
}

func (t *ctxTable) shard(id trace.SpanID) *ctxShard {
	// Span IDs are random: any byte is a good enough hash.
	return &t.shards[id[7]%ctxShards]
}

// put remembers kvs for the span sc until take; false when the shard is
// full or the ID is already in it (the caller then sets kvs live).
func (t *ctxTable) put(sc trace.SpanContext, kvs []attribute.KeyValue) bool {
	sid := sc.SpanID()
	sh := t.shard(sid)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[trace.SpanID]ctxEntry)
	}
	if _, dup := sh.m[sid]; dup || len(sh.m) >= ctxShardMax {
		sh.mu.Unlock()
		return false
	}
	sh.m[sid] = ctxEntry{tid: sc.TraceID(), kvs: kvs}
	sh.peak = max(sh.peak, len(sh.m))
	sh.mu.Unlock()
	t.n.Add(1)
	return true
}

// take returns and forgets what put remembered for sc.
func (t *ctxTable) take(sc trace.SpanContext) ([]attribute.KeyValue, bool) {
	if t.n.Load() == 0 {
		return nil, false
	}
	sid := sc.SpanID()
	sh := t.shard(sid)
	sh.mu.Lock()
	e, ok := sh.m[sid]
	if ok && e.tid == sc.TraceID() {
		delete(sh.m, sid)
		if len(sh.m) == 0 && sh.peak > ctxShardRemake {
			sh.m, sh.peak = nil, 0
		}
	} else {
		ok = false
	}
	sh.mu.Unlock()
	if !ok {
		return nil, false
	}
	t.n.Add(-1)
	return e.kvs, true
}

// deferrable reports whether kvs can wait for the end of the span: every
// attribute valid and no string longer than the provider's value length
// limit (which the SDK would truncate when setting it live). A string slice
// is set live: its elements cannot be read without copying the slice, and
// this runs for every span.
func deferrable(kvs []attribute.KeyValue, maxLen int) bool {
	for _, kv := range kvs {
		if !kv.Valid() {
			return false
		}
		switch kv.Value.Type() {
		case attribute.STRING:
			if maxLen >= 0 && len(kv.Value.AsString()) > maxLen {
				return false
			}
		case attribute.STRINGSLICE:
			return false
		}
	}
	return true
}

// contextSpan is an ended span with the context attributes its enrich stage
// deferred. A span's own attributes win over a context attribute of the same
// key; past the attribute count limit, context attributes are dropped
// (counted in DroppedAttributes).
type contextSpan struct {
	sdktrace.ReadOnlySpan
	ctx   []attribute.KeyValue
	limit int // AttributeCountLimit; ≤ 0: none
}

// Attributes implements sdktrace.ReadOnlySpan: the span's own attributes,
// then the context attributes it does not have, in a new slice.
func (c *contextSpan) Attributes() []attribute.KeyValue {
	return mergeContext(c.ReadOnlySpan.Attributes(), c.ctx, c.limit)
}

// DroppedAttributes implements sdktrace.ReadOnlySpan.
func (c *contextSpan) DroppedAttributes() int {
	return c.ReadOnlySpan.DroppedAttributes() + droppedContext(c.ReadOnlySpan.Attributes(), c.ctx, c.limit)
}

// mergeContext returns own, then the attributes of ctx whose key own lacks
// as far as limit (≤ 0: none) allows, in a new slice.
func mergeContext(own, ctx []attribute.KeyValue, limit int) []attribute.KeyValue {
	out := make([]attribute.KeyValue, len(own), len(own)+len(ctx))
	copy(out, own)
	return appendContext(out, own, ctx, limit)
}

// droppedContext is how many attributes of ctx mergeContext leaves out for
// the limit.
func droppedContext(own, ctx []attribute.KeyValue, limit int) int {
	if limit <= 0 || len(ctx) == 0 {
		return 0
	}
	n := 0
	for _, kv := range ctx {
		if !hasKey(own, kv.Key) {
			n++
		}
	}
	return max(0, len(own)+n-limit)
}

// appendContext appends to dst the attributes of ctx whose key own lacks,
// as many as fit within limit (≤ 0: none) counted on top of own, leaving out
// those whose key one of replaced holds (attributes the caller adds after).
// contextSpan.DroppedAttributes counts what the limit leaves out.
func appendContext(dst, own, ctx []attribute.KeyValue, limit int, replaced ...[]attribute.KeyValue) []attribute.KeyValue {
	n := len(own)
next:
	for _, kv := range ctx {
		if hasKey(own, kv.Key) {
			continue
		}
		if limit > 0 && n >= limit {
			break
		}
		n++
		for _, r := range replaced {
			if hasKey(r, kv.Key) {
				continue next
			}
		}
		dst = append(dst, kv)
	}
	return dst
}

// splitAttributes returns s's attributes in two parts, without allocating:
// its own and the context attributes a deferring enrich stage attached (nil
// when none). Readers that take them apart must apply the same rule as
// contextSpan.Attributes: an own attribute wins over a context one of the
// same key. A [View] whose attributes a stage replaced has no context part:
// the stage gave it the merged list.
func splitAttributes(s sdktrace.ReadOnlySpan) (own, ctx []attribute.KeyValue, limit int) {
	for {
		switch v := s.(type) {
		case *View:
			if v.set&viewAttributes != 0 {
				return v.attributes, nil, 0
			}
			s = v.ReadOnlySpan
		case *contextSpan:
			return v.ReadOnlySpan.Attributes(), v.ctx, v.limit
		case *liteSpan:
			return v.ownAttributes().kvs, v.ctx, v.ctxLimit
		default:
			return s.Attributes(), nil, 0
		}
	}
}

// spanAttr is the value of key on s, its context attributes included,
// without allocating.
func spanAttr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	if ls, ok := s.(*liteSpan); ok {
		// Without normalising the whole span, when that cannot change it.
		if v, found, sure := ls.rawAttr(key); sure {
			if found {
				return v, true
			}
			return attrValue(ls.ctx, key)
		}
	}
	own, ctx, _ := splitAttributes(s)
	if v, ok := attrValue(own, key); ok {
		return v, true
	}
	return attrValue(ctx, key)
}
