package processors

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/processors/redact"
)

// redactionCountKey is set on spans in which something was redacted, so a
// reader of the trace knows the values were scrubbed, not absent.
const redactionCountKey = attribute.Key("redaction.count")

// Redact returns the redact stage: every span that reaches the next stage
// has had its name, string and string-slice attributes (and int64 card
// numbers), event names and attributes, link attributes and status
// description passed through e, and invalid UTF-8 in any of them repaired.
//
// Copy on write: a span with nothing to redact is passed on as it is, with
// no allocation; a dirty one is passed on as a view that embeds the original
// and overrides only what changed, plus a redaction.count attribute. The
// original span is never mutated (other processors may hold it).
func Redact(e *redact.Engine) Link {
	return func(next sdktrace.SpanProcessor) sdktrace.SpanProcessor {
		return &redactor{next: next, e: e}
	}
}

type redactor struct {
	next     sdktrace.SpanProcessor
	e        *redact.Engine
	redacted atomic.Uint64
}

func (r *redactor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) { r.next.OnStart(ctx, s) }
func (r *redactor) ForceFlush(ctx context.Context) error                  { return r.next.ForceFlush(ctx) }
func (r *redactor) Shutdown(ctx context.Context) error                    { return r.next.Shutdown(ctx) }

func (r *redactor) OnEnd(s sdktrace.ReadOnlySpan) {
	if v := RedactSpan(r.e, s); v != nil {
		r.redacted.Add(1)
		s = v
	}
	r.next.OnEnd(s)
}

// RedactedSpans is how many spans the stage had to redact.
func (r *redactor) RedactedSpans() uint64 { return r.redacted.Load() }

// RedactExports wraps exp so that every span it exports has been through
// e, as with the Redact stage, but on the goroutine that exports the batch
// instead of the one that ends the span: the application's goroutines do
// not wait for redaction, as they do not wait for serialisation. The CPU
// spent is the same; what the exporter receives is the same.
//
// A clean span is passed on as it is; a dirty one as a view (see
// RedactSpan). The batch slice is copied, once, only if one of its spans is
// dirty: exp never receives a slice its caller will reuse modified.
//
// Every exporter wrapped this way redacts (and counts, in e) on its own:
// where spans fan out to several exporters, the Redact stage before the
// fan-out does the work once.
func RedactExports(exp sdktrace.SpanExporter, e *redact.Engine) sdktrace.SpanExporter {
	return &redactingExporter{SpanExporter: exp, e: e}
}

type redactingExporter struct {
	sdktrace.SpanExporter
	e *redact.Engine
}

func (r *redactingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out := spans
	for i, s := range spans {
		if v := RedactSpan(r.e, s); v != nil {
			if &out[0] == &spans[0] {
				out = append([]sdktrace.ReadOnlySpan(nil), spans...)
			}
			out[i] = v
		}
	}
	return r.SpanExporter.ExportSpans(ctx, out)
}

