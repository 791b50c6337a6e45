package telemetry

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSpoolRestartDeliversBacklog: a transport spools during an outage and
// goes away; the next one on the same directory delivers the backlog in
// order, then its own events after it.
func TestSpoolRestartDeliversBacklog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dead := newTransportBackend(t)
	dead.down()
	a, _, _ := testTransport(t, dead.dsn("public"), dir, nil)
	backlog := sendEvents(a, 40)
	if !a.Flush(60 * time.Second) {
		t.Fatal("Flush did not spool the events")
	}
	a.Close()
	if s := a.stats(); s.Spooled != 40 || s.SpoolFiles != 40 {
		t.Fatalf("first process: stats = %+v", s)
	}

	b := newTransportBackend(t)
	tr, _, log := testTransport(t, b.dsn("public"), dir, nil)
	fresh := sendEvents(tr, 5)
	want := append(slices.Clone(backlog), fresh...)
	eventually(t, "backlog and new events", func() bool { return len(b.acceptedIDs()) >= len(want) })
	if !tr.Flush(60 * time.Second) {
		t.Fatal("Flush returned false with a healthy backend")
	}
	assertDeliveredInOrder(t, b, want)
	if s := tr.stats(); s.Captured != 5 || s.Sent != 45 || s.Replayed != 40 || s.SpoolFiles != 0 || dropped(s) != 0 {
		t.Errorf("second process: stats = %+v", s)
	}
	if !strings.Contains(log.String(), "previous run") {
		t.Errorf("the recovered backlog is not logged:\n%s", log)
	}
}

const (
	envCrashDir = "OTELSENTRY_TEST_CRASH_SPOOL_DIR"
	envCrashDSN = "OTELSENTRY_TEST_CRASH_DSN"
)

// TestSpoolSurvivesSIGKILL runs a child process (this test binary, in
// TestSpoolCrashHelperProcess) that spools events while Sentry is down and
// keeps capturing until it is killed with SIGKILL — no Close, no deferred
// code, possibly in the middle of a spool write. A new transport on the
// same directory then delivers every event the child reported as spooled.
func TestSpoolSurvivesSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	t.Parallel()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadDSN := "http://public@" + l.Addr().String() + "/42"
	l.Close() // connection refused from now on

	cmd := exec.Command(os.Args[0], "-test.run=^TestSpoolCrashHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashDSN+"="+deadDSN)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "SPOOLED "); ok {
				line <- s
				break
			}
		}
		close(line)
	}()
	var reported []string
	select {
	case s, ok := <-line:
		if !ok {
			t.Fatal("child exited without reporting its spooled events")
		}
		reported = strings.Split(s, ",")
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("child did not report its spooled events")
	}
	// The child is still capturing and spooling: kill it mid-outage.
	time.Sleep(20 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	b := newTransportBackend(t)
	tr, _, _ := testTransport(t, b.dsn("public"), dir, nil)
	if tmp, _ := filepath.Glob(filepath.Join(dir, spoolTmpPrefix+"*")); len(tmp) != 0 {
		t.Errorf("interrupted writes left after open: %v", tmp)
	}
	eventually(t, "the spool to drain", func() bool { return tr.stats().SpoolFiles == 0 })
	got := b.acceptedIDs()
	if len(got) < len(reported) || !slices.Equal(got[:len(reported)], reported) {
		t.Fatalf("after the crash: delivered %d events, want the %d the child spooled first, in order", len(got), len(reported))
	}
	assertDeliveredInOrder(t, b, got) // and nothing twice
	if s := tr.stats(); s.Sent != uint64(len(got)) || s.Replayed != s.Sent || s.Dropped["expired"] != 0 {
		t.Errorf("stats = %+v", s)
	}
	t.Logf("child spooled %d events before reporting, %d in all before SIGKILL (%d interrupted writes removed)",
		len(reported), len(got), tr.stats().Dropped["corrupt"])
}

