package sampling

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func attrValue(kvs []attribute.KeyValue, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range kvs {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func TestSamplerRootDecision(t *testing.T) {
	ids := traceIDs(10, 5000)
	for _, rate := range []float64{0, 0.1, 0.3, 1} {
		for _, tail := range []bool{true, false} {
			s := mustSampler(t, rate, WithTailKeep(tail))
			sampled := 0
			for _, id := range ids {
				res := s.ShouldSample(rootParams(id, "op"))
				switch {
				case HeadSampled(id, rate):
					sampled++
					if res.Decision != sdktrace.RecordAndSample {
						t.Fatalf("rate %g: %s should be sampled, got %v", rate, id, res.Decision)
					}
					if v, _ := attrValue(res.Attributes, AttrReason); v.AsString() != "head" {
						t.Fatalf("sampled span has %s=%q, want head", AttrReason, v.AsString())
					}
					if v, _ := attrValue(res.Attributes, AttrSampleRate); v.AsFloat64() != rate {
						t.Fatalf("sampled span has %s=%v, want %v", AttrSampleRate, v.AsFloat64(), rate)
					}
				case tail && res.Decision != sdktrace.RecordOnly:
					t.Fatalf("rate %g with tail keep: %s should be RecordOnly, got %v", rate, id, res.Decision)
				case !tail && res.Decision != sdktrace.Drop:
					t.Fatalf("rate %g without tail keep: %s should be dropped, got %v", rate, id, res.Decision)
				}
				if r, ok := RateFromTraceState(res.Tracestate); !ok || r != rate {
					t.Fatalf("tracestate %q does not carry rate %g", res.Tracestate, rate)
				}
				if res.Decision != sdktrace.RecordAndSample && len(res.Attributes) != 0 {
					t.Fatalf("unsampled span gets attributes %v", res.Attributes)
				}
			}
			if rate == 0.1 && (sampled < 400 || sampled > 600) {
				t.Fatalf("rate 0.1 sampled %d of 5000", sampled)
			}
		}
	}
}

// parentCtx returns a context whose span context is a parent with the given
// properties, as the SDK or a propagator would put it there.
func parentCtx(id trace.TraceID, sampled, remote bool, ts trace.TraceState) context.Context {
	var flags trace.TraceFlags
	if sampled {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: id, SpanID: trace.SpanID{1}, TraceFlags: flags, Remote: remote, TraceState: ts,
	})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

func TestSamplerLocalParentIsFollowed(t *testing.T) {
	s := mustSampler(t, 0.1, WithRules(Rule{Name: "checkout", Rate: 1}))
	id := traceIDs(11, 1)[0]
	// A child of a root sampled by the checkout rule reports the rule's rate.
	root := s.ShouldSample(rootParams(id, "checkout"))
	if root.Decision != sdktrace.RecordAndSample {
		t.Fatalf("checkout root: %v", root.Decision)
	}
	child := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(id, true, false, root.Tracestate), TraceID: id, Name: "db"})
	if child.Decision != sdktrace.RecordAndSample {
		t.Fatalf("child of a sampled local parent: %v", child.Decision)
	}
	if v, _ := attrValue(child.Attributes, AttrSampleRate); v.AsFloat64() != 1 {
		t.Fatalf("child reports rate %v, want the root's 1", v.AsFloat64())
	}
	// Rules never cut a trace: a child named like a rule follows its parent.
	child = s.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(id, false, false, s.def.ts), TraceID: id, Name: "checkout"})
	if child.Decision != sdktrace.RecordOnly {
		t.Fatalf("child of an unsampled local parent: %v, want RecordOnly", child.Decision)
	}
	noTail := mustSampler(t, 0.1, WithTailKeep(false))
	child = noTail.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(id, false, false, s.def.ts), TraceID: id})
	if child.Decision != sdktrace.Drop {
		t.Fatalf("without tail keep, child of an unsampled parent: %v, want Drop", child.Decision)
	}
}

