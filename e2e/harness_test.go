//go:build e2e

package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

var (
	binOnce              sync.Once
	appBin, collectorBin string
	binErr               error
	binDir               string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// repoRoot is the main module's root (this package is <root>/e2e).
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// binaries builds the service once per test binary and finds (or builds,
// through scripts/build-collector and its cache) the Collector.
func binaries(t testing.TB) (app, collector string) {
	t.Helper()
	binOnce.Do(func() {
		root := repoRoot(t)
		binDir, binErr = os.MkdirTemp("", "otelsentry-e2e-bin-")
		if binErr != nil {
			return
		}
		appBin = filepath.Join(binDir, "app")
		build := exec.Command("go", "build", "-o", appBin, "./cmd/app")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("building the app: %v\n%s", err, out)
			return
		}
		script := exec.Command("bash", filepath.Join(root, "scripts", "build-collector"))
		script.Dir = root
		var stderr bytes.Buffer
		script.Stderr = &stderr
		out, err := script.Output()
		if err != nil {
			binErr = fmt.Errorf("scripts/build-collector: %v\n%s", err, stderr.String())
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		collectorBin = lines[len(lines)-1]
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return appBin, collectorBin
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// cleanEnv is the test process's environment without any variable that
// would change what the app or the Collector does, so a developer's
// SENTRY_DSN or OTEL_* never leaks into a test.
func cleanEnv(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "SENTRY_"), strings.HasPrefix(name, "OTEL_"),
			strings.HasPrefix(name, "COLLECTOR_"), strings.HasPrefix(name, "JAEGER_"),
			name == "PORT", name == "ENVIRONMENT":
			continue
		}
		env = append(env, kv)
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// proc is a process started by a test; it is stopped when the test ends,
// whatever happens, and its output is shown when the test fails.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // Wait's result, valid after done
}

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

func start(t testing.TB, name, bin string, args []string, env map[string]string) *proc {
	t.Helper()
	p := &proc{name: name, out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = cleanEnv(env)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t, 10*time.Second)
		if t.Failed() {
			t.Logf("---- %s output ----\n%s", name, tail(p.out.String(), 6000))
		}
	})
	return p
}

// stop sends SIGTERM, waits up to grace, then kills the process group.
func (p *proc) stop(t testing.TB, grace time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		t.Errorf("%s did not stop within %s of SIGTERM; killing it", p.name, grace)
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	return p.err
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// waitHTTP polls url until it answers 200, the process dies or timeout.
func waitHTTP(t testing.TB, p *proc, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			t.Fatalf("%s exited before it was ready: %v\n%s", p.name, p.err, tail(p.out.String(), 6000))
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready at %s within %s\n%s", p.name, url, timeout, tail(p.out.String(), 6000))
}

// collector is one running Collector with its listeners.
type collector struct {
	*proc
	grpc, http, health, metrics int
}

// startCollector runs otelsentry's distribution on the committed configs
// (paths relative to collector/), every listener on a fresh 127.0.0.1 port.
func startCollector(t testing.TB, name string, configs []string, env map[string]string) *collector {
	t.Helper()
	_, bin := binaries(t)
	c := &collector{grpc: freePort(t), http: freePort(t), health: freePort(t), metrics: freePort(t)}
	full := map[string]string{
		"COLLECTOR_OTLP_GRPC_ENDPOINT": fmt.Sprintf("127.0.0.1:%d", c.grpc),
		"COLLECTOR_OTLP_HTTP_ENDPOINT": fmt.Sprintf("127.0.0.1:%d", c.http),
		"COLLECTOR_HEALTH_ENDPOINT":    fmt.Sprintf("127.0.0.1:%d", c.health),
		"COLLECTOR_METRICS_HOST":       "127.0.0.1",
		"COLLECTOR_METRICS_PORT":       fmt.Sprint(c.metrics),
		// Never selected in these tests, but must resolve to something local.
		"JAEGER_OTLP_GRPC_ENDPOINT": "127.0.0.1:1",
	}
	for k, v := range env {
		full[k] = v
	}
	var args []string
	for _, cfg := range configs {
		args = append(args, "--config", filepath.Join(repoRoot(t), "collector", cfg))
	}
	c.proc = start(t, name, bin, args, full)
	waitHTTP(t, c.proc, fmt.Sprintf("http://127.0.0.1:%d/", c.health), 30*time.Second)
	return c
}

// sentryDSN makes a DSN whose derived OTLP endpoint is the sink, so the
// Collector's otlp_http/sentry exporter (gzip, proto, x-sentry-auth) is
// exercised exactly as against Sentry.
func sentryDSN(sink *fakebackend.OTLP) string {
	return "http://" + sentryKey + "@" + strings.TrimPrefix(sink.URL, "http://") + "/" + sentryProject
}

const (
	sentryKey     = "e2epublickey0123456789abcdef0000"
	sentryProject = "42"
	sentryPath    = "/api/42/integration/otlp/v1/traces"
)

// checkSentryWire asserts every request the sink got is what Sentry expects.
func checkSentryWire(t testing.TB, sink *fakebackend.OTLP) {
	t.Helper()
	reqs := sink.Requests()
	if len(reqs) == 0 {
		t.Fatal("the sink received no request")
	}
	for _, r := range reqs {
		if r.Path != sentryPath {
			t.Errorf("request path %q, want Sentry's %q", r.Path, sentryPath)
		}
		if got, want := r.Header.Get("X-Sentry-Auth"), "sentry sentry_key="+sentryKey; got != want {
			t.Errorf("x-sentry-auth %q, want %q", got, want)
		}
		if got := r.Header.Get("Content-Encoding"); got != "gzip" {
			t.Errorf("Content-Encoding %q, want gzip", got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/x-protobuf" {
			t.Errorf("Content-Type %q, want application/x-protobuf", got)
		}
	}
}

// postOTLP sends one OTLP/HTTP protobuf request to a Collector.
func postOTLP(t testing.TB, port int, req *collectortrace.ExportTraceServiceRequest) {
	t.Helper()
	body, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/traces", port), "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("posting OTLP: %v", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting OTLP: %s: %s", resp.Status, msg)
	}
}

func randomID(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// spanKey identifies a span across processes.
type spanKey struct{ trace, span string }

func keyOf(s *tracepb.Span) spanKey {
	return spanKey{fmt.Sprintf("%x", s.TraceId), fmt.Sprintf("%x", s.SpanId)}
}

// eventually polls cond every 100 ms until it is true or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settle waits until n() stops changing for quiet, or timeout passes.
func settle(timeout, quiet time.Duration, n func() int) int {
	deadline := time.Now().Add(timeout)
	last, since := n(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if cur := n(); cur != last {
			last, since = cur, time.Now()
		} else if time.Since(since) >= quiet {
			return cur
		}
	}
	return last
}
