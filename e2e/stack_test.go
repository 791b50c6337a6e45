//go:build e2e

package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStackScript drives scripts/stack as a newcomer would — up (twice:
// it must be idempotent), status, the load generator, down — without
// Jaeger (STACK_JAEGER=0; its build is too slow for every CI run, see
// scripts/e2e-jaeger), on free ports and a scratch directory, and checks
// that down leaves no process and no open port behind.
func TestStackScript(t *testing.T) {
	binaries(t) // the Collector is built (or found in the cache) once
	dir := t.TempDir()
	ports := map[string]int{}
	for _, k := range []string{"APP_PORT", "COLLECTOR_OTLP_GRPC_PORT", "COLLECTOR_OTLP_HTTP_PORT", "COLLECTOR_HEALTH_PORT", "COLLECTOR_METRICS_PORT"} {
		ports[k] = freePort(t)
	}
	env := map[string]string{
		"STACK_DIR":                          dir,
		"STACK_JAEGER":                       "0",
		"OTEL_TRACES_EXPORTER":               "otlp",
		"COLLECTOR_TAIL_SAMPLING_PERCENTAGE": "100",
		"COLLECTOR_TAIL_DECISION_WAIT":       "1s",
		"COLLECTOR_DEBUG_VERBOSITY":          "basic",
		"OTELCOL_BIN":                        collectorBin,
		"APP_BIN":                            appBin,
	}
	for k, p := range ports {
		env[k] = strconv.Itoa(p)
	}
	script := filepath.Join(repoRoot(t), "scripts", "stack")
	run := func(args ...string) (string, error) {
		cmd := exec.Command("bash", append([]string{script}, args...)...)
		cmd.Dir = repoRoot(t)
		cmd.Env = cleanEnv(env)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() {
		// Whatever happened, nothing may outlive the test.
		if out, err := run("down"); err != nil {
			t.Errorf("cleanup: scripts/stack down: %v\n%s", err, out)
		}
	})

	out, err := run("up")
	if err != nil {
		t.Fatalf("scripts/stack up: %v\n%s", err, out)
	}
	if !strings.Contains(out, "stack: ready.") {
		t.Fatalf("up did not say ready:\n%s", out)
	}
	pids := map[string]int{}
	for _, name := range []string{"collector", "app"} {
		b, err := os.ReadFile(filepath.Join(dir, name+".pid"))
		if err != nil {
			t.Fatalf("no PID file for %s: %v", name, err)
		}
		pids[name], _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if out, err := run("up"); err != nil || !strings.Contains(out, "already running") {
		t.Errorf("a second up is not idempotent: %v\n%s", err, out)
	}
	status, err := run("status")
	if err != nil {
		t.Errorf("status with everything up exits non-zero: %v\n%s", err, status)
	}
	for name, pid := range pids {
		if !strings.Contains(status, fmt.Sprintf("%-10s %-8d healthy", name, pid)) {
			t.Errorf("status does not show %s (pid %d) healthy:\n%s", name, pid, status)
		}
	}

	// Every listener is on 127.0.0.1 only: nothing answers on another
	// address of this machine.
	if ip := otherAddress(); ip != "" {
		for k, p := range ports {
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(p)), 300*time.Millisecond); err == nil {
				c.Close()
				t.Errorf("%s=%d answers on %s: the stack must bind 127.0.0.1 only", k, p, ip)
			}
		}
	}

	// The README's load generator, then the spans show in the Collector's
	// debug exporter.
	appBin := filepath.Join(dir, "bin", "app")
	lg := exec.Command(appBin, "loadgen", "-url", fmt.Sprintf("http://127.0.0.1:%d", ports["APP_PORT"]), "-duration", "2s", "-rps", "20")
	lg.Env = cleanEnv(nil)
	if out, err := lg.CombinedOutput(); err != nil {
		t.Errorf("loadgen: %v\n%s", err, out)
	}
	if !eventually(15*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "collector.log"))
		return strings.Contains(string(b), `"spans": `)
	}) {
		b, _ := os.ReadFile(filepath.Join(dir, "collector.log"))
		t.Errorf("the Collector's debug exporter never printed spans:\n%s", tail(string(b), 3000))
	}

	out, err = run("down")
	if err != nil {
		t.Fatalf("scripts/stack down: %v\n%s", err, out)
	}
	if !strings.Contains(out, "nothing left running") {
		t.Errorf("down did not confirm:\n%s", out)
	}
	for name, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("%s (pid %d) still alive after down", name, pid)
		}
	}
	for k, p := range ports {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), 300*time.Millisecond); err == nil {
			c.Close()
			t.Errorf("%s=%d still open after down", k, p)
		}
	}
	if st, err := run("status"); err == nil {
		t.Errorf("status exits 0 with the stack down:\n%s", st)
	}
	t.Logf("RESULT scripts/stack: up (idempotent), status, loadgen, down — %d processes stopped, %d ports closed", len(pids), len(ports))
}

// otherAddress is a non-loopback IPv4 address of this machine, if any.
func otherAddress() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}
