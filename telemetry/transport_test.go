package telemetry

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
)

func TestTransportHealthyBackendThroughSentryClient(t *testing.T) {
	t.Parallel()
	b := newTransportBackend(t)
	cfg, _, _ := testTransportConfig(t, t.TempDir(), nil)
	tr, err := newSpoolingTransport(cfg) // the client Configures it
	if err != nil {
		t.Fatal(err)
	}
	client, err := sentry.NewClient(sentry.ClientOptions{Dsn: b.dsn("public"), Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	const n = 50
	var want []string
	for i := range n {
		id := client.CaptureException(fmt.Errorf("boom %d", i), nil, nil)
		if id == nil {
			t.Fatalf("event %d not captured", i)
		}
		want = append(want, string(*id))
	}
	if !client.Flush(60 * time.Second) {
		t.Fatal("Flush returned false with a healthy backend")
	}
	assertDeliveredInOrder(t, b, want)
	s := tr.stats()
	if s.Captured != n || s.Sent != n || s.Spooled != 0 || s.Replayed != 0 || dropped(s) != 0 || s.QueueDepth != 0 || s.SpoolFiles != 0 {
		t.Errorf("stats = %+v", s)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	wantAuth := "Sentry sentry_version=7, sentry_client=sentry.go/" + sentry.SDKVersion + ", sentry_key=public"
	if b.auth[0] != wantAuth {
		t.Errorf("X-Sentry-Auth = %q, want %q", b.auth[0], wantAuth)
	}
	if _, ok := b.rawHeaders[0]["dsn"]; ok {
		t.Errorf("envelope header carries the DSN: %v", b.rawHeaders[0])
	}
}

// TestTransportOutageSpoolsThenDeliversInOrder: whatever the outage, every
// event goes to the spool without a request per event, and once the backend
// answers again each is delivered exactly once, in capture order.
func TestTransportOutageSpoolsThenDeliversInOrder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// outage starts it and returns how many requests it allows while
		// the events are captured (-1: any).
		outage  func(b *transportBackend) int
		recover func(b *transportBackend, clock *testClock, tr *spoolingTransport)
	}{
		{"connection refused", func(b *transportBackend) int { b.down(); return -1 },
			func(b *transportBackend, _ *testClock, _ *spoolingTransport) { b.up() }},
		{"503 with Retry-After", func(b *transportBackend) int { b.set(backendRetry503, "30", ""); return 1 },
			func(b *transportBackend, clock *testClock, tr *spoolingTransport) {
				b.set(backendOK, "", "")
				clock.advanceAndWake(31*time.Second, tr)
			}},
		{"429 with X-Sentry-Rate-Limits", func(b *transportBackend) int {
			b.set(backendLimit429, "", "60:error:organization")
			return 1
		}, func(b *transportBackend, clock *testClock, tr *spoolingTransport) {
			b.set(backendOK, "", "")
			clock.advanceAndWake(61*time.Second, tr)
		}},
		{"429 with Retry-After only", func(b *transportBackend) int { b.set(backendLimit429, "", ""); return 1 },
			func(b *transportBackend, clock *testClock, tr *spoolingTransport) {
				b.set(backendOK, "", "")
				clock.advanceAndWake(61*time.Second, tr) // no Retry-After: one minute for all
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newTransportBackend(t)
			dir := t.TempDir()
			// A small queue, so that the overflow path spools too.
			tr, clock, _ := testTransport(t, b.dsn("public"), dir, func(c *transportConfig) { c.queueSize = 8 })
			allowed := tc.outage(b)

			const n = 60
			ids := sendEvents(tr, n)
			if !tr.Flush(60 * time.Second) {
				t.Fatal("Flush did not return true once every event was spooled")
			}
			s := tr.stats()
			if s.Spooled != n || s.SpoolFiles != n || s.QueueDepth != 0 || s.Sent != 0 || dropped(s) != 0 {
				t.Fatalf("during the outage: stats = %+v", s)
			}
			if got := b.requestCount(); allowed >= 0 && got != allowed {
				t.Errorf("%d requests during the outage, want %d: the backend's delay was not honored", got, allowed)
			}
			if len(b.acceptedIDs()) != 0 {
				t.Fatal("backend accepted events while failing")
			}

			tc.recover(b, clock, tr)
			eventually(t, "the spooled events to arrive", func() bool { return len(b.acceptedIDs()) >= n })
			assertDeliveredInOrder(t, b, ids)
			eventually(t, "the spool to empty", func() bool { return tr.stats().SpoolFiles == 0 })
			s = tr.stats()
			if s.Captured != n || s.Sent != n || s.Replayed != n || dropped(s) != 0 || s.Sent != s.Captured-s.Dropped["expired"] {
				t.Errorf("after recovery: stats = %+v", s)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
				t.Errorf("files left in the spool: %v", left)
			}
		})
	}
}

// TestTransportHangingBackend: a backend that never answers holds one
// request; SendEvent never waits for it, Flush gives up at its timeout,
// Close returns, and every event is accounted for.
func TestTransportHangingBackend(t *testing.T) {
	t.Parallel()
	b := newTransportBackend(t)
	b.set(backendHang, "", "")
	tr, _, _ := testTransport(t, b.dsn("public"), t.TempDir(), func(c *transportConfig) {
		c.queueSize = 50
		c.spool.maxFiles = 100
		c.httpTimeout = time.Hour
	})

	const n = 10000
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		sendEvents(tr, n)
	}()
	select {
	case <-sent: // had any SendEvent waited on the hung request, this would never happen
	case <-time.After(3 * time.Minute):
		t.Fatal("SendEvent blocked behind a hanging backend")
	}
	eventually(t, "the one request to reach the backend", func() bool { return b.requestCount() == 1 })
	s := tr.stats()
	if s.Captured != n || uint64(s.QueueDepth)+s.Spooled+s.Dropped["spool_full"] != n || s.SpoolFiles != 100 {
		t.Errorf("stats = %+v: every event must be in memory, spooled, or dropped as spool_full", s)
	}
	if tr.Flush(50 * time.Millisecond) {
		t.Error("Flush returned true while the backend hangs")
	}
	closed := make(chan struct{})
	go func() { tr.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close did not return with a hanging backend")
	}
	s = tr.stats()
	if s.QueueDepth != 0 || s.Spooled+dropped(s) != n || s.Sent != 0 || b.requestCount() != 1 {
		t.Errorf("after Close: stats = %+v", s)
	}
	tr.SendEvent(testEvent(newTestEventID()))
	if got := tr.stats().Dropped["shutdown"]; got != 1 {
		t.Errorf("SendEvent after Close: dropped[shutdown] = %d, want 1", got)
	}
}

