package redaction

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bench"
	"github.com/otelsentry/otelsentry/internal/piicorpus"
	"github.com/otelsentry/otelsentry/internal/regexpscrub"
	"github.com/otelsentry/otelsentry/processors"
	"github.com/otelsentry/otelsentry/processors/redact"
)

// The workload is the suite's one span (bench.Attrs): 8 realistic
// attributes; the pii variant turns two of them into an e-mail address
// and a card number.
const (
	spanName  = bench.SpanName
	piiEmail  = bench.PIIEmail
	piiCard   = bench.PIICard
	batchSize = 1000 // collector clones made per StopTimer/StartTimer pause
)

func spanAttrs(pii bool) []attribute.KeyValue { return bench.Attrs(pii) }

// endedSpan records one ended SDK span, as a span processor's OnEnd gets
// it. The resource is empty so that every engine sees the same strings:
// the name and the 8 attributes.
func endedSpan(tb testing.TB, pii bool) sdktrace.ReadOnlySpan {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(resource.Empty()))
	_, s := tp.Tracer("bench/redaction").Start(context.Background(), spanName,
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(spanAttrs(pii)...))
	s.End()
	ended := rec.Ended()
	if len(ended) != 1 {
		tb.Fatalf("recorded %d spans, want 1", len(ended))
	}
	return ended[0]
}

// endedSpans records bench.Variety ended spans, one per attribute set of
// bench.AttrSets: the benchmark cycles through them, so that url.path and
// request_id differ from span to span as they do from request to request.
func endedSpans(tb testing.TB, pii bool) []sdktrace.ReadOnlySpan {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(resource.Empty()))
	for _, attrs := range bench.AttrSets(pii) {
		_, s := tp.Tracer("bench/redaction").Start(context.Background(), spanName,
			trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		s.End()
	}
	ended := rec.Ended()
	if len(ended) != bench.Variety {
		tb.Fatalf("recorded %d spans, want %d", len(ended), bench.Variety)
	}
	return ended
}

func spanVariants() []struct {
	name string
	pii  bool
} {
	return []struct {
		name string
		pii  bool
	}{{"clean", false}, {"pii", true}}
}

// --- regexp: what a user would write around internal/regexpscrub.

// regexpSpan scrubs the span's name and string attributes with sc, copying
// the attribute slice only when a value changes.
func regexpSpan(sc *regexpscrub.Scrubber, s sdktrace.ReadOnlySpan) (string, []attribute.KeyValue) {
	name, _ := sc.String(s.Name())
	attrs := s.Attributes()
	var out []attribute.KeyValue
	for i, kv := range attrs {
		if kv.Value.Type() != attribute.STRING {
			continue
		}
		v, ok := sc.Attr(string(kv.Key), kv.Value.AsString())
		if !ok {
			continue
		}
		if out == nil {
			out = append([]attribute.KeyValue(nil), attrs...)
		}
		out[i] = attribute.String(string(kv.Key), v)
	}
	if out == nil {
		return name, attrs
	}
	return name, out
}

// --- floor: one pass over the same bytes, nothing else.

// floorClass is a 256-entry byte class table, like the engine's: 1 for a
// byte where some rule could start (digits, '@', ':', '=', '+', '%').
var floorClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for _, c := range "@:=+%" {
		t[c] = 1
	}
	return t
}()

func floorString(s string) (n int) {
	for i := 0; i < len(s); i++ {
		n += int(floorClass[s[i]])
	}
	return n
}

// floorSpan reads the name and every string key and value once.
func floorSpan(s sdktrace.ReadOnlySpan) int {
	n := floorString(s.Name())
	for _, kv := range s.Attributes() {
		n += floorString(string(kv.Key))
		if kv.Value.Type() == attribute.STRING {
			n += floorString(kv.Value.AsString())
		}
	}
	return n
}

// --- collector: the contrib redactionprocessor, built by its factory.

