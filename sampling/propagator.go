package sampling

import (
	"context"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Header names of Sentry's trace propagation.
const (
	SentryTraceHeader = "sentry-trace"
	BaggageHeader     = "baggage"
	sentryPrefix      = "sentry-"
)

// PropagatorConfig is what a [SentryPropagator] puts into the dynamic
// sampling context (the sentry-* baggage entries) of a trace that starts in
// this service.
type PropagatorConfig struct {
	Environment string // sentry-environment
	Release     string // sentry-release
	PublicKey   string // sentry-public_key: the public key of the Sentry DSN
	// SampleRate is sentry-sample_rate when the span's tracestate does not
	// carry the trace's head rate (see [TraceStateKey]), for example when the
	// TracerProvider's sampler is not a [Sampler].
	SampleRate float64
}

// SentryPropagator is a propagation.TextMapPropagator for Sentry's trace
// headers, so that a service instrumented with a Sentry SDK (a browser, a
// Python service) and this OpenTelemetry-only service continue each other's
// traces.
//
// Extract reads the sentry-* entries of the baggage header (Sentry's dynamic
// sampling context, DSC) and, when the context has no remote span context yet
// — put it after propagation.TraceContext, which wins when traceparent is
// present — the sentry-trace header, "traceid-spanid[-sampled]". A missing
// sampled flag is taken from sentry-sampled, and when that is missing too the
// parent deferred its decision: a [Sampler] then decides as for a root, with
// sentry-sample_rand when present, so it agrees with the Sentry SDKs of the
// trace. A DSC whose sentry-trace_id is not the trace's is ignored.
//
// Inject writes sentry-trace from the span context and the DSC into the
// baggage header, keeping the header's other members (so put it after
// propagation.Baggage, whose Set it would otherwise lose). The DSC is the
// incoming one, unchanged, when the trace came with one — Sentry freezes a
// trace's DSC at its head — else a new one: sentry-trace_id, sentry-sampled,
// sentry-sample_rate, sentry-sample_rand, sentry-environment, sentry-release,
// sentry-public_key.
//
// It is immutable and safe for concurrent use.
type SentryPropagator struct {
	cfg  PropagatorConfig
	rate string // cfg.SampleRate, formatted once
	env  string // escaped values, once
	rel  string
	key  string
}

var _ propagation.TextMapPropagator = (*SentryPropagator)(nil)

// NewSentryPropagator returns a SentryPropagator with cfg.
func NewSentryPropagator(cfg PropagatorConfig) *SentryPropagator {
	return &SentryPropagator{
		cfg:  cfg,
		rate: strconv.FormatFloat(cfg.SampleRate, 'f', -1, 64),
		env:  escapeBaggageValue(cfg.Environment),
		rel:  escapeBaggageValue(cfg.Release),
		key:  escapeBaggageValue(cfg.PublicKey),
	}
}

// Fields implements propagation.TextMapPropagator.
func (p *SentryPropagator) Fields() []string { return []string{SentryTraceHeader, BaggageHeader} }

// remoteState is what Extract learnt about the incoming trace that a span
// context cannot hold. The Sampler reads it for a remote parent; Inject
// re-sends its DSC.
type remoteState struct {
	traceID  trace.TraceID
	deferred bool // the parent sent no sampling decision
	rate     float64
	hasRate  bool
	rand     float64
	hasRand  bool
	members  []string // the raw sentry-* baggage members, in order
}

type remoteKey struct{}

// remoteFromContext returns the state Extract stored for trace id, or nil.
func remoteFromContext(ctx context.Context, id trace.TraceID) *remoteState {
	rs, _ := ctx.Value(remoteKey{}).(*remoteState)
	if rs == nil || rs.traceID != id {
		return nil
	}
	return rs
}

// Extract implements propagation.TextMapPropagator.
func (p *SentryPropagator) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	dsc := parseDSC(baggageOf(carrier))
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && sc.IsRemote() {
		// traceparent won; the DSC still tells the rate and sample_rand.
		if dsc != nil && dsc.matches(sc.TraceID()) {
			rs := dsc.state(sc.TraceID())
			return context.WithValue(ctx, remoteKey{}, rs)
		}
		return ctx
	}
	tid, sid, flag, ok := parseSentryTrace(carrier.Get(SentryTraceHeader))
	if !ok {
		return ctx
	}
	var rs *remoteState
	if dsc != nil && dsc.matches(tid) {
		rs = dsc.state(tid)
	} else {
		rs = &remoteState{traceID: tid}
	}
	sampled := false
	switch {
	case flag != 0:
		sampled = flag == '1'
	case dsc != nil && dsc.hasSampled && dsc.matches(tid):
		sampled = dsc.sampled
	default:
		rs.deferred = true
	}
	var flags trace.TraceFlags
	if sampled {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, Remote: true})
	ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	return context.WithValue(ctx, remoteKey{}, rs)
}

// Inject implements propagation.TextMapPropagator.
func (p *SentryPropagator) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	var b strings.Builder
	b.Grow(32 + 1 + 16 + 2)
	b.WriteString(hex.EncodeToString(tid[:]))
	b.WriteByte('-')
	b.WriteString(hex.EncodeToString(sid[:]))
	if sc.IsSampled() {
		b.WriteString("-1")
	} else {
		b.WriteString("-0")
	}
	carrier.Set(SentryTraceHeader, b.String())

	b.Reset()
	// Keep every member that is not Sentry's.
	for m := range strings.SplitSeq(carrier.Get(BaggageHeader), ",") {
		if m = strings.TrimSpace(m); m == "" || strings.HasPrefix(m, sentryPrefix) {
			continue
		}
		b.WriteString(m)
		b.WriteByte(',')
	}
	if rs := remoteFromContext(ctx, tid); rs != nil && len(rs.members) > 0 {
		for _, m := range rs.members {
			b.WriteString(m)
			b.WriteByte(',')
		}
	} else {
		p.writeDSC(&b, sc)
	}
	carrier.Set(BaggageHeader, strings.TrimSuffix(b.String(), ","))
}

