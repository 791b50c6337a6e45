package processors

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// Light spans.
//
// The SDK records a span as an object holding a copy of its attributes
// under the span limits and, at End, makes a second copy, the snapshot the
// processors get. With tail keep every span is recorded — nine traces in
// ten only to be dropped — and on the reference service that recording was
// most of what the pipeline cost (docs/PERFORMANCE.md).
//
// [LightProvider] records spans with one object instead: the span keeps
// what it was given as it was given (the start options' attributes are not
// copied again), is its own snapshot after End, and goes through the same
// processor chain (OnStart, OnEnd) as the SDK's spans, after the same
// sampling decision. The SDK's limits and normalisation (attribute count
// and length limits, de-duplication, event and link limits) are applied
// when the span is read: when what it holds is already within them — the
// common case — it is read as it is; otherwise it is replayed once into a
// span of a private SDK provider with the same limits, and that span's
// attributes, events and links are what it reports. So a reader sees what
// the SDK would have given it, and the spans of traces that are dropped —
// most of them — are never normalised at all.

// LightConfig configures [NewLightProvider]: what an SDK TracerProvider
// would be given.
type LightConfig struct {
	// Sampler decides every span, as the SDK's sampler does (parent-based
	// or not is its own business). Required.
	Sampler sdktrace.Sampler
	// Processor receives every recorded span, OnStart and OnEnd, as an SDK
	// span processor does. Required.
	Processor sdktrace.SpanProcessor
	// Resource is reported by every span.
	Resource *resource.Resource
	// Limits are the span limits (sdktrace.NewSpanLimits for the SDK's).
	Limits sdktrace.SpanLimits
}

// LightProvider is a TracerProvider whose spans are light spans (see
// [NewLightProvider]).
type LightProvider struct {
	embedded.TracerProvider

	cfg     LightConfig
	private *sdktrace.TracerProvider // no processor: normalises a light span
	closed  atomic.Bool
	tracers sync.Map // tracerKey → *liteTracer
}

// NewLightProvider returns a TracerProvider that decides spans with
// cfg.Sampler as the SDK's provider does — trace and span IDs random as
// the SDK's default generator makes them, the parent's flags and the
// sampler's tracestate — and records those the sampler records (sampled or
// RecordOnly) with light spans, given to cfg.Processor as the SDK gives its
// spans to its processors. A span the sampler drops is non-recording.
//
// Its spans read as the SDK's (TestLightSpansReadAsTheSDKsOwn holds them to
// it): the difference is what they cost. It owns no processor: flushing and
// shutting down cfg.Processor is the caller's (telemetry registers it with
// an SDK provider for that).
func NewLightProvider(cfg LightConfig) *LightProvider {
	return &LightProvider{
		cfg: cfg,
		private: sdktrace.NewTracerProvider(sdktrace.WithSpanLimits(cfg.Limits),
			sdktrace.WithSampler(sdktrace.AlwaysSample())),
	}
}

// Close stops recording: spans started afterwards are non-recording, as an
// SDK provider's are once shut down. Call it before shutting the processor
// down.
func (p *LightProvider) Close() { p.closed.Store(true) }

// sdkDefaultTracerName is the scope name the SDK gives a tracer asked for
// without one.
const sdkDefaultTracerName = "go.opentelemetry.io/otel/sdk/tracer"

type tracerKey struct {
	name, version, schemaURL string
	attrs                    attribute.Distinct
}

// Tracer implements trace.TracerProvider.
func (p *LightProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	c := trace.NewTracerConfig(opts...)
	attrs := c.InstrumentationAttributes()
	key := tracerKey{name, c.InstrumentationVersion(), c.SchemaURL(), attrs.Equivalent()}
	if t, ok := p.tracers.Load(key); ok {
		return t.(*liteTracer)
	}
	scope := name
	if scope == "" {
		scope = sdkDefaultTracerName // as the SDK names it
	}
	t := &liteTracer{
		p:    p,
		priv: p.private.Tracer(name, opts...),
		scope: instrumentation.Scope{Name: scope, Version: c.InstrumentationVersion(),
			SchemaURL: c.SchemaURL(), Attributes: attrs},
	}
	actual, _ := p.tracers.LoadOrStore(key, t)
	return actual.(*liteTracer)
}