func TestSamplerRemoteParent(t *testing.T) {
	// An ID that rate 0.1 does not sample, and one it does.
	var out, in trace.TraceID
	for _, id := range traceIDs(12, 1000) {
		if HeadSampled(id, 0.1) {
			in = id
		} else {
			out = id
		}
	}
	s := mustSampler(t, 0.1)
	// A sampled remote parent is honoured even though our rate would not sample.
	res := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(out, true, true, trace.TraceState{}), TraceID: out})
	if res.Decision != sdktrace.RecordAndSample {
		t.Fatalf("sampled remote parent: %v", res.Decision)
	}
	if r, _ := RateFromTraceState(res.Tracestate); r != 0.1 {
		t.Fatalf("remote parent without a rate: tracestate %q, want our rate", res.Tracestate)
	}
	// An upstream rate in the tracestate is reported, not ours.
	up, _ := trace.ParseTraceState("vendor=x,otelsentry=r:0.5")
	res = s.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(out, true, true, up), TraceID: out})
	if v, _ := attrValue(res.Attributes, AttrSampleRate); v.AsFloat64() != 0.5 {
		t.Fatalf("upstream rate 0.5: span reports %v", v.AsFloat64())
	}
	if res.Tracestate.String() != up.String() {
		t.Fatalf("tracestate changed to %q", res.Tracestate)
	}
	// An unsampled remote parent is honoured, recorded for tail keep.
	res = s.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(in, false, true, trace.TraceState{}), TraceID: in})
	if res.Decision != sdktrace.RecordOnly {
		t.Fatalf("unsampled remote parent: %v, want RecordOnly", res.Decision)
	}
	// Not parent-based: our own decision, and our rate replaces upstream's.
	np := mustSampler(t, 0.1, WithParentBased(false))
	res = np.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(out, true, true, up), TraceID: out})
	if res.Decision != sdktrace.RecordOnly {
		t.Fatalf("not parent-based, sampled parent, out-of-rate ID: %v", res.Decision)
	}
	if got := res.Tracestate.String(); got != "otelsentry=r:0.1,vendor=x" {
		t.Fatalf("tracestate %q", got)
	}
	res = np.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(in, false, true, trace.TraceState{}), TraceID: in})
	if res.Decision != sdktrace.RecordAndSample {
		t.Fatalf("not parent-based, unsampled parent, in-rate ID: %v", res.Decision)
	}
}

func TestSamplerRules(t *testing.T) {
	s := mustSampler(t, 0.1, WithRules(
		Rule{Route: "GET /healthz", Rate: 0},
		Rule{Name: "POST /api/checkout", Rate: 1},
		Rule{Route: "/api/admin/*", Rate: 1},
		Rule{Name: "POST /api/checkout", Rate: 0}, // shadowed: first match wins
	))
	ids := traceIDs(13, 2000)
	count := func(name string, attrs ...attribute.KeyValue) int {
		n := 0
		for _, id := range ids {
			p := rootParams(id, name)
			p.Attributes = attrs
			if s.ShouldSample(p).Decision == sdktrace.RecordAndSample {
				n++
			}
		}
		return n
	}
	get := []attribute.KeyValue{attribute.String("http.request.method", "GET"), attribute.String("http.route", "/healthz")}
	if n := count("GET /healthz", get...); n != 0 {
		t.Errorf("GET /healthz → 0: %d sampled", n)
	}
	post := []attribute.KeyValue{attribute.String("http.method", "POST"), attribute.String("http.route", "/healthz")}
	if n := count("POST /healthz", post...); n < 150 || n > 250 {
		t.Errorf("POST /healthz gets the default rate: %d of 2000 sampled", n)
	}
	if n := count("POST /api/checkout"); n != len(ids) {
		t.Errorf("POST /api/checkout → 1: %d of %d sampled", n, len(ids))
	}
	if n := count("x", attribute.String("http.route", "/api/admin/users")); n != len(ids) {
		t.Errorf("prefix route rule: %d of %d sampled", n, len(ids))
	}
	if n := count("GET /healthz"); n < 150 || n > 250 {
		t.Errorf("a route rule needs http.route: %d of 2000 sampled", n)
	}
}

