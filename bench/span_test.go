package bench

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/sampling"
	"github.com/otelsentry/otelsentry/telemetry"
)

// tracing is one OpenTelemetry variant under test: a tracer, the exporter
// at the end of its pipeline, and how to flush and stop it.
type tracing struct {
	provider trace.TracerProvider
	tracer   trace.Tracer
	exp      *discardExporter
	tr       *discardTransport   // the Sentry transport; nil for the bare SDK
	pipeline *telemetry.Pipeline // nil for the bare SDK
	shutdown func(context.Context) error
}

// variant names a way to build a tracing.
type variant struct {
	name  string // sub-benchmark path, "/"-separated
	build func(tb testing.TB, exp *discardExporter) *tracing
}

// withSDK is the bare SDK with sampler (see newSDKProvider).
func withSDK(sampler sdktrace.Sampler) func(testing.TB, *discardExporter) *tracing {
	return func(tb testing.TB, exp *discardExporter) *tracing {
		tp := newSDKProvider(sampler, exp)
		tb.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		return &tracing{provider: tp, tracer: tp.Tracer("bench"), exp: exp, shutdown: tp.Shutdown}
	}
}

// withPipeline is telemetry.Setup at head rate rate (see newPipeline).
func withPipeline(rate float64) func(testing.TB, *discardExporter) *tracing {
	return withPipelineOpts(rate)
}

// withPipelineOpts is withPipeline with extra options after the suite's.
func withPipelineOpts(rate float64, extra ...telemetry.Option) func(testing.TB, *discardExporter) *tracing {
	return func(tb testing.TB, exp *discardExporter) *tracing {
		tr := newDiscardTransport()
		p, err := newPipeline(context.Background(), rate, exp, tr, extra...)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = p.Shutdown(context.Background()) })
		tp := p.TracerProvider()
		return &tracing{provider: tp, tracer: tp.Tracer("bench"), exp: exp, tr: tr, pipeline: p, shutdown: p.Shutdown}
	}
}

// spanVariants are the OpenTelemetry variants of BenchmarkSpan, each with
// the attributes its spans carry.
var spanVariants = []struct {
	variant
	pii bool
}{
	{variant{"sdk=bare", withSDK(sdktrace.AlwaysSample())}, false},
	{variant{"sdk=ratio0.1", withSDK(sdktrace.TraceIDRatioBased(0.1))}, false},
	{variant{"pipeline=1.0/span=clean", withPipeline(1.0)}, false},
	{variant{"pipeline=1.0/span=pii", withPipeline(1.0)}, true},
	{variant{"pipeline=0.1/span=clean", withPipeline(0.1)}, false},
	{variant{"pipeline=0.1/span=pii", withPipeline(0.1)}, true},
}

// benchCase is one leaf of a benchmark tree.
type benchCase struct {
	path string // "/"-separated sub-benchmark names
	fn   func(*testing.B)
}

// runTree runs cases as nested sub-benchmarks, one level per "/"-separated
// element of their paths, cases that share a first element under one
// b.Run — so "pipeline=1.0/span=clean" and "pipeline=1.0/span=pii" report
// as BenchmarkSpan/pipeline=1.0/span=clean and …/span=pii. Order is kept.
func runTree(b *testing.B, cases []benchCase) {
	for i := 0; i < len(cases); {
		first, _, nested := strings.Cut(cases[i].path, "/")
		if !nested {
			b.Run(first, cases[i].fn)
			i++
			continue
		}
		var group []benchCase
		for ; i < len(cases); i++ {
			f, r, ok := strings.Cut(cases[i].path, "/")
			if !ok || f != first {
				break
			}
			group = append(group, benchCase{r, cases[i].fn})
		}
		b.Run(first, func(b *testing.B) { runTree(b, group) })
	}
}

// shutdownTimeout bounds the flush at the end of a run: the exporters
// discard, so this is only ever reached by a hang.
const shutdownTimeout = time.Minute