// TestTransportMemoryRetryWithoutSpool: with the spool off, a short outage
// loses nothing — events wait in memory and are retried — and what is still
// in memory at shutdown is counted and reported, not silently lost.
func TestTransportMemoryRetryWithoutSpool(t *testing.T) {
	t.Parallel()
	b := newTransportBackend(t)
	b.set(backendRetry503, "", "")
	tr, _, log := testTransport(t, b.dsn("public"), "", nil)
	ids := sendEvents(tr, 20)
	eventually(t, "a few retries", func() bool { return b.requestCount() >= 3 })
	b.set(backendOK, "", "")
	if !tr.Flush(60 * time.Second) {
		t.Fatal("Flush after the backend recovered returned false")
	}
	assertDeliveredInOrder(t, b, ids)
	if !strings.Contains(log.String(), "Sentry unreachable") || !strings.Contains(log.String(), "Sentry reachable again") {
		t.Errorf("outage and recovery not logged:\n%s", log)
	}

	b.down()
	sendEvents(tr, 5)
	err := tr.shutdown(shortContext(t))
	if err == nil || !strings.Contains(err.Error(), "5 error events") {
		t.Errorf("shutdown() = %v, want the 5 lost events named", err)
	}
	if s := tr.stats(); s.Dropped["shutdown"] != 5 || s.Sent != 20 || s.Captured != 25 {
		t.Errorf("stats = %+v", s)
	}
}

