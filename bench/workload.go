package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelsentry/otelsentry/bench/internal/otlpwire"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/telemetry"
)

// The workload shared by BenchmarkSpan, BenchmarkRequest and BenchmarkExport:
// one server span as an HTTP framework would start it, with eight realistic
// attributes, and the discarding backends every variant ends in.

// spanName is the span name of the per-span workload: a route, as otelhttp
// names server spans.
const spanName = "GET /api/monitors/{id}"

// benchDSN enables the Sentry error bridge (and the Crons bridge) of the
// pipeline. Nothing is ever sent to it: every variant that has a DSN also has
// a discardTransport.
const benchDSN = "https://public@127.0.0.1/1"

// cleanAttrs are the eight attributes of the per-span workload. None of them
// is something the redaction engine replaces (TestWorkloadsReachTheirBackends
// checks that the clean variant redacts nothing).
func cleanAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("http.request.method", "GET"),
		attribute.String("http.route", "/api/monitors/{id}"),
		attribute.String("url.path", "/api/monitors/3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f"),
		attribute.String("server.address", "api.example.com"),
		attribute.String("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"),
		attribute.String("request_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
		attribute.String("company", "Tesla"),
		attribute.Int("http.response.status_code", 200),
	}
}

// The PII planted by the pii variant.
const (
	piiEmail = "alice.smith@example.com"
	piiCard  = "4111 1111 1111 1111"
)

// The workload, for the suite's other packages (bench/redaction): one
// definition of "the span" for every comparison.
const (
	SpanName = spanName
	PIIEmail = piiEmail
	PIICard  = piiCard
)

// Attrs returns the eight attributes of the per-span workload, with two of
// them PII when pii is set.
func Attrs(pii bool) []attribute.KeyValue {
	if pii {
		return piiAttrs()
	}
	return cleanAttrs()
}

// piiAttrs are cleanAttrs with two of the eight replaced by PII, at the same
// positions: company becomes customer (an e-mail address) and server.address
// becomes note (free text with a card number that passes Luhn). The other six — the long
// user agent included — are the same, so clean and pii scan comparable text.
func piiAttrs() []attribute.KeyValue {
	a := cleanAttrs()
	a[3] = attribute.String("note", "paid with "+piiCard)
	a[6] = attribute.String("customer", piiEmail)
	return a
}

// Variety is how many distinct attribute sets the per-span workloads cycle
// through. In a service, url.path (here with a UUID) and request_id differ
// from request to request while the method, route, host, user agent and
// company repeat; so it is here: each set has its own url.path and
// request_id strings, and shares the others. Sets are built before any
// timer starts, and picking one is an index, so every variant pays the same.
const Variety = 4096

// AttrSets returns Variety attribute sets of the per-span workload (see
// Attrs), each with a url.path and a request_id of its own.
func AttrSets(pii bool) [][]attribute.KeyValue {
	rng := rand.New(rand.NewPCG(1, 2))
	sets := make([][]attribute.KeyValue, Variety)
	for i := range sets {
		a := Attrs(pii)
		x, y := rng.Uint64(), rng.Uint64()
		a[2] = attribute.String("url.path", fmt.Sprintf("/api/monitors/%08x-%04x-4%03x-%04x-%012x",
			uint32(x), uint16(x>>32), uint16(x>>48)&0xfff, uint16(y)&0x3fff|0x8000, y>>16&0xffffffffffff))
		a[5] = attribute.String("request_id", fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()))
		sets[i] = a
	}
	return sets
}

// discardLogger keeps the pipelines' start-up and shutdown lines out of the
// benchmark output.
var discardLogger = slog.New(slog.DiscardHandler)

// discardExporter drops every batch, counting the spans it was given. When
// inspect is set (tests only) it is called with every span first.
type discardExporter struct {
	spans   atomic.Uint64
	inspect func(sdktrace.ReadOnlySpan)
}

func (e *discardExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.inspect != nil {
		for _, s := range spans {
			e.inspect(s)
		}
	}
	e.spans.Add(uint64(len(spans)))
	return nil
}

func (e *discardExporter) Shutdown(context.Context) error { return nil }

// RetainsSpans is false: the exporter keeps nothing of a batch, as the
// exporters it stands in for (OTLP, stdout: they serialise the batch before
// returning) and which Setup treats so (telemetry.RetainingExporter).
func (e *discardExporter) RetainsSpans() bool { return false }

// Spans is how many spans reached the exporter.
func (e *discardExporter) Spans() uint64 { return e.spans.Load() }

// discardTransport is a sentry.Transport that drops every event, counting
// them by type ("" for errors, "transaction", "check_in").
type discardTransport struct {
	mu     sync.Mutex
	byType map[string]uint64
}

func newDiscardTransport() *discardTransport {
	return &discardTransport{byType: map[string]uint64{}}
}

func (t *discardTransport) SendEvent(ev *sentry.Event) {
	t.mu.Lock()
	t.byType[ev.Type]++
	t.mu.Unlock()
}

func (t *discardTransport) Flush(time.Duration) bool              { return true }
func (t *discardTransport) FlushWithContext(context.Context) bool { return true }
func (t *discardTransport) Configure(sentry.ClientOptions)        {}
func (t *discardTransport) Close()                                {}

// EventsOfType is how many events of type typ reached the transport.
func (t *discardTransport) EventsOfType(typ string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byType[typ]
}

var _ sentry.Transport = (*discardTransport)(nil)

