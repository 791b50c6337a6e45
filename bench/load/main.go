// Command load is the service-level A/B benchmark: the reference service
// (cmd/app) with telemetry off (A, OTEL_SDK_DISABLED=true) against the same
// binary with the full pipeline as deployed (B: ENVIRONMENT=production, so
// 10 % head sampling plus tail keep, exporting to a real OTLP/HTTP receiver
// on 127.0.0.1 that this program runs and that counts what it receives).
//
// It builds the service once, then alternates A and B runs in one session
// (pairs in the order AB, BA, AB, … so slow drift of a shared machine falls
// on both sides). By default B has a Sentry DSN pointing at the receiver, as
// deployed: spans go over OTLP/HTTP with gzip to Sentry's OTLP path, errors
// and Crons check-ins as envelopes; -exporter otlp sends plain OTLP instead.
// Each run starts a fresh service on a free 127.0.0.1 port, waits for
// /readyz, warms up, and drives it with the binary's own `app loadgen` twice:
//
//   - fixed rate (-rate, default 200 rps): the latency comparison (p50, p99);
//   - saturation (-sat-rps far above capacity, bounded by -sat-concurrency):
//     the throughput comparison.
//
// Around each phase it reads the service's CPU time (utime+stime from
// /proc/PID/stat) and, at the end, its peak RSS (VmHWM). At the end of a B
// run it scrapes /metrics (drop counters by reason), then stops the service
// with SIGTERM and reads the pipeline's shutdown summary line, which gives
// the accounting identity
//
//	spans_started = exported + dropped_queue_full + dropped_export_failed
//	              + lost_at_shutdown + tail_dropped (every reason)
//
// so uncounted drops = started − the right-hand side, and exported spans are
// compared with the spans the receiver actually got.
//
// The request mix is loadgen's, with one change: -fault-share 0. The service
// honours X-Fault only outside production, and with OTEL_SDK_DISABLED=true
// the pipeline reports no environment, so A would inject faults that B
// ignores; without faults both sides serve the same work.
//
// With -b sdk, B is instead bench/cmd/sdkapp: the same service traced by
// the bare OpenTelemetry SDK (parentbased_traceidratio 0.1, the SDK's batch
// span processor, OTLP/HTTP+gzip to the receiver), the reference for what
// users would pick instead. The SDK reports no span accounting, so such a
// session gives ratios and the spans received only.
//
// Usage, from the bench module:
//
//	go run ./load -out out/load.json         # ~3.5 minutes
//	go run ./load -quick                     # ~30 s smoke run (1 pair, short phases)
//	go run ./load -b sdk                     # B = the bare OpenTelemetry SDK
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/otelsentry/otelsentry/bench/internal/loadresult"
)

type options struct {
	out         string
	quick       bool
	pairs       int
	rate        float64
	fixed       time.Duration
	fixedConc   int
	satRPS      float64
	sat         time.Duration
	satConc     int
	warmup      time.Duration
	exporter    string
	repo        string
	app         string
	seed        uint64
	keep        bool
	verbose     bool
	profileDir  string
	bEnv        envList
	bService    string
	settleDelay time.Duration
}

// envList is a repeatable KEY=VALUE flag.
type envList []string