// collectorConfig gives the redactionprocessor the regexp scrubber's rules:
// every value pattern of regexpscrub.Rules as blocked_values (email, card,
// API-key vendor shapes, JWTs, bearer tokens, private keys, URL passwords,
// query and inline secrets, IPs, IBAN, SSN, phone) and its two key
// patterns as blocked_key_patterns. The processor masks whatever a pattern
// matches with "****"; it has no hook for the scrubber's Go validators
// (Luhn, mod-97, SSN ranges, the bearer credential's length), so it
// redacts every match of their shapes.
func collectorConfig(f processor.Factory) *redactionprocessor.Config {
	cfg := f.CreateDefaultConfig().(*redactionprocessor.Config)
	cfg.AllowAllKeys = true
	cfg.BlockedKeyPatterns = []string{regexpscrub.SecretKeyPattern, regexpscrub.EmailKeyPattern}
	for _, r := range regexpscrub.Rules() {
		cfg.BlockedValues = append(cfg.BlockedValues, r.Pattern)
	}
	cfg.Summary = "silent"
	return cfg
}

// collector is a started redactionprocessor feeding a consumer that counts
// spans and keeps the last batch (the sink, and what the tests read).
type collector struct {
	proc  processor.Traces
	spans int
	last  ptrace.Traces
}

func newCollector(tb testing.TB) *collector {
	tb.Helper()
	ctx := context.Background()
	c := &collector{}
	next, err := consumer.NewTraces(func(_ context.Context, td ptrace.Traces) error {
		c.spans += td.SpanCount()
		c.last = td
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	f := redactionprocessor.NewFactory()
	cfg := collectorConfig(f)
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	c.proc, err = f.CreateTraces(ctx, processortest.NewNopSettings(f.Type()), cfg, next)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.proc.Start(ctx, componenttest.NewNopHost()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.proc.Shutdown(ctx) })
	return c
}

func (c *collector) consume(tb testing.TB, td ptrace.Traces) {
	if err := c.proc.ConsumeTraces(context.Background(), td); err != nil {
		tb.Fatal(err)
	}
}

// toPdata converts an ended SDK span into the Collector's data model, as
// the OTLP exporter and receiver between an application and a Collector
// would.
func toPdata(s sdktrace.ReadOnlySpan) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	putAttrs(rs.Resource().Attributes(), s.Resource().Attributes())
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName(s.InstrumentationScope().Name)
	sp := ss.Spans().AppendEmpty()
	sp.SetName(s.Name())
	sp.SetTraceID(pcommon.TraceID(s.SpanContext().TraceID()))
	sp.SetSpanID(pcommon.SpanID(s.SpanContext().SpanID()))
	sp.SetKind(ptrace.SpanKind(s.SpanKind())) // both enumerations follow OTLP
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.StartTime()))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(s.EndTime()))
	putAttrs(sp.Attributes(), s.Attributes())
	return td
}

func putAttrs(m pcommon.Map, kvs []attribute.KeyValue) {
	for _, kv := range kvs {
		k := string(kv.Key)
		switch kv.Value.Type() {
		case attribute.STRING:
			m.PutStr(k, kv.Value.AsString())
		case attribute.INT64:
			m.PutInt(k, kv.Value.AsInt64())
		case attribute.BOOL:
			m.PutBool(k, kv.Value.AsBool())
		case attribute.FLOAT64:
			m.PutDouble(k, kv.Value.AsFloat64())
		default:
			m.PutStr(k, kv.Value.String())
		}
	}
}

// pdataStrings is the name and every string attribute value of the first
// span of td.
func pdataStrings(td ptrace.Traces) []string {
	sp := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	out := []string{sp.Name()}
	for _, v := range sp.Attributes().All() {
		if v.Type() == pcommon.ValueTypeStr {
			out = append(out, v.Str())
		}
	}
	return out
}

// --- the benchmark.

var (
	sinkSpan  sdktrace.ReadOnlySpan
	sinkName  string
	sinkAttrs []attribute.KeyValue
	sinkInt   int
	sinkTD    ptrace.Traces
)