type liteTracer struct {
	embedded.Tracer
	p     *LightProvider
	priv  trace.Tracer
	scope instrumentation.Scope
}

// Start implements trace.Tracer, as the SDK's tracer does.
func (t *liteTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := trace.NewSpanStartConfig(opts...)
	parent := trace.SpanFromContext(ctx)
	if p, ok := parent.(*liteSpan); ok {
		p.addChild() // as the SDK's, a child started WithNewRoot too
	}
	var psc trace.SpanContext
	sctx := ctx
	if cfg.NewRoot() {
		sctx = trace.ContextWithSpanContext(ctx, psc)
	} else {
		psc = parent.SpanContext()
	}
	tid := psc.TraceID()
	if !tid.IsValid() {
		tid = newTraceID()
	}
	res := t.p.cfg.Sampler.ShouldSample(sdktrace.SamplingParameters{
		ParentContext: sctx, TraceID: tid, Name: name,
		Kind: cfg.SpanKind(), Attributes: cfg.Attributes(), Links: cfg.Links(),
	})
	flags := psc.TraceFlags() &^ trace.FlagsSampled
	if res.Decision == sdktrace.RecordAndSample {
		flags |= trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: newSpanID(),
		TraceFlags: flags, TraceState: res.Tracestate})
	if res.Decision == sdktrace.Drop || t.p.closed.Load() {
		ctx = trace.ContextWithSpanContext(ctx, sc) // a non-recording span
		return ctx, trace.SpanFromContext(ctx)
	}
	start := cfg.Timestamp()
	if start.IsZero() {
		start = time.Now()
	}
	s := &liteSpan{
		t:      t,
		parent: psc,
		sc:     sc,
		kind:   trace.ValidateSpanKind(cfg.SpanKind()),
		start:  start,
		name:   name,
		attrs:  cfg.Attributes(), // the config's own copy: kept, not copied again
	}
	if len(res.Attributes) > 0 { // the sampler's first, as the SDK sets them
		s.attrs = append(append(make([]attribute.KeyValue, 0, len(res.Attributes)+len(s.attrs)), res.Attributes...), s.attrs...)
	}
	for _, l := range cfg.Links() {
		s.addLink(l)
	}
	t.p.cfg.Processor.OnStart(ctx, s)
	return trace.ContextWithSpan(ctx, s), s
}

// newSpanID and newTraceID are random, valid IDs, as the SDK's default
// generator makes them.
func newSpanID() trace.SpanID {
	var id trace.SpanID
	for !id.IsValid() {
		binary.NativeEndian.PutUint64(id[:], rand.Uint64())
	}
	return id
}