func (l *envList) String() string { return strings.Join(*l, " ") }
func (l *envList) Set(v string) error {
	k, _, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want KEY=VALUE", v)
	}
	*l = append(*l, v)
	return nil
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "", "write the results as JSON to this file")
	flag.BoolVar(&o.quick, "quick", false, "CI smoke run: 1 pair, short phases (≤ 40 s with a warm build cache)")
	flag.IntVar(&o.pairs, "pairs", 3, "A/B pairs (order AB, BA, AB, …)")
	flag.Float64Var(&o.rate, "rate", 200, "fixed-rate phase: requests per second")
	flag.DurationVar(&o.fixed, "fixed", 12*time.Second, "fixed-rate phase: duration")
	flag.IntVar(&o.fixedConc, "fixed-concurrency", 64, "fixed-rate phase: loadgen -concurrency")
	flag.Float64Var(&o.satRPS, "sat-rps", 50000, "saturation phase: offered rate (far above capacity; loadgen sheds the excess)")
	flag.DurationVar(&o.sat, "sat", 10*time.Second, "saturation phase: duration")
	flag.IntVar(&o.satConc, "sat-concurrency", 1024, "saturation phase: requests in flight (high enough that CPU, not the simulated latency, is the bound)")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "warm-up at the fixed rate before measuring")
	flag.StringVar(&o.exporter, "exporter", "sentry", `B's backend, always the local receiver: "sentry" (as deployed: a DSN, so spans go over OTLP/HTTP+gzip to Sentry's OTLP path, and the error bridge and Crons send envelopes) or "otlp" (OTLP/HTTP+gzip only; no error bridge, no Crons)`)
	flag.StringVar(&o.repo, "repo", "", "repository root (default: found from the working directory)")
	flag.StringVar(&o.app, "app", "", "use this service binary instead of building ./cmd/app")
	flag.Uint64Var(&o.seed, "seed", 1, "loadgen seed of the first pair (pair i uses seed+i on both sides)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (binary, service logs)")
	flag.BoolVar(&o.verbose, "v", false, "print each run's figures as it ends")
	flag.StringVar(&o.bService, "b", "pipeline", `what B runs: "pipeline" (cmd/app with otelsentry's pipeline, as deployed) or "sdk" (bench/cmd/sdkapp: the same service traced by the bare OpenTelemetry SDK — parentbased_traceidratio 0.1, the SDK's batch span processor, OTLP/HTTP+gzip to the receiver; no tail keep, no redaction, no error events, no drop accounting)`)
	flag.Var(&o.bEnv, "b-env", "KEY=VALUE added to B's environment, after the pipeline's own (repeatable; for example OTELSENTRY_TAIL_KEEP=false to measure B without tail keep)")
	flag.StringVar(&o.profileDir, "cpuprofile-dir", "", "write each service's CPU profile (app -cpuprofile) to this directory as runN-A.pprof, runN-B.pprof")
	flag.Parse()
	o.settleDelay = time.Second
	if o.quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("pairs", func() { o.pairs = 1 })
		def("warmup", func() { o.warmup = time.Second })
		def("fixed", func() { o.fixed = 4 * time.Second })
		def("sat", func() { o.sat = 3 * time.Second })
		o.settleDelay = 200 * time.Millisecond
	}
	if o.bService != "pipeline" && o.bService != "sdk" {
		fmt.Fprintf(os.Stderr, "load: -b %q: want pipeline or sdk\n", o.bService)
		os.Exit(2)
	}
	if o.exporter != "otlp" && o.exporter != "sentry" {
		fmt.Fprintf(os.Stderr, "load: -exporter %q: want otlp or sentry\n", o.exporter)
		os.Exit(2)
	}
	if o.profileDir != "" {
		dir, err := filepath.Abs(o.profileDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "load: -cpuprofile-dir %s: %v\n", o.profileDir, err)
			os.Exit(2)
		}
		o.profileDir = dir
	}
	if o.pairs < 1 {
		fmt.Fprintln(os.Stderr, "load: -pairs must be at least 1")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, o)
	if res != nil {
		writeText(res, os.Stdout)
		if o.out != "" {
			if werr := writeJSON(o.out, res); werr != nil {
				fmt.Fprintln(os.Stderr, "load:", werr)
				os.Exit(1)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func writeJSON(path string, v any) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// findRepo walks up from the working directory to the library's go.mod.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && regexp.MustCompile(`(?m)^module github\.com/otelsentry/otelsentry\s*$`).Match(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root not found (run from the repository or pass -repo)")
		}
		dir = parent
	}
}

// The JSON written to -out; cmd/benchtable reads the same types.
type (
	Results    = loadresult.Results
	Config     = loadresult.Config
	Phase      = loadresult.Phase
	Run        = loadresult.Run
	Received   = loadresult.Received
	Accounting = loadresult.Accounting
	Pair       = loadresult.Pair
	AB         = loadresult.AB
	Summary    = loadresult.Summary
)