// BenchmarkSpan measures one server span per op — started with its eight
// attributes and ended — on the caller's goroutine, with each variant's
// batch processor exporting concurrently to an exporter that discards.
//
//   - sdk=bare: the OpenTelemetry SDK, AlwaysSample, its own
//     BatchSpanProcessor with default options (which drops silently when its
//     queue of 2048 is full: reported as dropped).
//   - sdk=ratio0.1: the same with TraceIDRatioBased(0.1); unsampled spans
//     are non-recording.
//   - pipeline=R/span=clean|pii: telemetry.Setup at head rate R in
//     production, tail keep on, Sentry error and Crons bridges on (a DSN,
//     events discarded): enrich → errors → crons → keep → batcher, whose
//     export goroutine redacts and annotates each batch before the
//     exporter. At 0.1, the other 90% are recorded (RecordOnly), go through
//     the chain and are dropped by the keep stage when they end. span=pii
//     carries an e-mail address and a card number that redaction replaces.
//   - sentry=native: sentry-go's own tracing, each span a transaction
//     (TracesSampleRate 1), its eight attributes as span data, events
//     discarded by the transport.
//
// Every OpenTelemetry variant's op also reads span.SpanContext().IsSampled()
// (a field copy) to count head-sampled spans; the exporter counts with one
// atomic add per batch. The pipeline's batcher has its default queue (8192,
// admission-bounded: drops are counted, never silent).
//
// Extra metrics: exported/op (spans that reached the exporter, or
// transactions the transport, per op) and dropped (spans sampled but not
// exported, after the run's shutdown has flushed everything).
func BenchmarkSpan(b *testing.B) {
	var cases []benchCase
	for _, v := range spanVariants {
		cases = append(cases, benchCase{v.name, func(b *testing.B) {
			rb := round(b)
			defer rb.done()
			exp := &discardExporter{}
			t := v.build(rb, exp)
			sets := AttrSets(v.pii)
			ctx := context.Background()
			tracer := t.tracer
			var sampled uint64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				span := startServerSpan(ctx, tracer, sets[i%Variety])
				if span.SpanContext().IsSampled() {
					sampled++
				}
				span.End()
			}
			b.StopTimer()
			reportExported(b, t, sampled)
		}})
	}
	cases = append(cases, benchCase{"sentry=native", func(b *testing.B) {
		tr := newDiscardTransport()
		hub, err := newSentryHub(tr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(hub.Client().Close)
		ctx := sentry.SetHubOnContext(context.Background(), hub)
		data := sentryData()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			span := sentry.StartSpan(ctx, "http.server", sentry.WithTransactionName(spanName))
			for _, d := range data[i%Variety] {
				span.SetData(d.key, d.value)
			}
			span.Finish()
		}
		b.StopTimer()
		hub.Client().Flush(shutdownTimeout)
		sent := tr.EventsOfType("transaction")
		b.ReportMetric(float64(sent)/float64(b.N), "exported/op")
		b.ReportMetric(float64(uint64(b.N)-min(sent, uint64(b.N))), "dropped")
	}})
	runTree(b, cases)
}

// reportExported shuts t down (flushing every queue) and reports how many of
// the sampled spans reached the exporter.
func reportExported(b *testing.B, t *tracing, sampled uint64) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := t.shutdown(ctx); err != nil {
		b.Fatalf("shutdown: %v", err)
	}
	exported := t.exp.Spans()
	if exported > sampled {
		b.Fatalf("the exporter saw %d spans, more than the %d sampled", exported, sampled)
	}
	b.ReportMetric(float64(exported)/float64(b.N), "exported/op")
	b.ReportMetric(float64(sampled-exported), "dropped")
}

