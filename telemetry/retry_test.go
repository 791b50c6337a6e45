package telemetry

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

// TestOTLPRetriesHonourRetryAfter: a collector that answers 429 with
// Retry-After is retried — the OTLP exporter waits the greater of the header
// and its exponential backoff with jitter (5 s initial, 1 min at most) — and
// every span arrives once it recovers. The retry runs in the batcher's
// goroutine, never on a request.
func TestOTLPRetriesHonourRetryAfter(t *testing.T) {
	clearEnv(t)
	rcv := fakebackend.NewOTLP(t)
	var calls atomic.Int64
	inner := rcv.Config.Handler
	rcv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		default:
			inner.ServeHTTP(w, r)
		}
	})
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	var log syncBuffer
	p, err := Setup(context.Background(), testOptions(&log, WithSampleRate(1))...)
	if err != nil {
		t.Fatal(err)
	}
	makeSpans(p.TracerProvider(), 10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := calls.Load(); n < 2 {
		t.Fatalf("backend saw %d requests, want the refusal then a retry", n)
	}
	if got := len(rcv.Spans()); got != 20 {
		t.Fatalf("received %d spans after the retries, want 20", got)
	}
	st := p.Stats().Exporters["otlp"]
	if st.Exported != 20 || st.Failed != 0 {
		t.Errorf("exporter stats = %+v, want 20 exported", st)
	}
}
