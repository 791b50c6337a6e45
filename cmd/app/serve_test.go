package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startService runs the real command's serve path with the current
// environment and returns its base URL and a stop function that sends the
// equivalent of SIGTERM and waits for a clean exit.
func startService(t *testing.T) (string, *lockedBuffer, func()) {
	t.Helper()
	url, stderr, stop := startServiceErr(t)
	return url, stderr, func() {
		if err := stop(); err != nil {
			t.Errorf("service shutdown: %v\n%s", err, stderr.String())
		}
	}
}

// startServiceErr is startService for tests that expect shutdown to report
// what it could not deliver: stop returns the error.
func startServiceErr(t *testing.T) (string, *lockedBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var stderr lockedBuffer
	go func() { done <- runServe(ctx, []string{"-addr", "127.0.0.1:0"}, os.Getenv, &stderr, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("service exited before listening: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("service did not start")
	}
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Error("service did not stop")
			return nil
		}
	}
	return "http://" + addr, &stderr, stop
}

func setBackendEnv(t *testing.T, kv ...string) {
	for _, k := range []string{"SENTRY_DSN", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "SENTRY_ENVIRONMENT",
		"ENVIRONMENT", "SENTRY_TRACES_SAMPLE_RATE", "OTEL_SDK_DISABLED", "OTEL_RESOURCE_ATTRIBUTES", "PORT"} {
		t.Setenv(k, "")
	}
	t.Setenv("SENTRY_RELEASE", "test")
	t.Setenv("OTELSENTRY_SPOOL_DIR", t.TempDir())
	for i := 0; i < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

func get(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
}

// TestSameBinaryThreeBackends: the command's code does not change; only the
// environment picks console, an OTLP collector or Sentry. Every span of a
// request made before the stop signal arrives.
func TestSameBinaryThreeBackends(t *testing.T) {
	t.Run("otlp", func(t *testing.T) {
		rcv := fakebackend.NewOTLP(t)
		setBackendEnv(t, "OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
		url, _, stop := startService(t)
		for i := 0; i < 20; i++ {
			get(t, url+"/healthz")
		}
		get(t, url+"/metrics")
		stop()
		var n int
		for _, s := range rcv.Spans() {
			if s.Name == "GET /healthz" {
				n++
			}
		}
		if n != 20 {
			t.Errorf("collector received %d GET /healthz spans, want 20", n)
		}
	})
	t.Run("sentry", func(t *testing.T) {
		rcv := fakebackend.NewOTLP(t)
		setBackendEnv(t, "SENTRY_DSN", "http://key@"+strings.TrimPrefix(rcv.URL, "http://")+"/42")
		url, stderr, stop := startService(t)
		get(t, url+"/healthz")
		stop()
		var found bool
		for _, r := range rcv.Requests() {
			if r.Path == "/api/42/integration/otlp/v1/traces/" && strings.Contains(r.Header.Get("X-Sentry-Auth"), "sentry_key=key") {
				found = true
			}
		}
		if !found {
			t.Errorf("no OTLP request on /api/42/integration/otlp/v1/traces/ with sentry_key=key; got %d requests", len(rcv.Requests()))
		}
		if strings.Contains(stderr.String(), "key@") {
			t.Errorf("logs show the DSN key:\n%s", stderr.String())
		}
	})
	t.Run("console", func(t *testing.T) {
		setBackendEnv(t)
		url, stderr, stop := startService(t)
		get(t, url+"/healthz")
		stop()
		out := stderr.String()
		if !strings.Contains(out, "traces -> console") || !strings.Contains(out, "\n  GET /healthz  ") {
			t.Errorf("console shows no trace tree:\n%s", out)
		}
	})
}

// TestUntrustedBaggageSetsNoEnrichment: a caller's W3C baggage travels on,
// but cannot set user.id or other enrichment attributes on our spans; and
// malformed trace headers start a fresh trace instead of failing.
func TestUntrustedBaggageSetsNoEnrichment(t *testing.T) {
	rcv := fakebackend.NewOTLP(t)
	setBackendEnv(t, "OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	url, _, stop := startService(t)
	for _, h := range []map[string]string{
		{"baggage": "user.id=admin,user.tier=enterprise,request_id=forged"},
		{"traceparent": "00-zzzz-not-a-trace-01", "sentry-trace": strings.Repeat("f", 5000), "baggage": strings.Repeat("k=v,", 10000)},
	} {
		req, _ := http.NewRequest("GET", url+"/healthz", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("hostile headers %v: %s", h, resp.Status)
		}
	}
	stop()
	spans := rcv.Spans()
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want 2", len(spans))
	}
	for _, s := range spans {
		for _, kv := range s.Attributes {
			switch kv.Key {
			case "user.id", "user.tier":
				t.Errorf("baggage set %s=%q", kv.Key, kv.Value.GetStringValue())
			case "request_id":
				if kv.Value.GetStringValue() == "forged" {
					t.Error("baggage set request_id")
				}
			}
		}
		if len(s.ParentSpanId) != 0 {
			t.Errorf("span %s continued a trace from hostile headers", s.Name)
		}
	}
}
