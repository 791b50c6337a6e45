package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

// The bare-SDK service serves the reference service's API, reads its
// sampler and exporter from the standard variables, and flushes what it
// sampled to an OTLP/HTTP receiver (gzip, protobuf, decoded by the fake
// backend) when it is stopped.
func TestServesAndExportsThroughTheStandardVariables(t *testing.T) {
	recv := fakebackend.NewOTLP(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", recv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
	t.Setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
	t.Setenv("OTEL_TRACES_SAMPLER_ARG", "1")
	t.Setenv("ENVIRONMENT", "production")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-shutdown-timeout", "10s"}, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("not listening after 20s")
	}

	const body = `{"company":"Tesla","industry":"Automotive","frameworks":["porter","swot"]}`
	resp, err := http.Post("http://"+addr+"/api/analyze", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), `"Tesla"`) {
		t.Fatalf("POST /api/analyze: %d %s", resp.StatusCode, answer)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no shutdown within 30s")
	}
	reqs := recv.Requests()
	if len(reqs) == 0 {
		t.Fatal("the receiver got no export request")
	}
	for _, r := range reqs {
		if r.Path != "/v1/traces" || r.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("export request to %s with Content-Encoding %q, want /v1/traces with gzip", r.Path, r.Header.Get("Content-Encoding"))
		}
	}
	names := map[string]int{}
	for _, s := range recv.Spans() {
		names[s.Name]++
	}
	if names["POST /api/analyze"] != 1 || names["agent.execute"] == 0 {
		t.Fatalf("spans received by name: %v; want the request's server span and its agents' spans", names)
	}
}