// BenchmarkRedaction runs each engine over the same bench.Variety spans in
// turn (see endedSpans).
func BenchmarkRedaction(b *testing.B) {
	e := redact.Default()
	sc := regexpscrub.New()
	ended := map[bool][]sdktrace.ReadOnlySpan{} // by pii: recorded once, shared by every engine
	for _, v := range spanVariants() {
		ended[v.pii] = endedSpans(b, v.pii)
	}
	for _, v := range spanVariants() {
		spans := ended[v.pii]
		b.Run("engine=otelsentry/span="+v.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				sinkSpan = processors.RedactSpan(e, spans[i%bench.Variety])
				i++
			}
		})
	}
	for _, v := range spanVariants() {
		spans := ended[v.pii]
		b.Run("engine=regexp/span="+v.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				sinkName, sinkAttrs = regexpSpan(sc, spans[i%bench.Variety])
				i++
			}
		})
	}
	for _, v := range spanVariants() {
		// Excluded from the time and the allocations: the SDK spans'
		// conversion to pdata (toPdata, once per span, here, before the
		// sub-benchmark starts), and the fresh copy each operation needs
		// because the processor masks its input in place. Copies are made
		// batchSize at a time into reused ptrace.Traces (CopyTo) between
		// b.StopTimer and b.StartTimer — the testing package counts neither
		// time nor allocations while the timer is stopped — and the timed
		// loop only calls ConsumeTraces (processorhelper, the redaction,
		// and a counting consumer) on each.
		spans := ended[v.pii]
		srcs := make([]ptrace.Traces, len(spans))
		for i, s := range spans {
			srcs[i] = toPdata(s)
		}
		b.Run("engine=collector/span="+v.name, func(b *testing.B) {
			c := newCollector(b)
			ctx := context.Background()
			clones := make([]ptrace.Traces, min(b.N, batchSize))
			for i := range clones {
				clones[i] = ptrace.NewTraces()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(len(clones), b.N-done)
				b.StopTimer()
				for k, td := range clones[:n] {
					srcs[(done+k)%bench.Variety].CopyTo(td)
				}
				b.StartTimer()
				for _, td := range clones[:n] {
					if err := c.proc.ConsumeTraces(ctx, td); err != nil {
						b.Fatal(err)
					}
				}
				done += n
			}
			b.StopTimer()
			sinkTD = c.last
			if c.spans != b.N {
				b.Fatalf("consumer saw %d spans, want %d", c.spans, b.N)
			}
		})
	}
	for _, v := range spanVariants() {
		spans := ended[v.pii]
		b.Run("engine=floor/span="+v.name, func(b *testing.B) {
			b.ReportAllocs()
			n, i := 0, 0
			for b.Loop() {
				n += floorSpan(spans[i%bench.Variety])
				i++
			}
			sinkInt = n
		})
	}
}

// --- tests.

func attrStrings(name string, kvs []attribute.KeyValue) []string {
	out := []string{name}
	for _, kv := range kvs {
		if kv.Value.Type() == attribute.STRING {
			out = append(out, kv.Value.AsString())
		}
	}
	return out
}