// RedactSpan returns a redacted view of s, or nil when s holds nothing to
// redact. A clean span costs no allocation; a dirty one allocates its view
// and copies of what changed.
func RedactSpan(e *redact.Engine, s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	var v *View // built on the first change only: clean spans allocate nothing
	n := 0
	view := func() *View {
		if v == nil {
			v = NewView(s)
		}
		return v
	}

	if name, ok := e.String(s.Name()); ok {
		view().WithName(name)
		n++
	}
	own, ctxAttrs, limit := splitAttributes(s)
	attrs, k := redactAttrs(e, own)
	n += k
	// Context attributes a deferring enrich stage attached: one slice shared
	// by the spans of a request, redacted apart (its clean values are known
	// from their addresses after a sighting or two: see redact.Engine.String).
	var ctxOut []attribute.KeyValue
	if len(ctxAttrs) > 0 {
		ctxOut, k = redactAttrs(e, ctxAttrs)
		n += k
	}
	// An ended span's Events and Links are shared with every other reader
	// (the SDK hands all processors one snapshot): copy before writing.
	if evs := s.Events(); len(evs) > 0 {
		var out []sdktrace.Event
		for i := range evs {
			name, nameChanged := e.String(evs[i].Name)
			a, k := redactAttrs(e, evs[i].Attributes)
			if !nameChanged && k == 0 {
				continue
			}
			if out == nil {
				out = append([]sdktrace.Event(nil), evs...)
			}
			if nameChanged {
				out[i].Name = name
				n++
			}
			if k > 0 {
				out[i].Attributes = a
				n += k
			}
		}
		if out != nil {
			view().WithEvents(out)
		}
	}
	if links := s.Links(); len(links) > 0 {
		var out []sdktrace.Link
		for i := range links {
			if a, k := redactAttrs(e, links[i].Attributes); k > 0 {
				if out == nil {
					out = append([]sdktrace.Link(nil), links...)
				}
				out[i].Attributes = a
				n += k
			}
		}
		if out != nil {
			view().WithLinks(out)
		}
	}
	if st := s.Status(); st.Description != "" {
		if d, ok := e.String(st.Description); ok {
			st.Description = d
			view().WithStatus(st)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if attrs == nil {
		attrs = append(make([]attribute.KeyValue, 0, len(own)+len(ctxAttrs)+1), own...)
	}
	if len(ctxAttrs) > 0 {
		// The view replaces the attributes: merge the context part in, as
		// contextSpan.Attributes does (own keys win, the count limit holds;
		// the view's DroppedAttributes, read through to the contextSpan,
		// already counts what the limit leaves out).
		if ctxOut == nil {
			ctxOut = ctxAttrs
		}
		attrs = appendContext(attrs, own, ctxOut, limit)
	}
	return view().WithAttributes(append(attrs, redactionCountKey.Int(n)))
}

// redactAttrs returns a redacted copy of kvs and how many values changed, or
// (nil, 0) without allocating when nothing did.
func redactAttrs(e *redact.Engine, kvs []attribute.KeyValue) ([]attribute.KeyValue, int) {
	var out []attribute.KeyValue
	n := 0
	for i := range kvs {
		kv := &kvs[i]
		var nv attribute.KeyValue
		if kv.Value.Type() == attribute.STRING {
			// Most attributes: no KeyValue built or copied unless changed.
			s, ok := e.Attr(string(kv.Key), kv.Value.AsString())
			if !ok {
				continue
			}
			nv = attribute.String(string(kv.Key), s)
		} else {
			var ok bool
			if nv, ok = redactValue(e, kv); !ok {
				continue
			}
		}
		if out == nil {
			// One spare slot for redaction.count on span attributes.
			out = make([]attribute.KeyValue, len(kvs), len(kvs)+1)
			copy(out, kvs)
		}
		out[i] = nv
		n++
	}
	return out, n
}

// RedactValue redacts one attribute with the key-aware rules: strings and
// string slices element by element, int64 values that are card numbers (or
// sit under a secret key) become a placeholder string. Other types pass.
func RedactValue(e *redact.Engine, kv attribute.KeyValue) (attribute.KeyValue, bool) {
	if nv, ok := redactValue(e, &kv); ok {
		return nv, true
	}
	return kv, false
}

// redactValue is RedactValue on a pointer: spans carry attributes by the
// dozen, and a KeyValue is 64 bytes to copy in and out.
func redactValue(e *redact.Engine, kv *attribute.KeyValue) (attribute.KeyValue, bool) {
	key := string(kv.Key)
	switch kv.Value.Type() {
	case attribute.STRING:
		if s, ok := e.Attr(key, kv.Value.AsString()); ok {
			return attribute.String(key, s), true
		}
	case attribute.STRINGSLICE:
		ss := kv.Value.AsStringSlice()
		changed := false
		for i, s := range ss {
			if r, ok := e.Attr(key, s); ok {
				ss[i] = r // AsStringSlice returns a copy
				changed = true
			}
		}
		if changed {
			return attribute.StringSlice(key, ss), true
		}
	case attribute.INT64:
		if s, ok := e.Int(key, kv.Value.AsInt64()); ok {
			return attribute.String(key, s), true
		}
	}
	return attribute.KeyValue{}, false
}
