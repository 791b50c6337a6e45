package sampling

import (
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Sampler is the head sampler: an sdktrace.Sampler that decides at span
// start, from the trace ID and a rate, whether a trace is sampled.
//
//   - A root span (no parent) gets the rate of the first [Rule] that matches
//     it, else the default rate, and is sampled when [HeadSampled] says so.
//   - A span with a local parent follows its parent, so a trace is never cut.
//   - A span with a remote parent follows the parent's sampled flag when
//     parent-based (the default). A parent that is sampled is honoured; a
//     parent that is not sampled is honoured too, but with tail keep on the
//     span is still recorded (RecordOnly) so that a local error or a slow
//     local trace can be kept — the caller's decision is about cost, ours
//     about the trace the operator will need. A Sentry parent that deferred
//     its decision (sentry-trace without a sampled flag, see
//     [SentryPropagator]) is decided here as a root, with the parent's
//     sentry-sample_rand when it sent one. Without parent-based sampling a
//     remote parent's flag is ignored and the span is decided as a root.
//
// With tail keep on (the default) it never returns Drop: a span that loses
// the head decision is RecordOnly, for the [Keeper]. With tail keep off it is
// dropped.
//
// The trace's head rate is recorded in the tracestate under [TraceStateKey]
// so that its children and downstream services know it, and a sampled span
// gets the attributes sampling.reason=head and sentry.sample_rate — from
// ShouldSample (pre-built per rate, so the decision does not allocate), or,
// with [WithSpanAttributes](false), from [Sampler.HeadAttributes] when the
// span is exported.
//
// A Sampler is immutable and safe for concurrent use.
type Sampler struct {
	def         *rateState
	rules       []compiledRule
	parentBased bool
	spanAttrs   bool                      // ShouldSample returns the head attributes
	unsampled   sdktrace.SamplingDecision // RecordOnly with tail keep, else Drop
	desc        string

	// extra caches the state of rates seen upstream (sentry-sample_rate,
	// tracestate) that no rule has, so their children do not allocate.
	// Copy-on-write and bounded by maxExtraRates.
	extra   atomic.Pointer[[]*rateState]
	extraMu sync.Mutex
}

const maxExtraRates = 16

// rateState is everything a decision at one rate returns, built once.
type rateState struct {
	rate    float64
	bound   uint64
	attrs   []attribute.KeyValue // of a head-sampled span
	tsValue string               // the TraceStateKey value
	ts      trace.TraceState     // a tracestate holding only TraceStateKey
}

func newRateState(rate float64) *rateState {
	v := rateValue(rate)
	ts, _ := trace.TraceState{}.Insert(TraceStateKey, v) // v is always valid
	return &rateState{
		rate:    rate,
		bound:   ratioBound(rate),
		attrs:   []attribute.KeyValue{AttrReason.String(ReasonHead.String()), AttrSampleRate.Float64(rate)},
		tsValue: v,
		ts:      ts,
	}
}

// An Option configures a Sampler.
type Option func(*samplerOptions)

type samplerOptions struct {
	rules       []Rule
	parentBased bool
	tailKeep    bool
	spanAttrs   bool
}

// WithRules sets the rules, evaluated in order, first match wins. A later
// WithRules replaces the earlier ones.
func WithRules(rules ...Rule) Option {
	return func(o *samplerOptions) { o.rules = append([]Rule(nil), rules...) }
}

// WithParentBased sets whether a remote parent's sampled flag is followed
// (default true).
func WithParentBased(on bool) Option { return func(o *samplerOptions) { o.parentBased = on } }

// WithTailKeep sets whether spans that lose the head decision are still
// recorded for the [Keeper] (default true). Without tail keep they are
// dropped, as with sdktrace.TraceIDRatioBased.
func WithTailKeep(on bool) Option { return func(o *samplerOptions) { o.tailKeep = on } }

// WithSpanAttributes sets whether ShouldSample gives a sampled span the
// attributes sampling.reason=head and sentry.sample_rate (default true).
//
// Turn it off when they are added at export instead, from
// [Sampler.HeadAttributes], as telemetry.Setup does: attributes returned
// by a sampler are stored, normalised and de-duplicated by the SDK on every
// sampled span, which costs far more than appending them to a batch being
// exported. The tracestate entry is recorded either way.
func WithSpanAttributes(on bool) Option { return func(o *samplerOptions) { o.spanAttrs = on } }

// NewSampler returns a Sampler with the default rate in [0, 1]. It returns an
// error for a rate outside [0, 1] or an invalid rule, naming the rule.
func NewSampler(rate float64, opts ...Option) (*Sampler, error) {
	o := samplerOptions{parentBased: true, tailKeep: true, spanAttrs: true}
	for _, opt := range opts {
		opt(&o)
	}
	if rate < 0 || rate > 1 || rate != rate {
		return nil, fmt.Errorf("sampling: creating the sampler: rate %g must be between 0 and 1", rate)
	}
	s := &Sampler{def: newRateState(rate), parentBased: o.parentBased, spanAttrs: o.spanAttrs, unsampled: sdktrace.Drop}
	if o.tailKeep {
		s.unsampled = sdktrace.RecordOnly
	}
	for i, r := range o.rules {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("sampling: creating the sampler: rule %d (%s): %w", i+1, r, err)
		}
		s.rules = append(s.rules, compileRule(r))
	}
	s.desc = fmt.Sprintf("otelsentry.Sampler{rate:%g,rules:%d,parentBased:%t,tailKeep:%t}",
		rate, len(s.rules), o.parentBased, o.tailKeep)
	return s, nil
}