// TestRedactionEnginesAgree checks that the benchmark compares engines
// that do the job: on the pii span each removes the e-mail address and the
// card number; on the clean span otelsentry changes nothing.
func TestRedactionEnginesAgree(t *testing.T) {
	e := redact.Default()
	sc := regexpscrub.New()
	c := newCollector(t)

	pii := endedSpan(t, true)
	outputs := map[string][]string{}
	if v := processors.RedactSpan(e, pii); v == nil {
		t.Error("otelsentry: pii span not redacted")
	} else {
		outputs["otelsentry"] = attrStrings(v.Name(), v.Attributes())
	}
	outputs["regexp"] = attrStrings(regexpSpan(sc, pii))
	td := toPdata(pii)
	c.consume(t, td)
	outputs["collector"] = pdataStrings(c.last)

	for _, engine := range []string{"otelsentry", "regexp", "collector"} {
		out := outputs[engine]
		if want := 1 + stringAttrs(pii.Attributes()); len(out) < want {
			t.Errorf("%s: %d strings out, want the name and %d string attributes: %q", engine, len(out), want-1, out)
		}
		joined := strings.Join(out, "\n")
		for _, secret := range []string{piiEmail, piiCard} {
			if strings.Contains(joined, secret) {
				t.Errorf("%s kept %q: %q", engine, secret, out)
			}
		}
		if !strings.Contains(joined, "paid with ") {
			t.Errorf("%s lost the text around the card number: %q", engine, out)
		}
		t.Logf("%s: %q", engine, out)
	}

	clean := endedSpan(t, false)
	if v := processors.RedactSpan(e, clean); v != nil {
		t.Errorf("otelsentry changed the clean span: %q", attrStrings(v.Name(), v.Attributes()))
	}
	// For the record only: the baselines' verdict on the clean span.
	if name, attrs := regexpSpan(sc, clean); name != spanName || &attrs[0] != &clean.Attributes()[0] {
		t.Logf("regexp changed the clean span: %q", attrStrings(name, attrs))
	}
	cleanTD := toPdata(clean)
	want := pdataStrings(cleanTD)
	c.consume(t, cleanTD)
	if got := pdataStrings(c.last); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Logf("collector changed the clean span: %q", got)
	}
}

func stringAttrs(kvs []attribute.KeyValue) int {
	n := 0
	for _, kv := range kvs {
		if kv.Value.Type() == attribute.STRING {
			n++
		}
	}
	return n
}

// TestCorpusDetection runs every line of the shared PII corpus through the
// three engines and scores them with internal/piicorpus: otelsentry the way
// the engine's own corpus test does (under the line's key, else as free
// text and under a neutral key), the regexp scrubber the same way, and the
// Collector on a span of one attribute (the line's key, else "text").
func TestCorpusDetection(t *testing.T) {
	_, _, lines := piicorpus.Require(t)
	e := redact.Default()
	sc := regexpscrub.New()
	c := newCollector(t)

	type scorer struct {
		name    string
		outputs func(piicorpus.Line) []string
	}
	engines := []scorer{
		{"otelsentry", func(l piicorpus.Line) []string { return piicorpus.Outputs(e, l) }},
		{"regexp", func(l piicorpus.Line) []string { return piicorpus.Outputs(sc, l) }},
		{"collector", func(l piicorpus.Line) []string {
			key := l.Key
			if key == "" {
				key = "text"
			}
			td := ptrace.NewTraces()
			sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			sp.SetName("corpus")
			sp.Attributes().PutStr(key, l.Text)
			c.consume(t, td)
			v, ok := c.last.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get(key)
			if !ok {
				return []string{""} // removed: no secret left, but a negative altered
			}
			return []string{v.AsString()}
		}},
	}

	reports := map[string]piicorpus.Report{}
	var summary strings.Builder
	for _, en := range engines {
		r := piicorpus.Score(lines, en.outputs)
		reports[en.name] = r
		ok, total := r.Recall()
		line := fmt.Sprintf("corpus engine=%s positives=%d/%d negatives_altered=%d/%d",
			en.name, ok, total, r.NegTotal-r.NegOK, r.NegTotal)
		t.Log(line)
		summary.WriteString(line + "\n")
	}
	if p := os.Getenv("BENCH_CORPUS_OUT"); p != "" {
		if err := os.WriteFile(p, []byte(summary.String()), 0o644); err != nil {
			t.Errorf("BENCH_CORPUS_OUT: %v", err)
		}
	}

	reports["otelsentry"].Check(t, "otelsentry", 1, 0.01)
	best, _ := reports["otelsentry"].Recall()
	for _, other := range []string{"regexp", "collector"} {
		if ok, total := reports[other].Recall(); ok > best {
			t.Errorf("%s found %d/%d positives, more than otelsentry's %d", other, ok, total, best)
		}
	}
}
