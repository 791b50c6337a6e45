package bench

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelsentry/otelsentry/telemetry"
)

// Export queue bounds. The pipeline has no blocking mode: its batcher admits
// a span only while fewer than the queue size are in flight and counts the
// rest as dropped. BenchmarkExport sizes the queue to the run (b.N spans)
// within these bounds, so that a producer faster than the exporter fills the
// queue rather than losing spans — up to maxExportQueue, past which drops are
// reported, not hidden.
const (
	minExportQueue = 8192 // the pipeline's default
	maxExportQueue = 1 << 18
)

// exportCompressions are BenchmarkExport's variants: the value of
// OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, which the OTLP exporter reads.
var exportCompressions = []struct{ name, compression string }{
	{"gzip=off", "none"},
	{"gzip=on", "gzip"},
}

// startReceiver starts an otlpReceiver on 127.0.0.1 and points the pipeline's
// OTLP exporter at it through the standard variables (telemetry.Setup
// builds the otlp exporter with otlptracehttp.New, which reads them).
func startReceiver(tb testing.TB, compression string) *otlpReceiver {
	tb.Helper()
	recv := &otlpReceiver{}
	srv := httptest.NewServer(recv)
	tb.Cleanup(srv.Close)
	tb.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
	tb.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", srv.URL+"/v1/traces")
	tb.Setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", compression)
	return recv
}

// newExportPipeline is the pipeline of BenchmarkSpan's pipeline=1.0 (errors
// and Crons bridges on, Sentry events discarded) with the otlp exporter as
// its only exporter, behind a queue of queue spans.
func newExportPipeline(tb testing.TB, queue int) *telemetry.Pipeline {
	tb.Helper()
	opts := append(pipelineOptions(1.0, newDiscardTransport()),
		telemetry.WithExporters(telemetry.ExporterOTLP),
		telemetry.WithQueueSize(queue),
	)
	p, err := telemetry.Setup(context.Background(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// droppedSpans is every span the pipeline counted as not exported: queue
// full or failed exports at the exporters, and spans the keep stage dropped.
func droppedSpans(st telemetry.Stats) uint64 {
	var n uint64
	for _, e := range st.Exporters {
		n += e.DroppedQueueFull + e.Failed
	}
	for _, d := range st.Sampling.DroppedSpans {
		n += d
	}
	return n
}

// BenchmarkExport pushes the clean eight-attribute span, one per op, from
// one goroutine through the full pipeline at head rate 1.0 to its OTLP/HTTP
// protobuf exporter and a receiver on 127.0.0.1. The timed part is the op
// loop plus the ForceFlush that waits for the last batch to be received, so
// ns/op is the inverse of end-to-end throughput when nothing is dropped.
// Allocations include the receiver's (same process).
//
// Extra metrics: spans/s (spans received per wall second of loop + flush),
// B/span (request body bytes as sent — compressed for gzip=on — per span
// received), dropped (spans the pipeline counted as dropped; see
// droppedSpans). Every span must be either received or counted as dropped:
// after Shutdown, b.N − received − dropped ("lost") must be 0, or the run
// fails.
func BenchmarkExport(b *testing.B) {
	for _, v := range exportCompressions {
		b.Run(v.name, func(b *testing.B) {
			recv := startReceiver(b, v.compression)
			p := newExportPipeline(b, min(max(b.N, minExportQueue), maxExportQueue))
			tracer := p.TracerProvider().Tracer("bench")
			sets := AttrSets(false)
			ctx := context.Background()
			flushCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			defer cancel()

			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				startServerSpan(ctx, tracer, sets[i%Variety]).End()
			}
			if err := p.ForceFlush(flushCtx); err != nil {
				b.Fatalf("flush: %v", err)
			}
			elapsed := time.Since(start)
			b.StopTimer()

			if err := p.Shutdown(flushCtx); err != nil {
				b.Fatalf("shutdown: %v", err)
			}
			if err := recv.Err(); err != nil {
				b.Fatalf("receiver: %v", err)
			}
			received := recv.spans.Load()
			dropped := droppedSpans(p.Stats())
			if lost := int64(b.N) - int64(received) - int64(dropped); lost != 0 {
				b.Fatalf("%d spans lost: %d ended, %d received, %d counted as dropped (stats %+v)",
					lost, b.N, received, dropped, p.Stats().Exporters)
			}
			b.ReportMetric(float64(received)/elapsed.Seconds(), "spans/s")
			if received > 0 {
				b.ReportMetric(float64(recv.wireBytes.Load())/float64(received), "B/span")
			}
			b.ReportMetric(float64(dropped), "dropped")
		})
	}
}

// checkExport is TestWorkloadsReachTheirBackends for BenchmarkExport: every
// span reaches the receiver, the receiver's protowire count agrees with a
// full protobuf decode, the exported spans are the workload's, and the
// compression variable is honoured (gzip shrinks the wire bytes).
func checkExport(t *testing.T) {
	const n = 1000
	wire := map[string]uint64{}
	for _, v := range exportCompressions {
		t.Run(v.name, func(t *testing.T) {
			recv := startReceiver(t, v.compression)
			recv.verify = func(raw []byte, counted int) error {
				var msg collectortrace.ExportTraceServiceRequest
				if err := proto.Unmarshal(raw, &msg); err != nil {
					return err
				}
				decoded := 0
				for _, rs := range msg.ResourceSpans {
					for _, ss := range rs.ScopeSpans {
						for _, s := range ss.Spans {
							decoded++
							if s.Name != spanName || len(s.Attributes) < len(cleanAttrs()) {
								return fmt.Errorf("unexpected span %q with %d attributes", s.Name, len(s.Attributes))
							}
						}
					}
				}
				if decoded != counted {
					return fmt.Errorf("protowire counted %d spans, protobuf decoded %d", counted, decoded)
				}
				return nil
			}
			p := newExportPipeline(t, minExportQueue)
			tracer := p.TracerProvider().Tracer("bench")
			for range n {
				startServerSpan(context.Background(), tracer, cleanAttrs()).End()
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			if err := recv.Err(); err != nil {
				t.Fatalf("receiver: %v", err)
			}
			if got, dropped := recv.spans.Load(), droppedSpans(p.Stats()); got != n || dropped != 0 {
				t.Fatalf("receiver got %d spans of %d, %d dropped", got, n, dropped)
			}
			wire[v.compression] = recv.wireBytes.Load()
		})
	}
	if on, off := wire["gzip"], wire["none"]; on == 0 || on*2 > off {
		t.Fatalf("wire bytes: gzip %d, none %d; compression not applied", on, off)
	}
}