// Rate is the default rate, the one spans no rule matches get.
func (s *Sampler) Rate() float64 { return s.def.rate }

// Description implements sdktrace.Sampler.
func (s *Sampler) Description() string { return s.desc }

// ShouldSample implements sdktrace.Sampler. It does not allocate for a root
// or for a span with a local parent.
func (s *Sampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	psc := trace.SpanContextFromContext(p.ParentContext)
	switch {
	case !psc.IsValid():
		st := s.match(&p)
		return s.result(st, traceBits(p.TraceID) < st.bound, st.ts)
	case !psc.IsRemote():
		ts := psc.TraceState()
		if psc.IsSampled() {
			res := sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: ts}
			if s.spanAttrs {
				res.Attributes = s.stateOf(ts.Get(TraceStateKey)).attrs
			}
			return res
		}
		return sdktrace.SamplingResult{Decision: s.unsampled, Tracestate: ts}
	}
	return s.remote(&p, psc)
}

func (s *Sampler) remote(p *sdktrace.SamplingParameters, psc trace.SpanContext) sdktrace.SamplingResult {
	rs := remoteFromContext(p.ParentContext, p.TraceID)
	ts := psc.TraceState()
	if s.parentBased && (rs == nil || !rs.deferred) {
		if !psc.IsSampled() {
			return sdktrace.SamplingResult{Decision: s.unsampled, Tracestate: ts}
		}
		// The rate the trace was sampled at upstream: our own tracestate
		// entry, else Sentry's sentry-sample_rate, else (an OpenTelemetry
		// service that says nothing) the rate we would have used.
		if v := ts.Get(TraceStateKey); v != "" {
			if _, ok := parseRateValue(v); ok {
				return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Attributes: s.headAttrs(s.stateOf(v)), Tracestate: ts}
			}
		}
		st := s.match(p)
		if rs != nil && rs.hasRate {
			st = s.stateForRate(rs.rate)
		}
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Attributes: s.headAttrs(st), Tracestate: withRate(ts, st)}
	}
	st := s.match(p)
	sampled := traceBits(p.TraceID) < st.bound
	if rs != nil && rs.hasRand {
		sampled = rs.rand < st.rate
	}
	return s.result(st, sampled, withRate(ts, st))
}