func newTraceID() trace.TraceID {
	var id trace.TraceID
	for !id.IsValid() {
		binary.NativeEndian.PutUint64(id[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(id[8:], rand.Uint64())
	}
	return id
}

// liteSpan is a span recorded lightly (see LightProvider). It is a
// ReadWriteSpan while live and its own ReadOnlySpan once ended; the
// embedded interface is nil and only supplies the SDK's unexported methods.
type liteSpan struct {
	sdktrace.ReadWriteSpan

	t      *liteTracer
	parent trace.SpanContext
	sc     trace.SpanContext
	kind   trace.SpanKind
	start  time.Time

	// The context attributes a deferring enrich stage attached at start
	// (see EnrichDeferred): read like a contextSpan's.
	ctx      []attribute.KeyValue
	ctxLimit int

	mu       sync.Mutex
	name     string
	end      time.Time
	ended    bool
	attrs    []attribute.KeyValue // given at start, as given: normalised on read
	more     []attribute.KeyValue // then set by SetAttributes, in order
	events   []sdktrace.Event     // as added
	links    []trace.Link         // as added
	status   sdktrace.Status
	children int

	// What the span reports under the SDK's limits, once ended.
	normAttrs  atomic.Pointer[liteAttrs]
	normEvents atomic.Pointer[liteEvents]
	normLinks  atomic.Pointer[liteLinks]
}

// noEvents and noLinks are shared by every span without: empty, not nil,
// as the SDK's.
var (
	noEvents = &liteEvents{events: []sdktrace.Event{}}
	noLinks  = &liteLinks{links: []sdktrace.Link{}}
)

type liteAttrs struct {
	kvs     []attribute.KeyValue
	dropped int
}

type liteEvents struct {
	events  []sdktrace.Event
	dropped int
}

type liteLinks struct {
	links   []sdktrace.Link
	dropped int
}

func (s *liteSpan) addChild() {
	s.mu.Lock()
	if !s.ended {
		s.children++
	}
	s.mu.Unlock()
}

// deferContext attaches the context attributes a deferring enrich stage
// does not set live; called from OnStart, before the span is shared.
func (s *liteSpan) deferContext(kvs []attribute.KeyValue, limit int) {
	s.ctx, s.ctxLimit = kvs, limit
}

// End implements trace.Span, as the SDK's span does: the end time, an
// exception event when it is called while panicking (the panic goes on),
// then the chain's OnEnd.
func (s *liteSpan) End(options ...trace.SpanEndOption) {
	et := s.start.Add(time.Since(s.start))
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	cfg := trace.NewSpanEndConfig(options...)
	if recovered := recover(); recovered != nil {
		defer panic(recovered)
		attrs := []attribute.KeyValue{
			exceptionType.String(typeStr(recovered)),
			exceptionMessage.String(fmt.Sprint(recovered)),
		}
		if cfg.StackTrace() {
			attrs = append(attrs, exceptionStacktrace.String(recordStackTrace()))
		}
		s.events = append(s.events, sdktrace.Event{Name: exceptionEvent, Attributes: attrs, Time: time.Now()})
	}
	if ts := cfg.Timestamp(); !ts.IsZero() {
		et = ts
	}
	s.end, s.ended = et, true
	s.mu.Unlock()
	s.t.p.cfg.Processor.OnEnd(s)
}

// The exception event's attributes (OpenTelemetry semantic conventions).
const (
	exceptionType       = attribute.Key("exception.type")
	exceptionMessage    = attribute.Key("exception.message")
	exceptionStacktrace = attribute.Key("exception.stacktrace")
)

// typeStr and recordStackTrace are the SDK's own, so that an exception
// event reads the same whichever span recorded it.
func typeStr(i any) string {
	t := reflect.TypeOf(i)
	if t.PkgPath() == "" && t.Name() == "" {
		return t.String()
	}
	return fmt.Sprintf("%s.%s", t.PkgPath(), t.Name())
}

func recordStackTrace() string {
	stackTrace := make([]byte, 2048)
	n := runtime.Stack(stackTrace, false)
	return string(stackTrace[0:n])
}

// AddEvent implements trace.Span.
func (s *liteSpan) AddEvent(name string, options ...trace.EventOption) {
	c := trace.NewEventConfig(options...)
	s.mu.Lock()
	if !s.ended {
		s.events = append(s.events, sdktrace.Event{Name: name, Attributes: c.Attributes(), Time: c.Timestamp()})
	}
	s.mu.Unlock()
}

// RecordError implements trace.Span, as the SDK's span does.
func (s *liteSpan) RecordError(err error, options ...trace.EventOption) {
	if err == nil || !s.IsRecording() {
		return
	}
	options = append(options, trace.WithAttributes(
		exceptionType.String(typeStr(err)),
		exceptionMessage.String(err.Error()),
	))
	if c := trace.NewEventConfig(options...); c.StackTrace() {
		options = append(options, trace.WithAttributes(exceptionStacktrace.String(recordStackTrace())))
	}
	s.AddEvent(exceptionEvent, options...)
}

// AddLink implements trace.Span.
func (s *liteSpan) AddLink(link trace.Link) {
	s.mu.Lock()
	if !s.ended {
		s.addLink(link)
	}
	s.mu.Unlock()
}

func (s *liteSpan) addLink(link trace.Link) {
	// The SDK ignores an empty link.
	if !link.SpanContext.IsValid() && len(link.Attributes) == 0 && link.SpanContext.TraceState().Len() == 0 {
		return
	}
	s.links = append(s.links, link)
}

// IsRecording implements trace.Span: true until End.
func (s *liteSpan) IsRecording() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.ended
}

// SpanContext implements trace.Span and sdktrace.ReadOnlySpan.
func (s *liteSpan) SpanContext() trace.SpanContext { return s.sc }

// SetStatus implements trace.Span, as the SDK's span does: Ok is final,
// Unset changes nothing, a description is kept for Error only.
func (s *liteSpan) SetStatus(code codes.Code, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.status.Code > code {
		return
	}
	st := sdktrace.Status{Code: code}
	if code == codes.Error {
		st.Description = description
	}
	s.status = st
}

// SetName implements trace.Span.
func (s *liteSpan) SetName(name string) {
	s.mu.Lock()
	if !s.ended {
		s.name = name
	}
	s.mu.Unlock()
}

// SetAttributes implements trace.Span. The attributes are kept as given;
// the SDK's limits apply when they are read.
func (s *liteSpan) SetAttributes(kv ...attribute.KeyValue) {
	if len(kv) == 0 {
		return
	}
	s.mu.Lock()
	if !s.ended {
		if s.more == nil {
			// Room for the few that usually follow: one allocation.
			s.more = make([]attribute.KeyValue, 0, max(len(kv), 4))
		}
		s.more = append(s.more, kv...)
	}
	s.mu.Unlock()
}

// setAttributes are the attributes given at start, then those set since,
// in order; s.mu held. A new slice when there are both (read rarely: most
// light spans are dropped unread), so that SetAttributes never copies what
// the start options gave.
func (s *liteSpan) setAttributes() []attribute.KeyValue {
	switch {
	case len(s.more) == 0:
		return s.attrs
	case len(s.attrs) == 0:
		return s.more
	}
	return append(append(make([]attribute.KeyValue, 0, len(s.attrs)+len(s.more)), s.attrs...), s.more...)
}

// rawAttr is the value the span's own attributes would have for key under
// the SDK's limits, read from what it holds; sure is false when the limits
// could make a difference (more attributes set than the count limit, a
// value the SDK would truncate or normalise): the caller then normalises.
func (s *liteSpan) rawAttr(key attribute.Key) (v attribute.Value, found, sure bool) {
	l := &s.t.p.cfg.Limits
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.AttributeCountLimit >= 0 && len(s.attrs)+len(s.more) > l.AttributeCountLimit {
		return v, false, false
	}
	for _, kvs := range [2][]attribute.KeyValue{s.more, s.attrs} { // the last value wins
		for i := len(kvs) - 1; i >= 0; i-- {
			if kvs[i].Key != key {
				continue
			}
			if !plainValue(kvs[i].Value, l.AttributeValueLengthLimit) {
				return v, false, false
			}
			return kvs[i].Value, true, true
		}
	}
	return v, false, true
}

// TracerProvider implements trace.Span.
func (s *liteSpan) TracerProvider() trace.TracerProvider { return s.t.p }

// Name implements sdktrace.ReadOnlySpan.
func (s *liteSpan) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}