// TestTransportShutdownSpoolsWhatIsLeft: with the spool on, shutdown during
// an outage loses nothing and returns no error.
func TestTransportShutdownSpoolsWhatIsLeft(t *testing.T) {
	t.Parallel()
	b := newTransportBackend(t)
	b.set(backendHang, "", "")
	tr, _, _ := testTransport(t, b.dsn("public"), t.TempDir(), func(c *transportConfig) { c.httpTimeout = time.Hour })
	sendEvents(tr, 30)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := tr.shutdown(ctx); err != nil {
		t.Errorf("shutdown() = %v", err)
	}
	if s := tr.stats(); s.Spooled != 30 || s.SpoolFiles != 30 || dropped(s) != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestTransportRejected4xxIsDroppedNotRetried(t *testing.T) {
	t.Parallel()
	b := newTransportBackend(t)
	b.set(backendReject400, "", "")
	tr, _, log := testTransport(t, b.dsn("public"), t.TempDir(), nil)
	sendEvents(tr, 5)
	if !tr.Flush(60 * time.Second) {
		t.Fatal("Flush returned false")
	}
	s := tr.stats()
	if s.Dropped["rejected_4xx"] != 5 || s.Spooled != 0 || s.SpoolFiles != 0 || b.requestCount() != 5 {
		t.Errorf("stats = %+v, requests = %d", s, b.requestCount())
	}
	if !strings.Contains(log.String(), "retrying cannot help") {
		t.Errorf("rejection not logged:\n%s", log)
	}
}

// TestTransportNeverShowsTheDSNKey drives every path that logs or returns
// an error and looks for the key.
func TestTransportNeverShowsTheDSNKey(t *testing.T) {
	t.Parallel()
	const public, secret = "sekretpublic0123", "sekretsecret4567"
	b := newTransportBackend(t)
	dsn := "http://" + public + ":" + secret + "@" + b.addr + "/42"
	dir := t.TempDir()
	tr, _, log := testTransport(t, dsn, dir, func(c *transportConfig) { c.spool.maxFiles = 3 })
	b.down()
	sendEvents(tr, 10)
	eventually(t, "the outage to be logged", func() bool { return strings.Contains(log.String(), "Sentry unreachable") })
	err := tr.shutdown(shortContext(t))

	// One without a spool and with an invalid DSN.
	tr2, _, log2 := testTransport(t, "http://"+public+"@/", "", nil)
	sendEvents(tr2, 1)
	err2 := tr2.shutdown(shortContext(t))

	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var disk strings.Builder
	for _, f := range files {
		b, _ := os.ReadFile(f)
		disk.Write(b)
	}
	for what, text := range map[string]string{
		"log": log.String() + log2.String(), "errors": fmt.Sprint(err, err2),
		"stats": fmt.Sprintf("%+v %+v", tr.stats(), tr2.stats()), "spool files": disk.String(),
		"scrub": tr.scrub(`Post "http://` + public + `:` + secret + `@h/api/42/envelope/": ` + public),
	} {
		if strings.Contains(text, "sekret") {
			t.Errorf("%s show the DSN key:\n%s", what, text)
		}
	}
	if !strings.Contains(log.String(), "Sentry unreachable") || err2 == nil {
		t.Errorf("the paths under test did not run: log\n%s\nerr2 %v", log, err2)
	}
}

func TestTransportStatsAccountForEveryEvent(t *testing.T) {
	t.Parallel()
	tr, _, _ := testTransport(t, "", "", func(c *transportConfig) { c.queueSize = 4 })
	sendEvents(tr, 10) // never configured: nothing is sent
	s := tr.stats()
	if s.Captured != 10 || s.QueueDepth != 4 || s.Dropped["queue_full"] != 6 {
		t.Errorf("stats = %+v", s)
	}
	for _, r := range dropReasonNames {
		if _, ok := s.Dropped[r]; !ok {
			t.Errorf("drop reason %q missing from stats", r)
		}
	}
}

// shortContext is a shutdown deadline for a backend that is down.
func shortContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}