func run(ctx context.Context, o options) (*Results, error) {
	t0 := time.Now()
	res := &Results{Version: 1, Started: t0.UTC()}
	repo := o.repo
	if repo == "" && (o.app == "" || o.bService == "sdk") {
		var err error
		if repo, err = findRepo(); err != nil {
			return nil, err
		}
	}
	work, err := os.MkdirTemp("", "otelsentry-load-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "load: work directory", work)
	} else {
		defer os.RemoveAll(work)
	}

	app := o.app
	var buildS float64
	if app == "" {
		app = filepath.Join(work, "app")
		fmt.Fprintln(os.Stderr, "load: building ./cmd/app")
		b0 := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", app, "./cmd/app")
		cmd.Dir, cmd.Stdout, cmd.Stderr = repo, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building the service: %w", err)
		}
		buildS = time.Since(b0).Seconds()
	}
	// bApp is B's service; the loadgen is always app's.
	bApp := app
	if o.bService == "sdk" {
		bApp = filepath.Join(work, "sdkapp")
		fmt.Fprintln(os.Stderr, "load: building bench/cmd/sdkapp")
		b0 := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bApp, "./cmd/sdkapp")
		cmd.Dir, cmd.Stdout, cmd.Stderr = filepath.Join(repo, "bench"), os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building bench/cmd/sdkapp: %w", err)
		}
		buildS += time.Since(b0).Seconds()
	}

	recv, err := startReceiver()
	if err != nil {
		return nil, err
	}
	defer recv.close()

	var order []string
	for i := range o.pairs {
		if i%2 == 0 {
			order = append(order, "A", "B")
		} else {
			order = append(order, "B", "A")
		}
	}
	res.Config = Config{
		Pairs: o.pairs, Order: strings.Join(order, ""), Quick: o.quick,
		FixedRPS: o.rate, FixedDurationS: o.fixed.Seconds(), FixedConcurrency: o.fixedConc,
		SatRPS: o.satRPS, SatDurationS: o.sat.Seconds(), SatConcurrency: o.satConc,
		WarmupS: o.warmup.Seconds(), Exporter: o.exporter, Environment: "production",
		NumCPU: runtime.NumCPU(), BuildS: round(buildS, 1),
		Note: "service, loadgen and receiver share the machine's cores; A = OTEL_SDK_DISABLED=true, B = " + describe("B", o),
		BEnv: o.bEnv, BService: o.bService,
	}

	seq := 0
	for i := range o.pairs {
		for _, v := range order[2*i : 2*i+2] {
			if ctx.Err() != nil {
				break
			}
			seq++
			fmt.Fprintf(os.Stderr, "load: run %d/%d: pair %d, %s (%s)\n", seq, len(order), i+1, v, describe(v, o))
			r := runOne(ctx, o, app, bApp, work, recv, v, i, seq, o.seed+uint64(i))
			if r.Err != "" {
				res.Errors = append(res.Errors, fmt.Sprintf("run %d (%s): %s", seq, v, r.Err))
				fmt.Fprintf(os.Stderr, "load: run %d failed: %s\n", seq, r.Err)
			}
			if o.verbose {
				fmt.Fprintf(os.Stderr, "load:   fixed %.1f rps p50 %.1fms p99 %.1fms cpu %.3fs/1k | sat %.1f rps p99 %.1fms cores %.2f | rss %d MB\n",
					r.Fixed.AchievedRPS, r.Fixed.P50MS, r.Fixed.P99MS, r.Fixed.CPUPer1k,
					r.Saturation.AchievedRPS, r.Saturation.P99MS, r.Saturation.ServiceCPUs, r.PeakRSSKB/1024)
			}
			res.Runs = append(res.Runs, r)
		}
	}
	summarize(res)
	res.WallS = round(time.Since(t0).Seconds(), 1)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if len(res.Errors) > 0 {
		return res, fmt.Errorf("%d run(s) failed", len(res.Errors))
	}
	return res, nil
}

func describe(v string, o options) string {
	if v == "A" {
		return "OTEL_SDK_DISABLED=true"
	}
	d := "full pipeline, production, exporter " + o.exporter
	if o.bService == "sdk" {
		d = "bare OpenTelemetry SDK: parentbased_traceidratio 0.1, batch span processor, OTLP/HTTP+gzip"
	}
	if len(o.bEnv) > 0 {
		d += ", with " + o.bEnv.String()
	}
	return d
}

// serviceEnv is the environment of one service: the caller's, minus
// everything that configures telemetry, plus the variant's own.
func serviceEnv(variant, bService, exporter, endpoint, work string, bEnv []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "SENTRY_") || strings.HasPrefix(k, "OTELSENTRY_") ||
			k == "ENVIRONMENT" || k == "PORT" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "OTEL_SERVICE_NAME=app", "ENVIRONMENT=production",
		"OTELSENTRY_SPOOL_DIR="+filepath.Join(work, "spool"))
	if variant == "A" {
		return append(env, "OTEL_SDK_DISABLED=true")
	}
	if bService == "sdk" {
		env = append(env, "OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.1",
			"OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
			"OTEL_EXPORTER_OTLP_COMPRESSION=gzip")
		return append(env, bEnv...)
	}
	if exporter == "sentry" {
		env = append(env, "OTEL_TRACES_EXPORTER=sentry",
			"SENTRY_DSN=http://public@"+strings.TrimPrefix(endpoint, "http://")+"/42")
	} else {
		env = append(env, "OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint,
			"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_COMPRESSION=gzip")
	}
	return append(env, bEnv...)
}

var (
	listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)
	kvRE        = regexp.MustCompile(`(\w+)=(-?\d+(?:\.\d+)?)(?:\s|$)`)
)

// service is one running service process.
type service struct {
	cmd      *exec.Cmd
	addr     chan string
	done     chan struct{}
	mu       sync.Mutex
	summary  string   // the shutdown summary line
	tail     []string // the last log lines, for error messages
	exitCode int
}