func TestNewSamplerErrors(t *testing.T) {
	for _, tc := range []struct {
		rate  float64
		rules []Rule
		want  string
	}{
		{1.5, nil, "rate 1.5"},
		{-0.1, nil, "rate -0.1"},
		{0.1, []Rule{{Rate: 1}}, "rule 1"},
		{0.1, []Rule{{Name: "a", Rate: 1}, {Name: "b", Rate: 2}}, `rule 2 (name "b" → 2): rate 2`},
		{0.1, []Rule{{Route: "GET", Rate: 1}}, "has no path"},
	} {
		_, err := NewSampler(tc.rate, WithRules(tc.rules...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSampler(%v, %v) = %v; want an error containing %q", tc.rate, tc.rules, err, tc.want)
		}
	}
}

func TestSamplerDoesNotAllocate(t *testing.T) {
	s := mustSampler(t, 0.3, WithRules(Rule{Route: "GET /healthz", Rate: 0}, Rule{Name: "b", Rate: 1}))
	ids := traceIDs(14, 64)
	root := rootParams(ids[0], "GET /x")
	root.Attributes = []attribute.KeyValue{attribute.String("http.route", "/x")}
	child := sdktrace.SamplingParameters{ParentContext: parentCtx(ids[1], true, false, s.rules[1].state.ts), TraceID: ids[1]}
	for name, p := range map[string]sdktrace.SamplingParameters{"root": root, "local child": child} {
		if n := testing.AllocsPerRun(200, func() { _ = s.ShouldSample(p) }); n != 0 {
			t.Errorf("%s decision allocates %v times", name, n)
		}
	}
}

func TestSamplerDescription(t *testing.T) {
	s := mustSampler(t, 0.3, WithParentBased(false))
	if got, want := s.Description(), "otelsentry.Sampler{rate:0.3,rules:0,parentBased:false,tailKeep:true}"; got != want {
		t.Fatalf("Description() = %q, want %q", got, want)
	}
}

func BenchmarkHeadDecision(b *testing.B) {
	s := mustSampler(b, 0.1)
	ids := traceIDs(15, 1024)
	p := rootParams(ids[0], "GET /api/items")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p.TraceID = ids[i&1023]
		_ = s.ShouldSample(p)
	}
}

func BenchmarkHeadDecisionTwoRules(b *testing.B) {
	s := mustSampler(b, 0.1, WithRules(Rule{Route: "GET /healthz", Rate: 0}, Rule{Name: "POST /api/checkout", Rate: 1}))
	ids := traceIDs(15, 1024)
	p := rootParams(ids[0], "GET /api/items")
	p.Attributes = []attribute.KeyValue{attribute.String("http.request.method", "GET"), attribute.String("http.route", "/api/items")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.TraceID = ids[i&1023]
		_ = s.ShouldSample(p)
	}
}

func BenchmarkTraceIDRatioBased(b *testing.B) {
	s := sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))
	ids := traceIDs(15, 1024)
	p := rootParams(ids[0], "GET /api/items")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.TraceID = ids[i&1023]
		_ = s.ShouldSample(p)
	}
}

// Rates learnt upstream (tracestate, sentry-sample_rate) are cached, so the
// children of such traces do not allocate; the cache is bounded.
func TestSamplerUpstreamRates(t *testing.T) {
	s := mustSampler(t, 0.1)
	id := traceIDs(16, 1)[0]
	// Sentry's DSC gives the rate of a sampled remote parent.
	ctx := context.WithValue(parentCtx(id, true, true, trace.TraceState{}), remoteKey{}, &remoteState{traceID: id, rate: 0.25, hasRate: true})
	res := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: ctx, TraceID: id})
	if v, _ := attrValue(res.Attributes, AttrSampleRate); res.Decision != sdktrace.RecordAndSample || v.AsFloat64() != 0.25 {
		t.Fatalf("DSC rate 0.25: %v, rate %v", res.Decision, v.AsFloat64())
	}
	if r, _ := RateFromTraceState(res.Tracestate); r != 0.25 {
		t.Fatalf("tracestate %q, want the upstream rate for the children", res.Tracestate)
	}
	child := sdktrace.SamplingParameters{ParentContext: parentCtx(id, true, false, res.Tracestate), TraceID: id}
	if n := testing.AllocsPerRun(100, func() { _ = s.ShouldSample(child) }); n != 0 {
		t.Fatalf("child of an upstream-rate trace allocates %v times", n)
	}
	if v, _ := attrValue(s.ShouldSample(child).Attributes, AttrSampleRate); v.AsFloat64() != 0.25 {
		t.Fatalf("child reports %v", v.AsFloat64())
	}
	for i := range 2 * maxExtraRates {
		rate := float64(i+1) / 1000
		ts, _ := trace.TraceState{}.Insert(TraceStateKey, rateValue(rate))
		res := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(id, true, false, ts), TraceID: id})
		if v, _ := attrValue(res.Attributes, AttrSampleRate); v.AsFloat64() != rate {
			t.Fatalf("rate %v reported as %v", rate, v.AsFloat64())
		}
	}
	if n := len(*s.extra.Load()); n != maxExtraRates {
		t.Fatalf("%d upstream rates cached, want the bound %d", n, maxExtraRates)
	}
	// A malformed upstream value falls back to the default.
	ts, _ := trace.ParseTraceState("otelsentry=r:abc")
	res = s.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(id, true, false, ts), TraceID: id})
	if v, _ := attrValue(res.Attributes, AttrSampleRate); v.AsFloat64() != 0.1 {
		t.Fatalf("malformed upstream rate reported as %v", v.AsFloat64())
	}
}

