package telemetry

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

// Fault modes of the transport tests' Sentry backend.
const (
	backendOK        = iota // accept and record
	backendRetry503         // 503, with Retry-After when set
	backendLimit429         // 429, with X-Sentry-Rate-Limits when set
	backendHang             // never answer (until the client gives up or the test ends)
	backendReject400        // 400: a malformed event
)

// transportBackend is a Sentry envelope endpoint on 127.0.0.1 that can go
// down (its listener closed: connection refused), hang, or answer 503 or
// 429. It records the envelopes it accepts, parsed (header line, item
// header, payload), in arrival order.
type transportBackend struct {
	t    testing.TB
	addr string
	mode atomic.Int32

	mu          sync.Mutex
	srv         *httptest.Server
	retryAfter  string
	rateLimits  string
	requests    int      // every request, whatever the answer
	accepted    []string // event_ids accepted, in order
	auth        []string // X-Sentry-Auth of accepted requests
	rawHeaders  []map[string]any
	releaseHang chan struct{}
}

func newTransportBackend(t testing.TB) *transportBackend {
	t.Helper()
	b := &transportBackend{t: t, releaseHang: make(chan struct{})}
	b.srv = httptest.NewServer(b)
	b.addr = b.srv.Listener.Addr().String()
	t.Cleanup(func() {
		close(b.releaseHang)
		b.mu.Lock()
		srv := b.srv
		b.mu.Unlock()
		if srv != nil {
			srv.Close()
		}
	})
	return b
}

// dsn is the backend's DSN with the given key.
func (b *transportBackend) dsn(key string) string { return "http://" + key + "@" + b.addr + "/42" }

// down closes the listener: new connections are refused.
func (b *transportBackend) down() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	srv.CloseClientConnections()
	srv.Close()
}

// up listens again on the same address.
func (b *transportBackend) up() {
	b.t.Helper()
	var l net.Listener
	var err error
	for range 200 { // the port may take a moment to be free again
		if l, err = net.Listen("tcp", b.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		b.t.Fatalf("backend: listening again on %s: %v", b.addr, err)
	}
	srv := httptest.NewUnstartedServer(b)
	srv.Listener = l
	srv.Start()
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
}

func (b *transportBackend) set(mode int32, retryAfter, rateLimits string) {
	b.mu.Lock()
	b.retryAfter, b.rateLimits = retryAfter, rateLimits
	b.mu.Unlock()
	b.mode.Store(mode)
}

func (b *transportBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.requests++
	retryAfter, limits := b.retryAfter, b.rateLimits
	b.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/api/42/envelope/" {
		b.t.Errorf("backend: unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	switch b.mode.Load() {
	case backendRetry503:
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	case backendLimit429:
		if limits != "" {
			w.Header().Set("X-Sentry-Rate-Limits", limits)
		}
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case backendHang:
		select {
		case <-b.releaseHang:
		case <-r.Context().Done():
		}
		return
	case backendReject400:
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	body, err := fakebackend.ReadBody(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	env, err := fakebackend.ParseEnvelope(body)
	if err != nil {
		b.t.Errorf("backend: malformed envelope: %v\n%s", err, body)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, _ := env.Header["event_id"].(string)
	if len(env.Items) != 1 || env.Items[0].Type != "event" {
		b.t.Errorf("backend: envelope %s: want one event item, got %+v", id, env.Items)
	} else {
		var ev struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(env.Items[0].Payload, &ev); err != nil || ev.EventID != id {
			b.t.Errorf("backend: envelope %s: event payload %q (%v)", id, env.Items[0].Payload, err)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(env.Header["sent_at"])); err != nil {
		b.t.Errorf("backend: envelope %s: sent_at %v: %v", id, env.Header["sent_at"], err)
	}
	b.mu.Lock()
	b.accepted = append(b.accepted, id)
	b.auth = append(b.auth, r.Header.Get("X-Sentry-Auth"))
	b.rawHeaders = append(b.rawHeaders, env.Header)
	b.mu.Unlock()
	_, _ = fmt.Fprintf(w, `{"id":%q}`, id)
}

func (b *transportBackend) acceptedIDs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.accepted...)
}

func (b *transportBackend) requestCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests
}

// testClock is time.Now moved forward by the test, so that rate limits,
// Retry-After and the spool's max age can pass without waiting.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func (c *testClock) advanceAndWake(d time.Duration, t *spoolingTransport) {
	c.advance(d)
	t.poke()
}

// testTransportConfig is a transport configuration for tests: millisecond
// backoff, a movable clock, a captured log; dir "" keeps the spool off.
func testTransportConfig(t *testing.T, dir string, tune func(*transportConfig)) (transportConfig, *testClock, *syncBuffer) {
	t.Helper()
	clock := &testClock{}
	log := &syncBuffer{}
	cfg := transportConfig{
		backoffBase: time.Millisecond,
		backoffMax:  20 * time.Millisecond,
		httpTimeout: 20 * time.Second,
		logger:      slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		now:         clock.now,
	}
	if dir != "" {
		cfg.spool = spoolConfig{dir: dir}
		if err := cfg.spool.resolve(func(string) string { return "" }); err != nil {
			t.Fatal(err)
		}
	}
	if tune != nil {
		tune(&cfg)
	}
	return cfg, clock, log
}

// testTransport builds a transport from testTransportConfig and configures
// it for dsn. Close runs at cleanup.
func testTransport(t *testing.T, dsn, dir string, tune func(*transportConfig)) (*spoolingTransport, *testClock, *syncBuffer) {
	t.Helper()
	cfg, clock, log := testTransportConfig(t, dir, tune)
	tr, err := newSpoolingTransport(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.Configure(sentry.ClientOptions{Dsn: dsn})
	t.Cleanup(tr.Close)
	return tr, clock, log
}

var testEventSeq atomic.Uint64

// newTestEventID is a unique 32-hex-digit event ID.
func newTestEventID() string {
	return fmt.Sprintf("%08x%024x", rand.Uint32(), testEventSeq.Add(1))
}

// testEvent is an error event as the bridge would capture it.
func testEvent(id string) *sentry.Event {
	ev := sentry.NewEvent()
	ev.EventID = sentry.EventID(id)
	ev.Level = sentry.LevelError
	ev.Platform = "go"
	ev.Exception = []sentry.Exception{{Type: "*errors.errorString", Value: "boom " + id}}
	ev.Sdk = sentry.SdkInfo{Name: "sentry.go", Version: sentry.SDKVersion}
	return ev
}

// sendEvents captures n new events and returns their IDs in order.
func sendEvents(tr *spoolingTransport, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newTestEventID()
		tr.SendEvent(testEvent(ids[i]))
	}
	return ids
}

// eventually polls cond until it holds or a generous deadline passes: the
// machine may be slow, and a correct run never waits that long.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// assertDeliveredInOrder checks that the backend accepted exactly want, in
// that order, each once.
func assertDeliveredInOrder(t *testing.T, b *transportBackend, want []string) {
	t.Helper()
	got := b.acceptedIDs()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
		if seen[id] == 2 {
			t.Errorf("event %s delivered twice", id)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %d events, want %d in capture order\n got: %v\nwant: %v", len(got), len(want), got, want)
	}
}

func dropped(s SentryTransportStats) uint64 {
	var n uint64
	for _, v := range s.Dropped {
		n += v
	}
	return n
}