func startService(app, logPath, profile string, env []string) (*service, error) {
	args := []string{"-addr", "127.0.0.1:0", "-shutdown-timeout", "20s"}
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	cmd := exec.Command(app, args...)
	cmd.Env = env
	dieWithParent(cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &service{cmd: cmd, addr: make(chan string, 1), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer logf.Close()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			s.mu.Lock()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case s.addr <- m[1]:
				default:
				}
			}
			if strings.Contains(line, `msg="telemetry shutdown summary"`) {
				s.summary = line
			}
			s.tail = append(s.tail, line)
			if len(s.tail) > 20 {
				s.tail = s.tail[1:]
			}
			s.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait() // the exit status is read from ProcessState
		s.exitCode = cmd.ProcessState.ExitCode()
	}()
	return s, nil
}

func (s *service) lastLines() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

// stop sends SIGTERM and waits for a clean exit (the pipeline flushes and
// logs its summary), killing the process if it takes too long.
func (s *service) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *service) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

func runOne(ctx context.Context, o options, app, bApp, work string, recv *receiver, variant string, pair, seq int, seed uint64) (r Run) {
	r = Run{Variant: variant, Pair: pair + 1, Seq: seq, Seed: seed}
	recv.reset()
	logPath := filepath.Join(work, fmt.Sprintf("run%d-%s.log", seq, variant))
	profile := ""
	if o.profileDir != "" {
		profile = filepath.Join(o.profileDir, fmt.Sprintf("run%d-%s.pprof", seq, variant))
	}
	bin := app
	if variant == "B" {
		bin = bApp
	}
	svc, err := startService(bin, logPath, profile, serviceEnv(variant, o.bService, o.exporter, recv.endpoint(), work, o.bEnv))
	if err != nil {
		r.Err = err.Error()
		return r
	}
	stopped := false
	defer func() {
		if !stopped {
			svc.kill()
		}
	}()
	fail := func(format string, args ...any) Run {
		r.Err = fmt.Sprintf(format, args...) + "\n--- service log (last lines) ---\n" + svc.lastLines()
		return r
	}

	var addr string
	select {
	case addr = <-svc.addr:
	case <-svc.done:
		return fail("service exited before listening (exit %d)", svc.exitCode)
	case <-time.After(20 * time.Second):
		return fail("service did not listen within 20s")
	case <-ctx.Done():
		return fail("interrupted")
	}
	base := "http://" + addr
	if err := waitReady(ctx, base+"/readyz", 20*time.Second); err != nil {
		return fail("%v", err)
	}
	pid := svc.cmd.Process.Pid

	if o.warmup > 0 {
		if _, err := loadgen(ctx, app, base, o.rate, o.warmup, o.fixedConc, seed+1000, pid); err != nil {
			return fail("warm-up: %v", err)
		}
	}
	if r.Fixed, err = loadgen(ctx, app, base, o.rate, o.fixed, o.fixedConc, seed, pid); err != nil {
		return fail("fixed-rate phase: %v", err)
	}
	time.Sleep(o.settleDelay)
	if r.Saturation, err = loadgen(ctx, app, base, o.satRPS, o.sat, o.satConc, seed+2000, pid); err != nil {
		return fail("saturation phase: %v", err)
	}
	if rss, err := peakRSSKB(pid); err == nil {
		r.PeakRSSKB = rss
	}
	pipeline := variant == "B" && o.bService != "sdk"
	if pipeline {
		time.Sleep(o.settleDelay) // let open spans end and the batcher catch up before the scrape
		m, err := scrapeMetrics(ctx, base+"/metrics")
		if err != nil {
			return fail("scraping /metrics: %v", err)
		}
		r.Metrics = m
	}
	svc.stop()
	stopped = true
	r.ExitCode = svc.exitCode
	if svc.exitCode != 0 {
		r.Err = fmt.Sprintf("service exited with status %d\n--- service log (last lines) ---\n%s", svc.exitCode, svc.lastLines())
	}
	if variant == "B" {
		r.Received = &Received{Spans: recv.spans.Load(), Requests: recv.requests.Load(), Bytes: recv.bytes.Load(),
			Bad: recv.bad.Load(), Envelopes: recv.envelopes.Load()}
	}
	if variant == "B" && !pipeline && r.Err == "" {
		// The bare SDK counts nothing: at least its spans must have
		// arrived, or B measured a service that exported nothing.
		if rc := r.Received; rc.Spans == 0 || rc.Bad > 0 {
			r.Err = fmt.Sprintf("the receiver got %d spans and %d bad export requests from B\n--- service log (last lines) ---\n%s",
				rc.Spans, rc.Bad, svc.lastLines())
		}
	}
	if pipeline {
		svc.mu.Lock()
		line := svc.summary
		svc.mu.Unlock()
		if line == "" {
			if r.Err == "" {
				r.Err = "no telemetry shutdown summary in the service log\n--- service log (last lines) ---\n" + svc.lastLines()
			}
			return r
		}
		r.Shutdown = map[string]float64{}
		for _, m := range kvRE.FindAllStringSubmatch(line, -1) {
			v, _ := strconv.ParseFloat(m[2], 64)
			r.Shutdown[m[1]] = v
		}
		r.Accounting = account(r.Shutdown, r.Metrics, r.Received)
	}
	return r
}

