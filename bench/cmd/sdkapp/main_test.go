package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// The bare-SDK service serves the reference service's API, reads its
// sampler and exporter from the standard variables, and flushes what it
// sampled to an OTLP/HTTP receiver (gzip, protobuf, decoded here) when it
// is stopped.
func TestServesAndExportsThroughTheStandardVariables(t *testing.T) {
	var (
		mu    sync.Mutex
		names = map[string]int{}
		bad   []string
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Encoding") != "gzip" {
			bad = append(bad, r.URL.Path+" encoding="+r.Header.Get("Content-Encoding"))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		zr, err := gzip.NewReader(r.Body)
		var raw []byte
		if err == nil {
			raw, err = io.ReadAll(zr)
		}
		var msg collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(raw, &msg)
		}
		if err != nil {
			bad = append(bad, err.Error())
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, rs := range msg.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names[s.Name]++
				}
			}
		}
	}))
	defer recv.Close()
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
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("receiver refused exports: %v", bad)
	}
	if names["POST /api/analyze"] != 1 || names["agent.execute"] == 0 {
		t.Fatalf("spans received by name: %v; want the request's server span and its agents' spans", names)
	}
}