// TestSpoolCrashHelperProcess is the child of TestSpoolSurvivesSIGKILL.
func TestSpoolCrashHelperProcess(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("helper process for TestSpoolSurvivesSIGKILL")
	}
	tr, _, _ := testTransport(t, os.Getenv(envCrashDSN), dir, nil)
	ids := sendEvents(tr, 30)
	for tr.stats().Spooled < uint64(len(ids)) {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("SPOOLED " + strings.Join(ids, ","))
	for { // until SIGKILL
		sendEvents(tr, 1)
		time.Sleep(time.Millisecond)
	}
}

// TestSpoolExpiredEventsAreDroppedAndCounted: events older than the max age
// are never sent; every other one is (sent = captured − expired).
func TestSpoolExpiredEventsAreDroppedAndCounted(t *testing.T) {
	t.Parallel()
	b := newTransportBackend(t)
	b.down()
	tr, clock, _ := testTransport(t, b.dsn("public"), t.TempDir(), nil)
	sendEvents(tr, 10)
	clock.advance(23 * time.Hour)
	young := sendEvents(tr, 10)
	if !tr.Flush(60 * time.Second) {
		t.Fatal("Flush did not spool the events")
	}
	// The first ten are 25 h old now. The backend comes back only once they
	// are gone, as an attempt picked just before the clock moved may still
	// be in flight.
	clock.advanceAndWake(2*time.Hour, tr)
	eventually(t, "the old events to expire", func() bool { return tr.stats().Dropped["expired"] == 10 })
	b.up()
	tr.poke()
	eventually(t, "the young events", func() bool { return len(b.acceptedIDs()) >= len(young) })
	eventually(t, "the spool to drain", func() bool { return tr.stats().SpoolFiles == 0 })
	assertDeliveredInOrder(t, b, young)
	s := tr.stats()
	if s.Dropped["expired"] != 10 || s.Sent != s.Captured-s.Dropped["expired"] {
		t.Errorf("stats = %+v, want 10 expired and sent = captured - expired", s)
	}

	// Expired files are also removed when a process starts.
	dir := t.TempDir()
	sp, err := openSpool(spoolConfig{dir: dir, maxBytes: 1 << 20, maxFiles: 10, maxAge: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	old := testEnvelope(t, 1)
	old.captured = time.Now().Add(-2 * time.Hour)
	if err := sp.put(old, true); err != nil {
		t.Fatal(err)
	}
	sp, err = openSpool(sp.cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := sp.usage(); n != 0 || sp.expired.Load() != 1 {
		t.Errorf("after reopening: %d files, %d expired", n, sp.expired.Load())
	}
}

// TestSpoolFullDropsNewEvents: a full spool refuses new envelopes and never
// evicts the older, unsent ones.
func TestSpoolFullDropsNewEvents(t *testing.T) {
	t.Parallel()
	b := newTransportBackend(t)
	b.down()
	tr, _, _ := testTransport(t, b.dsn("public"), t.TempDir(), func(c *transportConfig) {
		c.queueSize = 2
		c.spool.maxFiles = 5
	})
	sendEvents(tr, 20)
	eventually(t, "the spool to fill", func() bool { return tr.stats().SpoolFiles == 5 })
	before := spoolNames(tr.spool)
	sendEvents(tr, 5)
	if after := spoolNames(tr.spool); !slices.Equal(before, after) {
		t.Errorf("a full spool changed: %v -> %v", before, after)
	}
	s := tr.stats()
	if s.Captured != 25 || s.Spooled != 5 || uint64(s.QueueDepth)+s.Spooled+s.Dropped["spool_full"] != 25 || s.Dropped["spool_full"] < 25-5-3 { // 3: the queue (2) and the envelope the worker holds
		t.Errorf("stats = %+v", s)
	}
	inMemory := int(s.QueueDepth)
	b.up()
	tr.poke()
	eventually(t, "delivery", func() bool { return len(b.acceptedIDs()) >= 5+inMemory })
	if !tr.Flush(60 * time.Second) {
		t.Fatal("Flush returned false after recovery")
	}
	eventually(t, "the spool to drain", func() bool { return tr.stats().SpoolFiles == 0 })
	s = tr.stats()
	if s.Sent != s.Captured-dropped(s) || s.SpoolFiles != 0 {
		t.Errorf("after recovery: stats = %+v", s)
	}

	// The byte bound, on its own.
	sp, err := openSpool(spoolConfig{dir: t.TempDir(), maxBytes: 3 * testEnvelope(t, 1).size(), maxFiles: 100, maxAge: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 4; i++ {
		err := sp.put(testEnvelope(t, i), true)
		if (i <= 3) != (err == nil) {
			t.Errorf("put #%d: %v", i, err)
		}
	}
}

// TestSpoolRemovesInterruptedAndCorruptFiles: a temp file left by a crash is
// removed at open, a final file that is not a whole envelope when read, and
// both are counted; files that are not the spool's are left alone.
func TestSpoolRemovesInterruptedAndCorruptFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := testEnvelope(t, 2)
	torn := testEnvelope(t, 1)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(spoolTmpPrefix+"123456", good.stored()[:10])
	write(spoolName(torn), torn.stored()[:len(torn.stored())-7])
	write(spoolName(good), good.stored())
	write("README", []byte("not ours"))

	b := newTransportBackend(t)
	tr, _, log := testTransport(t, b.dsn("public"), dir, nil)
	eventually(t, "the spool to drain", func() bool { return tr.stats().SpoolFiles == 0 })
	eventually(t, "the good envelope", func() bool { return len(b.acceptedIDs()) == 1 })
	assertDeliveredInOrder(t, b, []string{good.eventID})
	if s := tr.stats(); s.Dropped["corrupt"] != 2 || s.Replayed != 1 {
		t.Errorf("stats = %+v", s)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 || left[0].Name() != "README" {
		t.Errorf("left in the spool directory: %v", left)
	}
	if !strings.Contains(log.String(), "Error spool file skipped") {
		t.Errorf("corrupt file not logged:\n%s", log)
	}
	fresh := filepath.Join(t.TempDir(), "a", "spool")
	if _, err := openSpool(spoolConfig{dir: fresh, maxBytes: 1, maxFiles: 1, maxAge: time.Hour}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(fresh); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("spool directory mode = %v (%v), want 0700", info.Mode().Perm(), err)
	}
}

func TestSpoolConfigResolve(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	var c spoolConfig
	if err := c.resolve(getenv); err != nil || c.dir != "" || c.maxBytes != defaultSpoolMaxBytes ||
		c.maxFiles != defaultSpoolMaxFiles || c.maxAge != defaultSpoolMaxAge {
		t.Errorf("defaults: %+v, %v", c, err)
	}

	env = map[string]string{envSpoolDir: " /var/lib/x ", envSpoolMaxBytes: "1024", envSpoolMaxAge: "90m"}
	c = spoolConfig{}
	if err := c.resolve(getenv); err != nil || c.dir != "/var/lib/x" || c.maxBytes != 1024 || c.maxAge != 90*time.Minute {
		t.Errorf("from the environment: %+v, %v", c, err)
	}
	c = spoolConfig{dir: "/opt", maxBytes: 5, maxAge: time.Minute} // options win
	if err := c.resolve(getenv); err != nil || c.dir != "/opt" || c.maxBytes != 5 || c.maxAge != time.Minute {
		t.Errorf("options over the environment: %+v, %v", c, err)
	}

	for k, v := range map[string]string{envSpoolMaxBytes: "lots", envSpoolMaxAge: "-1h"} {
		env = map[string]string{k: v}
		c = spoolConfig{}
		if err := c.resolve(getenv); err == nil || !strings.Contains(err.Error(), k) || !strings.Contains(err.Error(), v) {
			t.Errorf("%s=%s: error %v does not name the variable and value", k, v, err)
		}
	}
}

// testEnvelope is an envelope with sequence number seq, captured now.
func testEnvelope(t *testing.T, seq uint64) *envelope {
	t.Helper()
	env, err := newEnvelope(testEvent(newTestEventID()), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	env.seq = seq
	return env
}

func spoolNames(s *spool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, e := range s.entries {
		names = append(names, e.name)
	}
	return names
}
