//go:build e2e

package e2e

import (
	"bytes"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func integer(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

func otlpRequest(res []*commonpb.KeyValue, spans ...*tracepb.Span) *collectortrace.ExportTraceServiceRequest {
	return &collectortrace.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: res},
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: "e2e"}, Spans: spans}},
	}}}
}

// planted is a secret a service not written in Go could send: our own
// engine never saw it, so only the Collector's redaction stage stands
// between it and the backend.
type planted struct {
	where, key, value, secret string
}

// TestCollectorRedaction sends a raw OTLP request straight to the gateway —
// past the app's own redaction — and checks on the sink's raw bytes that
// every secret in a field the redaction processor scans is gone, that
// values which must survive are untouched, and records the fields it does
// not scan (span names, links, status messages), as docs/STACK.md says.
func TestCollectorRedaction(t *testing.T) {
	sink := fakebackend.NewOTLP(t)
	col := startCollector(t, "collector", []string{"gateway.yaml"}, map[string]string{
		"SENTRY_DSN":                         sentryDSN(sink),
		"COLLECTOR_TRACES_EXPORTERS":         "otlp_http/sentry",
		"COLLECTOR_TAIL_SAMPLING_PERCENTAGE": "100",
		"COLLECTOR_TAIL_DECISION_WAIT":       "1s",
		"COLLECTOR_BATCH_TIMEOUT":            "200ms",
	})

	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpI\n-----END RSA PRIVATE KEY-----"
	secrets := []planted{
		{"span", "user.note", "signup by jane.doe@example.com from the web", "jane.doe@example.com"},
		{"span", "payment.note", "charged 4111 1111 1111 1111 for order 88", "4111 1111 1111 1111"},
		{"span", "config.dump", "stripe=sk_live_51HxQ2bK3mN4pR5sT6uV7wX8y", "sk_live_51HxQ2bK3mN4pR5sT6uV7wX8y"},
		{"span", "aws.note", "using AKIAIOSFODNN7EXAMPLE for uploads", "AKIAIOSFODNN7EXAMPLE"},
		{"span", "ci.note", "cloned with ghp_1A2b3C4d5E6f7G8h9I0j1K2l3M4n5O6p7Q8r", "ghp_1A2b3C4d5E6f7G8h9I0j1K2l3M4n5O6p7Q8r"},
		{"span", "auth.jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1XzQyIn0.dGhpc2lzbm90YXJlYWxzaWc", "eyJzdWIiOiJ1XzQyIn0"},
		{"span", "log.line", "GET /x Authorization: Bearer abcDEF123456ghiJKL789", "abcDEF123456ghiJKL789"},
		{"span", "db.connection_string", "postgres://admin:s3cr3tP4ssw0rd@db.internal:5432/app", "s3cr3tP4ssw0rd"},
		{"span", "client.note", "request from 203.0.113.42 via proxy", "203.0.113.42"},
		{"span", "db.password", "correct-horse-battery-staple", "correct-horse-battery-staple"},
		{"span", "http.request.header.cookie", "session=Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4"},
		{"span", "kyc.note", "ssn 123-45-6789 verified", "123-45-6789"},
		{"span", "billing.iban", "pay to DE89 3704 0044 0532 0130 00 today", "DE89 3704 0044 0532 0130 00"},
		{"span", "support.callback", "call back on +1 415 555 0132", "415 555 0132"},
		{"span", "tls.key", pem, "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn"},
		{"span", "url.full", "https://api.example.com/v1/sync?user=7&api_key=AbC123xyz789QwE&page=2", "AbC123xyz789QwE"},
		{"resource", "deployment.owner", "ops.lead@example.org", "ops.lead@example.org"},
		{"event", "exception.message", "card 5555555555554444 declined", "5555555555554444"},
	}
	// Values a scrubber must not touch.
	keep := []planted{
		{"span", "http.route", "/api/analyze", ""},
		{"span", "request.uuid", "550e8400-e29b-41d4-a716-446655440000", ""},
		{"span", "trace.ref", "4bf92f3577b34da6a3ce929d0e0e4736", ""},
		{"span", "service.build", "v1.26.8", ""},
		{"span", "order.ref", "ORD-2024-000123", ""},
		{"span", "company.name", "Tesla", ""},
	}
	// Fields the processor does not scan: documented gaps, checked so that
	// the documentation stays true for the pinned version.
	gapName := "charge for gap.name@example.com"
	gapStatus := "token rejected for gap.status@example.com"
	gapLink := "linked from 198.51.100.77"

	traceID := randomID(16)
	now := time.Now()
	span := &tracepb.Span{
		TraceId: traceID, SpanId: randomID(8), Name: gapName, Kind: tracepb.Span_SPAN_KIND_SERVER,
		StartTimeUnixNano: uint64(now.Add(-50 * time.Millisecond).UnixNano()), EndTimeUnixNano: uint64(now.UnixNano()),
		Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: gapStatus},
		Links:  []*tracepb.Span_Link{{TraceId: randomID(16), SpanId: randomID(8), Attributes: []*commonpb.KeyValue{str("link.note", gapLink)}}},
	}
	span.Attributes = append(span.Attributes, integer("gen_ai.usage.input_tokens", 812))
	var res []*commonpb.KeyValue
	res = append(res, str("service.name", "legacy-python-svc"))
	var event []*commonpb.KeyValue
	for _, p := range append(secrets, keep...) {
		switch p.where {
		case "span":
			span.Attributes = append(span.Attributes, str(p.key, p.value))
		case "resource":
			res = append(res, str(p.key, p.value))
		case "event":
			event = append(event, str(p.key, p.value))
		}
	}
	span.Events = []*tracepb.Span_Event{{Name: "exception", TimeUnixNano: uint64(now.UnixNano()), Attributes: event}}
	postOTLP(t, col.http, otlpRequest(res, span))

	if !eventually(15*time.Second, func() bool { return len(sink.Spans()) > 0 }) {
		t.Fatal("the span never reached the sink")
	}
	raw := sink.RawBytes()
	caught := 0
	for _, p := range secrets {
		if bytes.Contains(raw, []byte(p.secret)) {
			t.Errorf("secret in %s attribute %q survived the Collector: %q", p.where, p.key, p.secret)
		} else {
			caught++
		}
	}
	got := sink.Spans()[0]
	for _, p := range keep {
		if v, _ := fakebackend.SpanAttr(got, p.key); v != p.value {
			t.Errorf("attribute %q changed: %q, want %q untouched", p.key, v, p.value)
		}
	}
	for _, kv := range got.Attributes {
		if kv.Key == "gen_ai.usage.input_tokens" && kv.Value.GetIntValue() != 812 {
			t.Errorf("gen_ai.usage.input_tokens changed: %v", kv.Value)
		}
	}
	if !hasAttr(got, "redaction.masked.count") {
		t.Errorf("no redaction.masked.count on a span the Collector masked (summary: info)")
	}
	gaps := 0
	for what, s := range map[string]string{"span name": gapName, "status message": gapStatus, "link attribute": gapLink} {
		if bytes.Contains(raw, []byte(s)) {
			gaps++
		} else {
			t.Errorf("the Collector now scans %s (%q gone): update docs/STACK.md's list of gaps", what, s)
		}
	}
	checkSentryWire(t, sink)
	t.Logf("RESULT collector redaction: %d/%d planted secrets removed (span, resource and event attributes), %d/%d must-keep values untouched, %d documented gaps confirmed (span name, status message, link attributes)",
		caught, len(secrets), len(keep), len(keep), gaps)
}

func hasAttr(s *tracepb.Span, key string) bool {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return true
		}
	}
	return false
}
