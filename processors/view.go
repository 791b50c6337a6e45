package processors

import (
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// View presents a span with some of its data replaced, for the stages that
// must hand on a span that differs from the one the SDK ended: the keep stage
// marks a tail-kept span sampled (the batch processor drops unsampled spans),
// the redact stage replaces what it redacts.
//
// sdktrace.ReadOnlySpan has an unexported method, so a view must embed a
// real span: View embeds the original and overrides Name, SpanContext,
// Attributes, Events, Links and Status when a With… method set them; every
// other method, and any not set, reads through to the original.
//
// The original is never modified. A View is not safe for concurrent
// mutation: build it, then hand it on; once handed on it is read-only, and
// safe for concurrent reads if the values given to it are not modified.
type View struct {
	sdktrace.ReadOnlySpan

	set         viewFields
	name        string
	spanContext trace.SpanContext
	attributes  []attribute.KeyValue
	events      []sdktrace.Event
	links       []sdktrace.Link
	status      sdktrace.Status
}

type viewFields uint8

const (
	viewName viewFields = 1 << iota
	viewSpanContext
	viewAttributes
	viewEvents
	viewLinks
	viewStatus
)

// NewView returns a view of s that overrides nothing yet. When s is itself a
// *View the new view copies it — its overrides included — and embeds the
// same original, so that stacked stages do not nest views; s is not changed.
func NewView(s sdktrace.ReadOnlySpan) *View {
	if v, ok := s.(*View); ok {
		c := *v
		return &c
	}
	return &View{ReadOnlySpan: s}
}

// Original is the span the SDK ended, under every view.
func (v *View) Original() sdktrace.ReadOnlySpan { return v.ReadOnlySpan }

// WithName overrides Name.
func (v *View) WithName(name string) *View {
	v.name, v.set = name, v.set|viewName
	return v
}

// WithSpanContext overrides SpanContext.
func (v *View) WithSpanContext(sc trace.SpanContext) *View {
	v.spanContext, v.set = sc, v.set|viewSpanContext
	return v
}

// WithAttributes overrides Attributes with kvs (all of them: to add, pass the
// current ones and the new). The view keeps kvs; the caller must not modify
// it afterwards.
func (v *View) WithAttributes(kvs []attribute.KeyValue) *View {
	v.attributes, v.set = kvs, v.set|viewAttributes
	return v
}

// WithEvents overrides Events. The view keeps events.
func (v *View) WithEvents(events []sdktrace.Event) *View {
	v.events, v.set = events, v.set|viewEvents
	return v
}

// WithLinks overrides Links. The view keeps links.
func (v *View) WithLinks(links []sdktrace.Link) *View {
	v.links, v.set = links, v.set|viewLinks
	return v
}

// WithStatus overrides Status.
func (v *View) WithStatus(st sdktrace.Status) *View {
	v.status, v.set = st, v.set|viewStatus
	return v
}

// Name implements sdktrace.ReadOnlySpan.
func (v *View) Name() string {
	if v.set&viewName != 0 {
		return v.name
	}
	return v.ReadOnlySpan.Name()
}

// SpanContext implements sdktrace.ReadOnlySpan.
func (v *View) SpanContext() trace.SpanContext {
	if v.set&viewSpanContext != 0 {
		return v.spanContext
	}
	return v.ReadOnlySpan.SpanContext()
}

// Attributes implements sdktrace.ReadOnlySpan.
func (v *View) Attributes() []attribute.KeyValue {
	if v.set&viewAttributes != 0 {
		return v.attributes
	}
	return v.ReadOnlySpan.Attributes()
}

// Events implements sdktrace.ReadOnlySpan.
func (v *View) Events() []sdktrace.Event {
	if v.set&viewEvents != 0 {
		return v.events
	}
	return v.ReadOnlySpan.Events()
}

// Links implements sdktrace.ReadOnlySpan.
func (v *View) Links() []sdktrace.Link {
	if v.set&viewLinks != 0 {
		return v.links
	}
	return v.ReadOnlySpan.Links()
}

// Status implements sdktrace.ReadOnlySpan.
func (v *View) Status() sdktrace.Status {
	if v.set&viewStatus != 0 {
		return v.status
	}
	return v.ReadOnlySpan.Status()
}
