//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

// tap sits between the app and the Collector: it records every span the app
// sent (the ground truth for "sent vs received") and forwards the request
// unchanged.
type tap struct {
	*httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newTap(t *testing.T, collectorHTTP int) *tap {
	tp := &tap{}
	target := fmt.Sprintf("http://127.0.0.1:%d", collectorHTTP)
	tp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := fakebackend.ReadBody(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var msg collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &msg); err != nil {
			t.Errorf("tap: the app sent a request that is not OTLP protobuf: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req, _ := http.NewRequest(http.MethodPost, target+r.URL.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			tp.mu.Lock()
			for _, rs := range msg.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					tp.spans = append(tp.spans, ss.Spans...)
				}
			}
			tp.mu.Unlock()
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(tp.Close)
	return tp
}

func (tp *tap) Spans() []*tracepb.Span {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]*tracepb.Span(nil), tp.spans...)
}

// startApp runs the service binary exporting over OTLP/HTTP to endpoint.
func startApp(t *testing.T, endpoint string) (*proc, string) {
	t.Helper()
	bin, _ := binaries(t)
	port := freePort(t)
	p := start(t, "app", bin, nil, map[string]string{
		"PORT":                        fmt.Sprint(port),
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_SERVICE_NAME":           "e2e-app",
		"SENTRY_ENVIRONMENT":          "development", // head sampling 1.0, faults allowed
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, p, base+"/healthz", 30*time.Second)
	return p, base
}

// request is one call to the app, under a trace the test chose.
type request struct {
	traceID, parentID []byte
	fault             string
	status            int
	err               error
	finished          time.Time
}

// traceparent makes the app's server span a child of a span the test
// invented, so the test knows every request's trace ID.
func (r *request) traceparent() string {
	return fmt.Sprintf("00-%x-%x-01", r.traceID, r.parentID)
}

// fire sends the requests concurrently and returns once every request has
// been written to the socket; done is closed when every response is in.
func fire(base string, reqs []*request) (done chan struct{}) {
	done = make(chan struct{})
	var written, finished sync.WaitGroup
	written.Add(len(reqs))
	finished.Add(len(reqs))
	client := &http.Client{Timeout: 30 * time.Second}
	for _, r := range reqs {
		go func() {
			defer finished.Done()
			var once sync.Once
			wrote := func() { once.Do(written.Done) }
			defer wrote()
			body := `{"company":"Tesla","industry":"Automotive","frameworks":["porter","swot"]}`
			req, _ := http.NewRequest(http.MethodPost, base+"/api/analyze", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("traceparent", r.traceparent())
			if r.fault != "" {
				req.Header.Set("X-Fault", r.fault)
			}
			ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				WroteRequest: func(httptrace.WroteRequestInfo) { wrote() },
			})
			resp, err := client.Do(req.WithContext(ctx))
			if err != nil {
				r.err = err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			r.status = resp.StatusCode
			r.finished = time.Now()
		}()
	}
	written.Wait()
	go func() { finished.Wait(); close(done) }()
	return done
}

func newRequests(n int, faultEvery int, fault string) []*request {
	reqs := make([]*request, n)
	for i := range reqs {
		reqs[i] = &request{traceID: randomID(16), parentID: randomID(8)}
		if faultEvery > 0 && i%faultEvery == 0 {
			reqs[i].fault = fault
		}
	}
	return reqs
}

// TestAppThroughCollector: the service, exporting over OTLP, through the
// gateway (every stage on, tail sampling at 100%) into a Sentry-shaped
// sink. A SIGTERM arrives while requests are in flight; the app must answer
// them, flush, exit 0, and every span it produced must reach the sink.
func TestAppThroughCollector(t *testing.T) {
	sink := fakebackend.NewOTLP(t)
	col := startCollector(t, "collector", []string{"gateway.yaml"}, map[string]string{
		"SENTRY_DSN":                         sentryDSN(sink),
		"COLLECTOR_TRACES_EXPORTERS":         "otlp_http/sentry",
		"COLLECTOR_TAIL_SAMPLING_PERCENTAGE": "100",
		"COLLECTOR_TAIL_DECISION_WAIT":       "1s",
		"COLLECTOR_BATCH_TIMEOUT":            "200ms",
	})
	tp := newTap(t, col.http)
	app, base := startApp(t, tp.URL)

	// Slow faults keep some requests in flight when the signal lands.
	reqs := newRequests(24, 3, "slow")
	for i := 1; i < len(reqs); i += 6 {
		reqs[i].fault = "error"
	}
	done := fire(base, reqs)
	time.Sleep(150 * time.Millisecond) // let the server pick the requests up
	signalled := time.Now()
	if err := app.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("requests did not finish after SIGTERM")
	}
	select {
	case <-app.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the app did not exit after SIGTERM")
	}
	if app.err != nil {
		t.Fatalf("the app exited with %v after SIGTERM\n%s", app.err, tail(app.out.String(), 4000))
	}
	inFlight := 0
	for i, r := range reqs {
		if r.err != nil {
			t.Errorf("request %d (fault %q) failed across the SIGTERM: %v", i, r.fault, r.err)
		}
		if r.finished.After(signalled) {
			inFlight++
		}
	}
	if inFlight == 0 {
		t.Fatal("every request finished before the SIGTERM: the test did not exercise a shutdown under load")
	}

	sent := tp.Spans()
	if len(sent) == 0 {
		t.Fatal("the app sent no span to the Collector")
	}
	sentSet := map[spanKey]*tracepb.Span{}
	for _, s := range sent {
		if _, dup := sentSet[keyOf(s)]; dup {
			t.Errorf("the app sent span %v twice", keyOf(s))
		}
		sentSet[keyOf(s)] = s
	}
	// Every request's server span was exported, as a child of the test's
	// parent, and no span of the app refers to a parent the app never sent.
	injected := map[string]bool{}
	for _, r := range reqs {
		injected[fmt.Sprintf("%x", r.parentID)] = true
	}
	servers := map[string]bool{}
	for k, s := range sentSet {
		parent := fmt.Sprintf("%x", s.ParentSpanId)
		switch {
		case injected[parent]:
			servers[k.trace] = true
		case len(s.ParentSpanId) == 0:
		default:
			if _, ok := sentSet[spanKey{k.trace, parent}]; !ok {
				t.Errorf("span %q (%v) lost its parent %s: a span was lost in the app", s.Name, k, parent)
			}
		}
	}
	for i, r := range reqs {
		if !servers[fmt.Sprintf("%x", r.traceID)] {
			t.Errorf("request %d (fault %q, HTTP %d): no server span exported", i, r.fault, r.status)
		}
	}

	// Everything the app sent comes out of the Collector, once.
	received := 0
	eventually(20*time.Second, func() bool { received = len(sink.Spans()); return received >= len(sent) })
	got := map[spanKey]bool{}
	for _, s := range sink.Spans() {
		if got[keyOf(s)] {
			t.Errorf("span %v delivered twice", keyOf(s))
		}
		got[keyOf(s)] = true
		if _, ok := sentSet[keyOf(s)]; !ok {
			t.Errorf("the sink got span %v that the app never sent", keyOf(s))
		}
	}
	missing := 0
	for k := range sentSet {
		if !got[k] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d spans the app sent never left the Collector", missing, len(sentSet))
	}
	checkSentryWire(t, sink)
	// The gateway copies environment and release from the resource onto
	// each span, where Sentry's OTLP endpoint reads them.
	for _, sp := range sink.Spans() {
		if env, _ := fakebackend.SpanAttr(sp, "sentry.environment"); env != "development" {
			t.Errorf("span %q: sentry.environment %q, want development", sp.Name, env)
			break
		}
		if rel, _ := fakebackend.SpanAttr(sp, "sentry.release"); rel == "" {
			t.Errorf("span %q: no sentry.release", sp.Name)
			break
		}
	}
	t.Logf("RESULT app→collector→sink: %d requests (SIGTERM with requests in flight), spans sent %d, received %d, missing %d, traces %d",
		len(reqs), len(sentSet), len(got), missing, len(servers))
	t.Logf("RESULT SIGTERM: %d of %d requests were in flight when the signal landed; all answered, app exited 0", inFlight, len(reqs))
}
