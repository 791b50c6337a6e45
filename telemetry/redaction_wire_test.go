package telemetry

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

// Planted secrets, one per redaction family, placed in every span field.
var planted = []string{
	"alice.smith@example.com",
	"4111 1111 1111 1111",
	"4242424242424242",
	"sk_live_51HqLyjWDarjtT1zdp7dcXYZ0123456789abcdef",
	"ghp_1234567890abcdefghijABCDEFGHIJ123456",
	"hunter2hunter2",
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
	"203.0.113.77",
}

// TestNoSecretOnTheWire plants secrets in a span's name, attributes, an
// exception event, a link and the status, exports them and greps the raw
// (decompressed) request bytes each backend received. Non-PII values must
// arrive unchanged. It runs with otlp, sentry and console at once (spans
// fan out: the chain's redact stage does the work) and with each exporter
// alone (the exporter's batch is redacted on its export goroutine); either
// way every span is redacted once, so the per-rule counts agree.
func TestNoSecretOnTheWire(t *testing.T) {
	var counts []map[string]uint64
	for _, exporters := range [][]string{{"otlp", "sentry", "console"}, {"otlp"}, {"sentry"}, {"console"}} {
		t.Run(strings.Join(exporters, "+"), func(t *testing.T) {
			counts = append(counts, noSecretOnTheWire(t, exporters))
		})
	}
	for i := 1; i < len(counts); i++ {
		if !maps.Equal(counts[i], counts[0]) {
			t.Errorf("redactions counted per rule differ with the exporters: %v, %v", counts[0], counts[i])
		}
	}
}

// noSecretOnTheWire is TestNoSecretOnTheWire with exporters, returning the
// engine's per-rule counts.
func noSecretOnTheWire(t *testing.T, exporters []string) map[string]uint64 {
	clearEnv(t)
	collector := fakebackend.NewOTLP(t)
	sentryRcv := fakebackend.NewSentry(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "owner=alice.smith%40example.com,team=payments")
	var log, console syncBuffer
	p, err := Setup(context.Background(), testOptions(&log,
		WithDSN(sentryRcv.DSN()),
		WithExporters(exporters...), WithConsoleWriter(&console), WithSampleRate(1))...)
	if err != nil {
		t.Fatal(err)
	}
	tr := p.TracerProvider().Tracer("wire")
	ctx, root := tr.Start(context.Background(), "POST /api/analyze", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.route", "/api/analyze"), attribute.String("request_id", "4bf92f3577b34da6a3ce929d0e0e4736")))
	// Context attributes: set live on the root, deferred to the end of the
	// child (and merged at export) by the enrich stage.
	ctx = WithAttributes(ctx, attribute.String("customer.contact", "mail "+planted[0]), attribute.String("session.auth", "Bearer "+planted[3]))
	_, s := tr.Start(ctx, "GET /users/"+planted[0],
		trace.WithLinks(trace.Link{SpanContext: root.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("link.note", "token "+planted[4])}}),
		trace.WithAttributes(
			attribute.String("company", "Tesla"),
			attribute.String("customer.email", planted[0]),
			attribute.String("payment.note", "card "+planted[1]+" declined"),
			attribute.Int64("payment.card", 4242424242424242),
			attribute.String("http.request.header.authorization", "Bearer "+planted[3]),
			attribute.String("db.password", planted[5]),
			attribute.String("client.address", planted[7]),
			attribute.StringSlice("tokens", []string{planted[6]}),
			attribute.Int("analysis.count", 812),
		))
	s.RecordError(errors.New("charge for " + planted[0] + " with " + planted[3] + " failed"))
	s.SetStatus(codes.Error, "user "+planted[0]+" card "+planted[1])
	s.End()
	root.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	if len(sentryRcv.Events()) != 1 {
		t.Errorf("Sentry received %d error events, want 1 (the recorded error)", len(sentryRcv.Events()))
	}
	received := map[string][]byte{"sentry envelopes": sentryRcv.RawEnvelopes()}
	if slices.Contains(exporters, "otlp") {
		received["otlp"] = collector.RawBytes()
	}
	if slices.Contains(exporters, "sentry") {
		received["sentry"] = sentryRcv.RawOTLP()
	}
	if slices.Contains(exporters, "console") {
		received["console"] = []byte(console.String())
	}
	for name, raw := range received {
		if len(raw) == 0 {
			t.Fatalf("%s received nothing", name)
		}
		for _, secret := range planted {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s: secret %q reached the wire", name, secret)
			}
		}
		if name == "sentry envelopes" { // the error event: no span attributes
			continue
		}
		keeps := []string{"Tesla", "/api/analyze", "4bf92f3577b34da6a3ce929d0e0e4736"}
		if name == "otlp" || name == "sentry" { // the console prints no resource
			keeps = append(keeps, "payments")
		}
		for _, keep := range keeps {
			if !bytes.Contains(raw, []byte(keep)) {
				t.Errorf("%s: non-PII value %q did not arrive", name, keep)
			}
		}
	}
	if slices.Contains(exporters, "otlp") {
		var found bool
		for _, sp := range collector.Spans() {
			if v, ok := fakebackend.SpanAttr(sp, "company"); ok {
				found = true
				if v != "Tesla" {
					t.Errorf("company = %q, want it unchanged", v)
				}
				if n := intAttr(sp.Attributes, "analysis.count"); n != 812 {
					t.Errorf("analysis.count = %d, want 812 unchanged", n)
				}
				if n := intAttr(sp.Attributes, "redaction.count"); n < 8 {
					t.Errorf("redaction.count = %d, want at least 8", n)
				}
			}
		}
		if !found {
			t.Error("the planted span did not reach the collector")
		}
	}
	return p.engine.Counts()
}

func intAttr(kvs []*commonpb.KeyValue, key string) int64 {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value.GetIntValue()
		}
	}
	return -1
}