// newSDKProvider is the bare OpenTelemetry SDK: sampler, the SDK's own
// BatchSpanProcessor with its default options (queue 2048, batch 512,
// non-blocking: it drops silently when its queue is full), exp behind it.
// Default ID generator, default span limits, default resource.
func newSDKProvider(sampler sdktrace.Sampler, exp sdktrace.SpanExporter) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sampler),
		sdktrace.WithBatcher(exp),
	)
}

// pipelineOptions is our full pipeline as a production service would run
// it: environment production, head rate rate with tail keep on, the Sentry
// error bridge and the Crons bridge on (a DSN, events to tr), redaction with
// the built-in rules. The caller adds the exporter options.
//
// The chain Setup builds from these (telemetry/setup.go), with the one
// exporter the callers add, is enrich → errors → crons → keep →
// batcher → redact → annotate → exporter: redaction runs per batch on the
// batcher's export goroutine.
func pipelineOptions(rate float64, tr sentry.Transport) []telemetry.Option {
	return []telemetry.Option{
		telemetry.WithGlobals(false),
		telemetry.WithLogger(discardLogger),
		telemetry.WithServiceName("bench"),
		telemetry.WithRelease("bench"), // no `git rev-parse` per Setup
		telemetry.WithEnvironment("production"),
		telemetry.WithSampleRate(rate),
		telemetry.WithTailKeep(true),
		telemetry.WithDSN(benchDSN),
		telemetry.WithSentryTransport(tr),
	}
}

// newPipeline builds the pipeline with exp as its only exporter, extra
// options last. The DSN
// would otherwise select the sentry exporter, so the named exporters are
// "none" and exp is added with WithSpanExporter (Stats key "custom1").
func newPipeline(ctx context.Context, rate float64, exp sdktrace.SpanExporter, tr sentry.Transport, extra ...telemetry.Option) (*telemetry.Pipeline, error) {
	opts := append(pipelineOptions(rate, tr),
		telemetry.WithExporters(telemetry.ExporterNone),
		telemetry.WithSpanExporter(exp),
	)
	opts = append(opts, extra...)
	return telemetry.Setup(ctx, opts...)
}

// newSentryHub is sentry-go's native tracing: every transaction sampled,
// default integrations, events to tr.
func newSentryHub(tr sentry.Transport) (*sentry.Hub, error) {
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:              benchDSN,
		Environment:      "production",
		Release:          "bench",
		EnableTracing:    true,
		TracesSampleRate: 1.0,
		Transport:        tr,
	})
	if err != nil {
		return nil, err
	}
	return sentry.NewHub(client, sentry.NewScope()), nil
}

// sentryData are the clean attribute sets (AttrSets) as sentry-go span
// data, boxed once.
func sentryData() [][]sentryDatum {
	sets := AttrSets(false)
	out := make([][]sentryDatum, len(sets))
	for i, attrs := range sets {
		out[i] = make([]sentryDatum, len(attrs))
		for j, kv := range attrs {
			out[i][j] = sentryDatum{string(kv.Key), kv.Value.AsInterface()}
		}
	}
	return out
}

type sentryDatum struct {
	key   string
	value any
}

// startServerSpan is one op of the OpenTelemetry per-span workload.
func startServerSpan(ctx context.Context, tracer trace.Tracer, attrs []attribute.KeyValue) trace.Span {
	_, span := tracer.Start(ctx, spanName,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attrs...))
	return span
}

// otlpReceiver is a minimal OTLP/HTTP protobuf trace endpoint that counts
// requests, body bytes as they came over the wire (compressed when the
// exporter gzips) and spans, without keeping anything: its own cost stays
// small (pooled buffers, a protowire walk instead of a full decode) so that
// BenchmarkExport measures the sending side. With verify set (tests), it
// also decodes each request fully and records any disagreement.
type otlpReceiver struct {
	requests, wireBytes, spans atomic.Uint64
	verify                     func(raw []byte, counted int) error

	errMu sync.Mutex
	err   error

	bufs sync.Pool // *bytes.Buffer
	zrs  sync.Pool // *gzip.Reader
}

func (r *otlpReceiver) fail(err error) {
	r.errMu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.errMu.Unlock()
}

// Err is the first malformed request or verification failure, if any.
func (r *otlpReceiver) Err() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

func (r *otlpReceiver) buffer() *bytes.Buffer {
	if b, ok := r.bufs.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	wire := r.buffer()
	defer r.bufs.Put(wire)
	n, err := wire.ReadFrom(req.Body)
	if err != nil {
		r.fail(err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	raw := wire.Bytes()
	if req.Header.Get("Content-Encoding") == "gzip" {
		plain := r.buffer()
		defer r.bufs.Put(plain)
		zr, _ := r.zrs.Get().(*gzip.Reader)
		if zr == nil {
			zr, err = gzip.NewReader(bytes.NewReader(raw))
		} else {
			err = zr.Reset(bytes.NewReader(raw))
		}
		if err == nil {
			_, err = plain.ReadFrom(zr)
			r.zrs.Put(zr)
		}
		if err != nil {
			r.fail(fmt.Errorf("bad gzip body: %w", err))
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		raw = plain.Bytes()
	}
	count, err := otlpwire.CountSpans(raw)
	if err == nil && r.verify != nil {
		err = r.verify(raw, count)
	}
	if err != nil {
		r.fail(err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.requests.Add(1)
	r.wireBytes.Add(uint64(n))
	r.spans.Add(uint64(count))
	// An empty body is a valid, empty ExportTraceServiceResponse.
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}