// Parent implements sdktrace.ReadOnlySpan.
func (s *liteSpan) Parent() trace.SpanContext { return s.parent }

// SpanKind implements sdktrace.ReadOnlySpan.
func (s *liteSpan) SpanKind() trace.SpanKind { return s.kind }

// StartTime implements sdktrace.ReadOnlySpan.
func (s *liteSpan) StartTime() time.Time { return s.start }

// EndTime implements sdktrace.ReadOnlySpan.
func (s *liteSpan) EndTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end
}

// Status implements sdktrace.ReadOnlySpan.
func (s *liteSpan) Status() sdktrace.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// ChildSpanCount implements sdktrace.ReadOnlySpan.
func (s *liteSpan) ChildSpanCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.children
}

// InstrumentationScope implements sdktrace.ReadOnlySpan.
func (s *liteSpan) InstrumentationScope() instrumentation.Scope { return s.t.scope }

// InstrumentationLibrary implements sdktrace.ReadOnlySpan.
//
//nolint:staticcheck // part of the interface
func (s *liteSpan) InstrumentationLibrary() instrumentation.Library { return s.t.scope }

// Resource implements sdktrace.ReadOnlySpan.
func (s *liteSpan) Resource() *resource.Resource { return s.t.p.cfg.Resource }

// Attributes implements sdktrace.ReadOnlySpan: its own attributes under the
// SDK's limits, then the context attributes it does not have (as
// contextSpan.Attributes).
func (s *liteSpan) Attributes() []attribute.KeyValue {
	own := s.ownAttributes().kvs
	if len(s.ctx) == 0 {
		return own
	}
	return mergeContext(own, s.ctx, s.ctxLimit)
}