func account(sum, metrics map[string]float64, recv *Received) *Accounting {
	g := func(k string) int64 { return int64(sum[k]) }
	a := &Accounting{
		Started: g("spans_started"), Exported: g("spans_exported"), QueueFull: g("dropped_queue_full"),
		ExportFailed: g("dropped_export_failed"), LostAtShutdown: g("lost_at_shutdown"), TailDropped: g("tail_dropped"),
	}
	for k, v := range metrics {
		if strings.HasPrefix(k, "otelsentry_spans_dropped") && strings.Contains(k, `reason="tail_`) && !strings.Contains(k, `reason="tail_sampled_out"`) {
			a.TailOther += int64(v)
		}
	}
	a.Uncounted = a.Started - a.Exported - a.QueueFull - a.ExportFailed - a.LostAtShutdown - a.TailDropped
	if recv != nil {
		a.ExportMismatch = a.Exported - recv.Spans
	}
	a.Dropped = a.QueueFull + a.ExportFailed + a.LostAtShutdown + a.TailOther
	return a
}

func waitReady(ctx context.Context, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %v (last: %v)", url, within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lgSummary is the part of `app loadgen -json` read here.
type lgSummary struct {
	TargetRPS   float64        `json:"target_rps"`
	DurationS   float64        `json:"duration_s"`
	Requests    int            `json:"requests"`
	Completed   int            `json:"completed"`
	Shed        int            `json:"shed"`
	AchievedRPS float64        `json:"achieved_rps"`
	ErrorCount  int            `json:"error_count"`
	Errors      map[string]int `json:"errors"`
	Unexpected  int            `json:"unexpected_errors"`
	Status      map[string]int `json:"status"`
	LatencyMS   struct {
		P50, P95, P99, Max float64
	} `json:"latency_ms"`
}

// loadgen runs `app loadgen` once and measures the service's CPU time
// around it.
func loadgen(ctx context.Context, app, base string, rps float64, d time.Duration, conc int, seed uint64, pid int) (Phase, error) {
	args := []string{"loadgen", "-url", base, "-rps", strconv.FormatFloat(rps, 'f', -1, 64),
		"-duration", d.String(), "-concurrency", strconv.Itoa(conc), "-fault-share", "0",
		"-seed", strconv.FormatUint(seed, 10), "-json"}
	cmd := exec.CommandContext(ctx, app, args...)
	dieWithParent(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return Phase{}, err
	}
	own0, err := cpuSeconds(os.Getpid())
	if err != nil {
		return Phase{}, err
	}
	runErr := cmd.Run()
	cpu1, err := cpuSeconds(pid)
	if err != nil {
		return Phase{}, err
	}
	own1, err := cpuSeconds(os.Getpid())
	if err != nil {
		return Phase{}, err
	}
	var s lgSummary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		return Phase{}, fmt.Errorf("loadgen: %v (%v); stderr: %s", err, runErr, lastLines(stderr.String(), 5))
	}
	if runErr != nil {
		return Phase{}, fmt.Errorf("loadgen: %v; stderr: %s", runErr, lastLines(stderr.String(), 5))
	}
	p := Phase{
		TargetRPS: rps, Concurrency: conc, DurationS: s.DurationS, Requests: s.Requests, Completed: s.Completed,
		Shed: s.Shed, AchievedRPS: s.AchievedRPS, P50MS: s.LatencyMS.P50, P95MS: s.LatencyMS.P95,
		P99MS: s.LatencyMS.P99, MaxMS: s.LatencyMS.Max, ErrorCount: s.ErrorCount, Errors: s.Errors,
		Unexpected: s.Unexpected, Status: s.Status, ServiceCPUS: round(cpu1-cpu0, 2),
		HarnessCPUS: round(own1-own0, 2),
	}
	if s.Completed > 0 {
		p.CPUPer1k = round((cpu1-cpu0)/float64(s.Completed)*1000, 4)
		p.HarnessPer1k = round((own1-own0)/float64(s.Completed)*1000, 4)
	}
	if s.DurationS > 0 {
		p.ServiceCPUs = round((cpu1-cpu0)/s.DurationS, 2)
	}
	if st := cmd.ProcessState; st != nil {
		lg := (st.UserTime() + st.SystemTime()).Seconds()
		p.LoadgenCPUS = round(lg, 2)
		if s.Completed > 0 {
			p.LoadgenPer1k = round(lg/float64(s.Completed)*1000, 4)
		}
	}
	return p, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// scrapeMetrics reads the otelsentry_* samples of a Prometheus text page,
// keyed by "name{labels}".
func scrapeMetrics(ctx context.Context, url string) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return parseProm(resp.Body)
}