// writeDSC writes the DSC of a trace that starts here.
func (p *SentryPropagator) writeDSC(b *strings.Builder, sc trace.SpanContext) {
	tid := sc.TraceID()
	rate := p.rate
	if r, ok := RateFromTraceState(sc.TraceState()); ok {
		rate = strconv.FormatFloat(r, 'f', -1, 64)
	}
	member := func(k, v string) {
		if v == "" {
			return
		}
		b.WriteString(sentryPrefix)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteByte(',')
	}
	member("trace_id", hex.EncodeToString(tid[:]))
	member("sample_rate", rate)
	member("sampled", strconv.FormatBool(sc.IsSampled()))
	member("sample_rand", formatSampleRand(SampleRand(tid)))
	member("environment", p.env)
	member("release", p.rel)
	member("public_key", p.key)
}

// formatSampleRand writes r in [0, 1) with the 6 decimals Sentry SDKs use,
// truncated so that it never rounds up to 1.
func formatSampleRand(r float64) string {
	n := uint64(r * 1e6)
	if n > 999999 {
		n = 999999
	}
	s := strconv.FormatUint(n, 10)
	return "0." + strings.Repeat("0", 6-len(s)) + s
}

// parseSentryTrace parses "traceid-spanid[-sampled]"; flag is '0', '1' or 0
// when absent.
func parseSentryTrace(v string) (tid trace.TraceID, sid trace.SpanID, flag byte, ok bool) {
	v = strings.TrimSpace(v)
	switch {
	case len(v) == 32+1+16:
	case len(v) == 32+1+16+2 && v[49] == '-' && (v[50] == '0' || v[50] == '1'):
		flag = v[50]
	default:
		return tid, sid, 0, false
	}
	if v[32] != '-' {
		return tid, sid, 0, false
	}
	if _, err := hex.Decode(tid[:], []byte(v[:32])); err != nil {
		return tid, sid, 0, false
	}
	if _, err := hex.Decode(sid[:], []byte(v[33:49])); err != nil {
		return tid, sid, 0, false
	}
	return tid, sid, flag, tid.IsValid() && sid.IsValid()
}

// dsc is the parsed Sentry part of a baggage header.
type dsc struct {
	traceID    string
	rate       float64
	hasRate    bool
	rand       float64
	hasRand    bool
	sampled    bool
	hasSampled bool
	members    []string
}

// matches reports whether the DSC belongs to trace id (a DSC without
// sentry-trace_id is taken to).
func (d *dsc) matches(id trace.TraceID) bool {
	if d.traceID == "" {
		return true
	}
	return strings.EqualFold(d.traceID, hex.EncodeToString(id[:]))
}

func (d *dsc) state(id trace.TraceID) *remoteState {
	return &remoteState{
		traceID: id, rate: d.rate, hasRate: d.hasRate, rand: d.rand, hasRand: d.hasRand,
		members: d.members,
	}
}

// maxSentryMembers bounds what an incoming header can make us carry on.
const maxSentryMembers = 16

// validBaggageKey reports whether k is an RFC 7230 token, as W3C baggage
// requires of keys.
func validBaggageKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// validBaggageValue reports whether v holds only W3C baggage-octets
// (printable ASCII but space, '"', ',', ';' and '\\').
func validBaggageValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// parseDSC reads the sentry-* members of a baggage header; nil when there
// are none. Malformed values are ignored one by one, as a W3C baggage
// parser ignores what it cannot read.
func parseDSC(header string) *dsc {
	if !strings.Contains(header, sentryPrefix) {
		return nil
	}
	var d dsc
	for m := range strings.SplitSeq(header, ",") {
		m = strings.TrimSpace(m)
		if !strings.HasPrefix(m, sentryPrefix) {
			continue
		}
		kv, _, _ := strings.Cut(m, ";") // drop W3C member properties
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		rawV := strings.TrimSpace(v)
		// Members are passed on verbatim in Inject: a malformed one from an
		// untrusted peer must not reach our outgoing headers.
		if !validBaggageKey(k) || !validBaggageValue(rawV) || len(d.members) >= maxSentryMembers {
			continue
		}
		v, err := url.PathUnescape(rawV)
		if err != nil {
			continue
		}
		d.members = append(d.members, k+"="+rawV) // properties dropped
		switch strings.TrimPrefix(k, sentryPrefix) {
		case "trace_id":
			d.traceID = v
		case "sample_rate":
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				d.rate, d.hasRate = f, true
			}
		case "sample_rand":
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 1 {
				d.rand, d.hasRand = f, true
			}
		case "sampled":
			if b, err := strconv.ParseBool(v); err == nil {
				d.sampled, d.hasSampled = b, true
			}
		}
	}
	if len(d.members) == 0 {
		return nil
	}
	return &d
}

// baggageOf returns the carrier's baggage, every header of it when the
// carrier can give several.
func baggageOf(carrier propagation.TextMapCarrier) string {
	if vg, ok := carrier.(propagation.ValuesGetter); ok {
		return strings.Join(vg.Values(BaggageHeader), ",")
	}
	return carrier.Get(BaggageHeader)
}

// escapeBaggageValue percent-encodes what a W3C baggage value may not hold
// (controls, space, '"', ',', ';', '\\', and '%' itself).
func escapeBaggageValue(v string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' || c == '%' {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
