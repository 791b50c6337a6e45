package otlpwire

import (
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

func TestCountSpansAgreesWithADecode(t *testing.T) {
	req := &collectortrace.ExportTraceServiceRequest{}
	want := 0
	for r := 0; r < 3; r++ {
		rs := &tracepb.ResourceSpans{}
		for s := 0; s < 2; s++ {
			ss := &tracepb.ScopeSpans{}
			for k := 0; k < r+s+1; k++ {
				ss.Spans = append(ss.Spans, &tracepb.Span{Name: "s", TraceId: make([]byte, 16), SpanId: make([]byte, 8)})
				want++
			}
			rs.ScopeSpans = append(rs.ScopeSpans, ss)
		}
		req.ResourceSpans = append(req.ResourceSpans, rs)
	}
	raw, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := CountSpans(raw); err != nil || got != want {
		t.Fatalf("CountSpans = %d, %v; want %d", got, err, want)
	}
	if _, err := CountSpans(raw[:len(raw)-3]); err == nil {
		t.Fatal("a truncated body counted without error")
	}
}