// TestHeadAttributes: with WithSpanAttributes(false) ShouldSample returns
// no attributes, and HeadAttributes gives, from the SpanContext alone, what
// it would have returned — for a root at a rule's rate, for its local
// child, for a remote parent's upstream rate — and nothing for an unsampled
// span.
func TestHeadAttributes(t *testing.T) {
	rules := WithRules(Rule{Name: "GET /always", Rate: 1})
	on, err := NewSampler(0.5, rules)
	if err != nil {
		t.Fatal(err)
	}
	off, err := NewSampler(0.5, rules, WithSpanAttributes(false))
	if err != nil {
		t.Fatal(err)
	}
	sc := func(id trace.TraceID, res sdktrace.SamplingResult) trace.SpanContext {
		flags := trace.TraceFlags(0)
		if res.Decision == sdktrace.RecordAndSample {
			flags = trace.FlagsSampled
		}
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: id, SpanID: trace.SpanID{1}, TraceFlags: flags, TraceState: res.Tracestate})
	}
	up, _ := trace.TraceState{}.Insert(TraceStateKey, "r:0.25")
	sampledRoots := 0
	for _, id := range traceIDs(7, 200) {
		for _, p := range []sdktrace.SamplingParameters{
			rootParams(id, "GET /always"),
			rootParams(id, "GET /other"),
			{ParentContext: parentCtx(id, true, true, up), TraceID: id, Name: "remote"},
		} {
			want := on.ShouldSample(p)
			got := off.ShouldSample(p)
			if got.Decision != want.Decision || got.Tracestate.String() != want.Tracestate.String() {
				t.Fatalf("%s: WithSpanAttributes(false) changed the decision: %v vs %v", p.Name, got, want)
			}
			if len(got.Attributes) != 0 {
				t.Fatalf("%s: ShouldSample returned %v with WithSpanAttributes(false)", p.Name, got.Attributes)
			}
			head := off.HeadAttributes(sc(id, got))
			if want.Decision != sdktrace.RecordAndSample {
				if head != nil {
					t.Fatalf("%s: unsampled span gets %v", p.Name, head)
				}
				continue
			}
			sampledRoots++
			if fmt.Sprint(head) != fmt.Sprint(want.Attributes) {
				t.Fatalf("%s: HeadAttributes = %v, ShouldSample gave %v", p.Name, head, want.Attributes)
			}
			// A local child of the span reads the same from its SpanContext.
			child := off.ShouldSample(sdktrace.SamplingParameters{ParentContext: parentCtx(id, true, false, got.Tracestate), TraceID: id, Name: "db"})
			if h := off.HeadAttributes(sc(id, child)); fmt.Sprint(h) != fmt.Sprint(want.Attributes) {
				t.Fatalf("%s: child HeadAttributes = %v, want %v", p.Name, h, want.Attributes)
			}
		}
	}
	if sampledRoots < 200*2 { // every GET /always and remote span, and some GET /other
		t.Fatalf("only %d sampled", sampledRoots)
	}
}