func (s *Sampler) result(st *rateState, sampled bool, ts trace.TraceState) sdktrace.SamplingResult {
	if sampled {
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Attributes: s.headAttrs(st), Tracestate: ts}
	}
	return sdktrace.SamplingResult{Decision: s.unsampled, Tracestate: ts}
}

// headAttrs is what ShouldSample returns as a sampled span's attributes.
func (s *Sampler) headAttrs(st *rateState) []attribute.KeyValue {
	if !s.spanAttrs {
		return nil
	}
	return st.attrs
}

// HeadAttributes returns the attributes a span that the head decision
// sampled is exported with — sampling.reason=head and sentry.sample_rate —
// given its SpanContext, or nil when sc is not sampled. The rate is read from
// the tracestate entry the Sampler recorded for the trace (a tracestate
// without one, which happens only when an upstream filled all 32 entries,
// gives the default rate). The slice is shared: callers must not modify it.
// It does not allocate for the default rate, a rule's rate or one of the
// first upstream rates seen.
//
// It is for a Sampler built with [WithSpanAttributes](false); spans that
// were tail-kept carry [KeptAttributes] instead.
func (s *Sampler) HeadAttributes(sc trace.SpanContext) []attribute.KeyValue {
	if !sc.IsSampled() {
		return nil
	}
	return s.stateOf(sc.TraceState().Get(TraceStateKey)).attrs
}

// withRate records st's rate in ts, replacing an upstream one.
func withRate(ts trace.TraceState, st *rateState) trace.TraceState {
	if ts.Len() == 0 {
		return st.ts
	}
	if out, err := ts.Insert(TraceStateKey, st.tsValue); err == nil {
		return out
	}
	return ts // a full tracestate (32 entries) keeps what it has
}

// match returns the state of the first rule that matches p, else the default.
func (s *Sampler) match(p *sdktrace.SamplingParameters) *rateState {
	if len(s.rules) == 0 {
		return s.def
	}
	var route, method string
	scanned := false
	for i := range s.rules {
		r := &s.rules[i]
		if r.hasName && !r.name.match(p.Name) {
			continue
		}
		if r.hasRoute {
			if !scanned {
				route, method = requestOf(p.Attributes)
				scanned = true
			}
			if route == "" || !r.route.match(route) {
				continue
			}
			if r.method != "" && r.method != method {
				continue
			}
		}
		return r.state
	}
	return s.def
}

// stateOf returns the state for a TraceStateKey value: the default's or a
// rule's without allocating, else that of the rate it holds (see
// stateForRate); an empty or malformed value gives the default.
func (s *Sampler) stateOf(v string) *rateState {
	if v == s.def.tsValue || v == "" {
		return s.def
	}
	for i := range s.rules {
		if st := s.rules[i].state; st.tsValue == v {
			return st
		}
	}
	rate, ok := parseRateValue(v)
	if !ok {
		return s.def
	}
	return s.stateForRate(rate)
}

// stateForRate returns the state of rate: the default's, a rule's, or one
// cached for upstream rates. Past maxExtraRates distinct upstream rates it
// builds a new one per call rather than grow without bound.
func (s *Sampler) stateForRate(rate float64) *rateState {
	if rate == s.def.rate {
		return s.def
	}
	for i := range s.rules {
		if st := s.rules[i].state; st.rate == rate {
			return st
		}
	}
	if p := s.extra.Load(); p != nil {
		for _, st := range *p {
			if st.rate == rate {
				return st
			}
		}
	}
	s.extraMu.Lock()
	defer s.extraMu.Unlock()
	var cur []*rateState
	if p := s.extra.Load(); p != nil {
		cur = *p
	}
	for _, st := range cur { // added while we waited for the lock
		if st.rate == rate {
			return st
		}
	}
	st := newRateState(rate)
	if len(cur) < maxExtraRates {
		next := append(append(make([]*rateState, 0, len(cur)+1), cur...), st)
		s.extra.Store(&next)
	}
	return st
}