// TestWorkloadsReachTheirBackends makes sure no benchmark measures a
// pipeline that silently does nothing: every variant's spans reach its
// exporter (or transport), the pipeline really has its errors and Crons
// stages, the clean workload redacts nothing and the pii one leaks nothing.
func TestWorkloadsReachTheirBackends(t *testing.T) {
	const n = 500
	for _, v := range spanVariants {
		t.Run(v.name, func(t *testing.T) {
			var mu sync.Mutex
			var values []string
			exp := &discardExporter{inspect: func(s sdktrace.ReadOnlySpan) {
				mu.Lock()
				defer mu.Unlock()
				for _, kv := range s.Attributes() {
					values = append(values, kv.Value.String())
				}
			}}
			tt := v.build(t, exp)
			ctx := context.Background()
			var sampled uint64
			sets := AttrSets(v.pii)
			for i := range n {
				span := startServerSpan(ctx, tt.tracer, sets[i%Variety])
				if span.SpanContext().IsSampled() {
					sampled++
				}
				span.End()
			}
			if sampled == 0 || (!strings.Contains(v.name, "0.1") && sampled != n) {
				t.Fatalf("%d of %d spans sampled", sampled, n)
			}
			var extra uint64
			if tt.pipeline != nil {
				extra = checkPipelineStages(t, tt)
			}
			if err := tt.shutdown(ctx); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			if got := exp.Spans(); got != sampled+extra {
				t.Fatalf("exporter saw %d spans, want the %d sampled", got, sampled+extra)
			}
			joined := strings.Join(values, "\n")
			if !strings.Contains(joined, "/api/monitors/{id}") {
				t.Fatalf("exported attributes lack the workload's: %.300q", joined)
			}
			if strings.Contains(joined, piiEmail) || strings.Contains(joined, piiCard) {
				t.Fatalf("PII reached the exporter: %.300q", joined)
			}
			if tt.pipeline == nil {
				return
			}
			st := tt.pipeline.Stats()
			// At 0.1 the keep stage drops every span that lost the head
			// decision except the failed one (n workload spans + 2).
			if head := sampled; strings.Contains(v.name, "0.1") &&
				st.Sampling.DroppedSpans[sampling.DropSampledOut] != n+2-head-extra {
				t.Fatalf("keep stage: %d sampled of %d (+%d extra exported), stats %+v, exported %d", head, n+2, extra, st.Sampling, exp.Spans())
			}
			if v.pii {
				if st.Redactions["email"] == 0 || st.Redactions["credit_card"] == 0 ||
					!strings.Contains(joined, "[EMAIL_REDACTED]") || !strings.Contains(joined, "[CREDIT_CARD_REDACTED]") {
					t.Fatalf("pii workload: redactions %v, exported %.300q; want e-mail and card redacted", st.Redactions, joined)
				}
				return
			}
			for rule, count := range st.Redactions {
				if count != 0 {
					t.Fatalf("clean workload: rule %s redacted %d values; it is not clean", rule, count)
				}
			}
		})
	}
	t.Run("request", checkRequestVariants)
	t.Run("export", checkExport)
	t.Run("sentry=native", func(t *testing.T) {
		tr := newDiscardTransport()
		hub, err := newSentryHub(tr)
		if err != nil {
			t.Fatal(err)
		}
		defer hub.Client().Close()
		ctx := sentry.SetHubOnContext(context.Background(), hub)
		data := sentryData()
		for i := range n {
			span := sentry.StartSpan(ctx, "http.server", sentry.WithTransactionName(spanName))
			for _, d := range data[i%Variety] {
				span.SetData(d.key, d.value)
			}
			span.Finish()
		}
		hub.Client().Flush(time.Second)
		if got := tr.EventsOfType("transaction"); got != n {
			t.Fatalf("transport saw %d transactions, want %d", got, n)
		}
	})
}

// checkPipelineStages ends one failed span and one monitor.check span and
// checks that the errors and Crons stages turned them into Sentry events:
// the benchmarks pay for stages that really are in the chain. It returns how
// many of the two spans the exporter will see: the failed one always (tail
// keep keeps its trace), the job when it was head-sampled.
func checkPipelineStages(t *testing.T, tt *tracing) uint64 {
	t.Helper()
	ctx := context.Background()
	_, span := tt.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindServer))
	span.RecordError(errors.New("bench: planted failure"))
	span.SetStatus(codes.Error, "planted")
	span.End()
	_, job := tt.tracer.Start(ctx, "monitor.check")
	exported := uint64(1)
	if job.SpanContext().IsSampled() {
		exported++
	}
	job.End()
	if err := tt.pipeline.ForceFlush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if got := tt.tr.EventsOfType(""); got != 1 {
		t.Fatalf("the errors stage sent %d error events, want 1", got)
	}
	if got := tt.tr.EventsOfType("check_in"); got == 0 {
		t.Fatalf("the crons stage sent no check-in")
	}
	if st := tt.pipeline.Stats(); st.Errors.Events != 1 || st.Crons.CheckIns == 0 {
		t.Fatalf("stage counters: errors %+v, crons %+v", st.Errors, st.Crons)
	}
	return exported
}

// roundTB is a benchmark's testing.TB for one round (one call of the
// benchmark function with its b.N): what the round builds registers its
// clean-up here, and done runs it when the round ends. With b.Cleanup the
// providers and services of the framework's earlier, shorter rounds would
// stay reachable until the benchmark's last round ended, and their heap
// would be scanned by every collection of the measured one — a cost that
// grows with what a variant builds, not with what it does per op.
type roundTB struct {
	testing.TB
	cleanups []func()
}

func round(tb testing.TB) *roundTB { return &roundTB{TB: tb} }

// Cleanup implements testing.TB: f runs at done, last registered first.
func (r *roundTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// done runs the round's clean-ups and forgets them.
func (r *roundTB) done() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}