func parseProm(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || !strings.HasPrefix(line, "otelsentry_") {
			continue
		}
		// name{labels} value [timestamp]; label values may hold spaces.
		i := strings.LastIndexByte(line, '}')
		if i < 0 {
			i = strings.IndexByte(line, ' ') - 1
			if i < 0 {
				continue
			}
		}
		key := line[:i+1]
		f := strings.Fields(line[i+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		out[stripOtelLabels(key)] = v
	}
	return out, sc.Err()
}

// stripOtelLabels drops the otel_scope_* and resource-ish labels the
// Prometheus exporter may add, keeping the keys short and stable.
func stripOtelLabels(key string) string {
	name, labels, ok := strings.Cut(key, "{")
	if !ok {
		return key
	}
	labels = strings.TrimSuffix(labels, "}")
	var keep []string
	for _, l := range splitLabels(labels) {
		if strings.HasPrefix(l, "otel_scope_") || strings.HasPrefix(l, "job=") || strings.HasPrefix(l, "instance=") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) == 0 {
		return name
	}
	sort.Strings(keep)
	return name + "{" + strings.Join(keep, ",") + "}"
}

func splitLabels(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func summarize(res *Results) {
	byPair := map[int]map[string]*Run{}
	for i := range res.Runs {
		r := &res.Runs[i]
		if r.Err != "" && r.Fixed.Completed == 0 {
			continue
		}
		if byPair[r.Pair] == nil {
			byPair[r.Pair] = map[string]*Run{}
		}
		byPair[r.Pair][r.Variant] = r
	}
	var pairs []int
	for p := range byPair {
		pairs = append(pairs, p)
	}
	sort.Ints(pairs)
	s := &res.Summary
	s.DropsByReason = map[string]float64{}
	var as, bs []*Run
	for _, p := range pairs {
		a, b := byPair[p]["A"], byPair[p]["B"]
		if a == nil || b == nil || a.Err != "" || b.Err != "" {
			continue
		}
		order := "AB"
		if b.Seq < a.Seq {
			order = "BA"
		}
		res.Pairs = append(res.Pairs, Pair{
			Pair: p, Order: order,
			ThroughputRatio:  ratio(b.Saturation.AchievedRPS, a.Saturation.AchievedRPS),
			FixedRPSRatio:    ratio(b.Fixed.AchievedRPS, a.Fixed.AchievedRPS),
			P50Ratio:         ratio(b.Fixed.P50MS, a.Fixed.P50MS),
			P99Ratio:         ratio(b.Fixed.P99MS, a.Fixed.P99MS),
			SatP50Ratio:      ratio(b.Saturation.P50MS, a.Saturation.P50MS),
			SatP99Ratio:      ratio(b.Saturation.P99MS, a.Saturation.P99MS),
			CPUPer1kRatio:    ratio(b.Fixed.CPUPer1k, a.Fixed.CPUPer1k),
			SatCPUPer1kRatio: ratio(b.Saturation.CPUPer1k, a.Saturation.CPUPer1k),
		})
		as, bs = append(as, a), append(bs, b)
	}
	defer func() {
		for i := range res.Pairs {
			p := &res.Pairs[i]
			for _, f := range []*float64{&p.ThroughputRatio, &p.FixedRPSRatio, &p.P50Ratio, &p.P99Ratio,
				&p.SatP50Ratio, &p.SatP99Ratio, &p.CPUPer1kRatio, &p.SatCPUPer1kRatio} {
				*f = finite(*f)
			}
		}
	}()
	s.Pairs = len(res.Pairs)
	s.Complete = s.Pairs == res.Config.Pairs && len(res.Errors) == 0
	pm := func(f func(Pair) float64) float64 {
		var v []float64
		for _, p := range res.Pairs {
			v = append(v, f(p))
		}
		return round(median(v), 3)
	}
	s.ThroughputRatio = pm(func(p Pair) float64 { return p.ThroughputRatio })
	s.FixedRPSRatio = pm(func(p Pair) float64 { return p.FixedRPSRatio })
	s.P50Ratio = pm(func(p Pair) float64 { return p.P50Ratio })
	s.P99Ratio = pm(func(p Pair) float64 { return p.P99Ratio })
	s.SatP50Ratio = pm(func(p Pair) float64 { return p.SatP50Ratio })
	s.SatP99Ratio = pm(func(p Pair) float64 { return p.SatP99Ratio })
	s.CPUPer1kRatio = pm(func(p Pair) float64 { return p.CPUPer1kRatio })
	s.SatCPUPer1kRatio = pm(func(p Pair) float64 { return p.SatCPUPer1kRatio })
	ab := func(digits int, f func(*Run) float64) AB {
		var a, b []float64
		for _, r := range as {
			a = append(a, f(r))
		}
		for _, r := range bs {
			b = append(b, f(r))
		}
		return AB{A: round(median(a), digits), B: round(median(b), digits)}
	}
	s.SatRPS = ab(1, func(r *Run) float64 { return r.Saturation.AchievedRPS })
	s.FixedRPS = ab(1, func(r *Run) float64 { return r.Fixed.AchievedRPS })
	s.P50MS = ab(1, func(r *Run) float64 { return r.Fixed.P50MS })
	s.P99MS = ab(1, func(r *Run) float64 { return r.Fixed.P99MS })
	s.SatP50MS = ab(1, func(r *Run) float64 { return r.Saturation.P50MS })
	s.SatP99MS = ab(1, func(r *Run) float64 { return r.Saturation.P99MS })
	s.CPUPer1k = ab(4, func(r *Run) float64 { return r.Fixed.CPUPer1k })
	s.SatCPUPer1k = ab(4, func(r *Run) float64 { return r.Saturation.CPUPer1k })
	s.SatCoresBusy = ab(2, func(r *Run) float64 { return r.Saturation.ServiceCPUs })
	s.LoadgenCPUSat = ab(2, func(r *Run) float64 { return r.Saturation.LoadgenCPUS })
	s.LoadgenPer1k = ab(4, func(r *Run) float64 { return r.Saturation.LoadgenPer1k })
	s.HarnessPer1k = ab(4, func(r *Run) float64 { return r.Saturation.HarnessPer1k })
	s.PeakRSSMB = ab(1, func(r *Run) float64 { return float64(r.PeakRSSKB) / 1024 })
	s.ErrorRate = ab(4, func(r *Run) float64 {
		n := r.Fixed.Completed + r.Saturation.Completed
		if n == 0 {
			return 0
		}
		return float64(r.Fixed.ErrorCount+r.Saturation.ErrorCount) / float64(n)
	})
	s.Unexpected = ab(0, func(r *Run) float64 { return float64(r.Fixed.Unexpected + r.Saturation.Unexpected) })
	for i := range res.Runs {
		r := &res.Runs[i]
		if r.Variant != "B" {
			continue
		}
		if a := r.Accounting; a != nil {
			t := &s.Spans
			t.Started += a.Started
			t.Exported += a.Exported
			t.QueueFull += a.QueueFull
			t.ExportFailed += a.ExportFailed
			t.LostAtShutdown += a.LostAtShutdown
			t.TailDropped += a.TailDropped
			t.TailOther += a.TailOther
			t.Uncounted += a.Uncounted
			t.ExportMismatch += a.ExportMismatch
			t.Dropped += a.Dropped
		}
		s.ErrorEvents += int64(r.Shutdown["errors_captured"])
		if r.Received != nil {
			s.Envelopes += r.Received.Envelopes
			s.ReceivedSpans += r.Received.Spans
		}
		for k, v := range r.Metrics {
			if strings.HasPrefix(k, "otelsentry_spans_dropped") {
				_, labels, _ := strings.Cut(k, "{")
				s.DropsByReason[strings.TrimSuffix(labels, "}")] += v
			}
		}
	}
}

// ratio is b/a to four decimals; NaN (left out of medians, written as 0)
// when a is 0.
func ratio(b, a float64) float64 {
	if a == 0 {
		return math.NaN()
	}
	return round(b/a, 4)
}

// finite replaces NaN (which JSON cannot carry) by 0.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func median(v []float64) float64 {
	var x []float64
	for _, f := range v {
		if !math.IsNaN(f) {
			x = append(x, f)
		}
	}
	if len(x) == 0 {
		return 0
	}
	slices.Sort(x)
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

func round(f float64, digits int) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	p := math.Pow(10, float64(digits))
	return math.Round(f*p) / p
}

func writeText(res *Results, w io.Writer) {
	c, s := res.Config, res.Summary
	extra := ""
	if len(c.BEnv) > 0 {
		extra = ", with " + strings.Join(c.BEnv, " ")
	}
	if c.BService == "sdk" {
		fmt.Fprintf(w, "load A/B: %d pair(s) (%s), A = OTEL_SDK_DISABLED=true, B = bare OpenTelemetry SDK (bench/cmd/sdkapp: parentbased_traceidratio 0.1, batch span processor, OTLP/HTTP+gzip → local receiver%s)\n",
			s.Pairs, c.Order, extra)
	} else {
		fmt.Fprintf(w, "load A/B: %d pair(s) (%s), A = OTEL_SDK_DISABLED=true, B = full pipeline (production, exporter %s → local receiver%s)\n",
			s.Pairs, c.Order, c.Exporter, extra)
	}
	fmt.Fprintf(w, "  fixed rate %.0f rps × %.0fs (concurrency %d); saturation %.0f rps offered × %.0fs (concurrency %d); %d CPUs shared by service, loadgen, receiver\n",
		c.FixedRPS, c.FixedDurationS, c.FixedConcurrency, c.SatRPS, c.SatDurationS, c.SatConcurrency, c.NumCPU)
	fmt.Fprintf(w, "  medians over pairs of B/A:\n")
	fmt.Fprintf(w, "    throughput (saturation)   %.3f   (A %.0f rps, B %.0f rps)\n", s.ThroughputRatio, s.SatRPS.A, s.SatRPS.B)
	fmt.Fprintf(w, "    p50 (fixed rate)          %.3f   (A %.1f ms, B %.1f ms)\n", s.P50Ratio, s.P50MS.A, s.P50MS.B)
	fmt.Fprintf(w, "    p99 (fixed rate)          %.3f   (A %.1f ms, B %.1f ms)\n", s.P99Ratio, s.P99MS.A, s.P99MS.B)
	fmt.Fprintf(w, "    p50 / p99 (saturation)    %.3f / %.3f\n", s.SatP50Ratio, s.SatP99Ratio)
	if len(res.Pairs) > 1 {
		each := make([]string, len(res.Pairs))
		for i, p := range res.Pairs {
			each[i] = fmt.Sprintf("%.3f", p.ThroughputRatio)
		}
		fmt.Fprintf(w, "    throughput, each pair     %s\n", strings.Join(each, ", "))
	}
	fmt.Fprintf(w, "  CPU s per 1000 requests     fixed A %.4f B %.4f (×%.2f); saturation A %.4f B %.4f (×%.2f)\n",
		s.CPUPer1k.A, s.CPUPer1k.B, s.CPUPer1kRatio, s.SatCPUPer1k.A, s.SatCPUPer1k.B, s.SatCPUPer1kRatio)
	fmt.Fprintf(w, "  service cores busy at saturation A %.2f B %.2f; loadgen CPU s per 1000 requests A %.4f B %.4f; receiver (this process) A %.4f B %.4f\n",
		s.SatCoresBusy.A, s.SatCoresBusy.B, s.LoadgenPer1k.A, s.LoadgenPer1k.B, s.HarnessPer1k.A, s.HarnessPer1k.B)
	fmt.Fprintf(w, "  peak RSS                    A %.1f MB, B %.1f MB\n", s.PeakRSSMB.A, s.PeakRSSMB.B)
	fmt.Fprintf(w, "  error rate                  A %.4f, B %.4f (unexpected: A %.0f, B %.0f)\n", s.ErrorRate.A, s.ErrorRate.B, s.Unexpected.A, s.Unexpected.B)
	if c.BService == "sdk" {
		fmt.Fprintf(w, "  spans (B runs, summed)      the receiver got %d; the SDK counts neither the spans it started nor those it dropped\n", s.ReceivedSpans)
	} else {
		t := s.Spans
		fmt.Fprintf(w, "  spans (B runs, summed)      started %d, exported %d (receiver got %d), tail-dropped %d (not sampled_out: %d)\n",
			t.Started, t.Exported, t.Exported-t.ExportMismatch, t.TailDropped, t.TailOther)
		fmt.Fprintf(w, "    dropped: queue_full %d, export_failed %d, lost_at_shutdown %d → dropped %d; uncounted %d; export mismatch %d\n",
			t.QueueFull, t.ExportFailed, t.LostAtShutdown, t.Dropped, t.Uncounted, t.ExportMismatch)
		if c.Exporter == "sentry" {
			fmt.Fprintf(w, "  sentry (B runs, summed)     %d error events captured, %d envelopes received\n", s.ErrorEvents, s.Envelopes)
		}
	}
	fmt.Fprintf(w, "  wall time %.0fs (build %.1fs)\n", res.WallS, c.BuildS)
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  ERROR %s\n", e)
	}
}