// DroppedAttributes implements sdktrace.ReadOnlySpan.
func (s *liteSpan) DroppedAttributes() int {
	a := s.ownAttributes()
	return a.dropped + droppedContext(a.kvs, s.ctx, s.ctxLimit)
}

// Events implements sdktrace.ReadOnlySpan.
func (s *liteSpan) Events() []sdktrace.Event { return s.normalEvents().events }

// DroppedEvents implements sdktrace.ReadOnlySpan.
func (s *liteSpan) DroppedEvents() int { return s.normalEvents().dropped }

// Links implements sdktrace.ReadOnlySpan.
func (s *liteSpan) Links() []sdktrace.Link { return s.normalLinks().links }

// DroppedLinks implements sdktrace.ReadOnlySpan.
func (s *liteSpan) DroppedLinks() int { return s.normalLinks().dropped }

// cached returns what compute makes of the span, s.mu held: computed once
// after End and kept in p, computed on each call before.
func cached[T any](s *liteSpan, p *atomic.Pointer[T], compute func() *T) *T {
	if v := p.Load(); v != nil {
		return v
	}
	s.mu.Lock()
	v := compute()
	ended := s.ended
	s.mu.Unlock()
	if !ended || p.CompareAndSwap(nil, v) {
		return v
	}
	return p.Load()
}

// ownAttributes are the span's attributes as the SDK would store them:
// de-duplicated (a key keeps its first position and its last value),
// invalid ones dropped and counted. When a value would be truncated or
// normalised, or more keys are set than the count limit allows, the span is
// replayed into the SDK instead.
func (s *liteSpan) ownAttributes() *liteAttrs {
	return cached(s, &s.normAttrs, func() *liteAttrs {
		l := &s.t.p.cfg.Limits
		if a, ok := plainAttributes(s.setAttributes(), l.AttributeCountLimit, l.AttributeValueLengthLimit); ok {
			return a
		}
		r := s.replay()
		return &liteAttrs{kvs: r.Attributes(), dropped: r.DroppedAttributes()}
	})
}

func (s *liteSpan) normalEvents() *liteEvents {
	return cached(s, &s.normEvents, func() *liteEvents {
		if len(s.events) == 0 {
			return noEvents
		}
		l := &s.t.p.cfg.Limits
		if l.EventCountLimit < 0 || len(s.events) <= l.EventCountLimit {
			plain := true
			for i := range s.events {
				if !plainEventAttributes(s.events[i].Attributes, l.AttributePerEventCountLimit) {
					plain = false
					break
				}
			}
			if plain {
				return &liteEvents{events: s.events}
			}
		}
		r := s.replay()
		return &liteEvents{events: r.Events(), dropped: r.DroppedEvents()}
	})
}

func (s *liteSpan) normalLinks() *liteLinks {
	return cached(s, &s.normLinks, func() *liteLinks {
		if len(s.links) == 0 {
			return noLinks
		}
		r := s.replay()
		return &liteLinks{links: r.Links(), dropped: r.DroppedLinks()}
	})
}

// maxPlainAttributes bounds the attributes plainAttributes takes: it looks
// for duplicate keys pair by pair, which past a few dozen costs more than
// the SDK's way (a map), so a span with more is replayed instead.
const maxPlainAttributes = 32

// plainAttributes returns kvs as the SDK would store them when it would
// not truncate or normalise a value (strings, and the elements of string
// slices, no longer than lengthLimit bytes, < 0: none; no nested value)
// and the distinct valid keys fit in countLimit (< 0: none): then the SDK's
// result is kvs de-duplicated, invalid ones dropped. kvs itself is returned
// when that changes nothing.
func plainAttributes(kvs []attribute.KeyValue, countLimit, lengthLimit int) (*liteAttrs, bool) {
	if len(kvs) > maxPlainAttributes {
		return nil, false
	}
	distinct, invalid := 0, 0
	for i, kv := range kvs {
		if !kv.Valid() {
			invalid++
			continue
		}
		if !plainValue(kv.Value, lengthLimit) {
			return nil, false
		}
		if !hasKey(kvs[:i], kv.Key) {
			distinct++
		}
	}
	if countLimit >= 0 && distinct > countLimit {
		return nil, false
	}
	if invalid == 0 && distinct == len(kvs) {
		return &liteAttrs{kvs: kvs}, true
	}
	out := make([]attribute.KeyValue, 0, distinct)
next:
	for _, kv := range kvs {
		if !kv.Valid() {
			continue
		}
		for i := range out {
			if out[i].Key == kv.Key {
				out[i] = kv
				continue next
			}
		}
		out = append(out, kv)
	}
	return &liteAttrs{kvs: out, dropped: invalid}, true
}

// plainValue reports whether the SDK stores v as it is: not nested, and no
// string (or string of a slice) longer than lengthLimit bytes (< 0: none).
func plainValue(v attribute.Value, lengthLimit int) bool {
	switch v.Type() {
	case attribute.BOOL, attribute.INT64, attribute.FLOAT64,
		attribute.BOOLSLICE, attribute.INT64SLICE, attribute.FLOAT64SLICE:
		return true
	case attribute.STRING:
		return lengthLimit < 0 || len(v.AsString()) <= lengthLimit
	case attribute.STRINGSLICE:
		if lengthLimit >= 0 {
			for _, e := range v.AsStringSlice() {
				if len(e) > lengthLimit {
					return false
				}
			}
		}
		return true
	}
	return false
}

// plainEventAttributes reports whether the SDK would store an event's
// attributes as they are: no nested value (whose duplicate keys it
// removes), within the per-event limit (< 0: none). It keeps duplicate keys
// of the event itself.
func plainEventAttributes(kvs []attribute.KeyValue, limit int) bool {
	if limit >= 0 && len(kvs) > limit {
		return false
	}
	for _, kv := range kvs {
		switch kv.Value.Type() {
		case attribute.SLICE, attribute.MAP:
			return false
		}
	}
	return true
}

// replay gives the span's calls to a span of the private provider (same
// limits, no processor) and returns it, ended, to read what the SDK made of
// them. The attributes go in as one list: the SDK's rules (first position,
// last value, new keys past the limit dropped) give the same result for one
// call as for the calls that were made.
func (s *liteSpan) replay() sdktrace.ReadOnlySpan {
	opts := []trace.SpanStartOption{trace.WithTimestamp(s.start), trace.WithSpanKind(s.kind), trace.WithNewRoot()}
	if kvs := s.setAttributes(); len(kvs) > 0 {
		opts = append(opts, trace.WithAttributes(kvs...))
	}
	if len(s.links) > 0 {
		opts = append(opts, trace.WithLinks(s.links...))
	}
	_, sp := s.t.priv.Start(context.Background(), s.name, opts...)
	for _, e := range s.events {
		sp.AddEvent(e.Name, trace.WithTimestamp(e.Time), trace.WithAttributes(e.Attributes...))
	}
	sp.End(trace.WithTimestamp(s.start))
	return sp.(sdktrace.ReadOnlySpan)
}
