package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runLoadgen drives a realistic request mix against a running service and
// prints a summary: go run ./cmd/app loadgen -url http://127.0.0.1:8080 -rps
// 200 -duration 30s. It talks only to -url, never follows redirects and
// ignores proxy settings; it stops after -duration or -requests, whichever
// comes first, or on a signal. Exit status: 0 when the service answered, 1
// when nothing answered, 2 for bad flags.
func runLoadgen(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseLoadgenFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum := newLoadgen(cfg, stderr).run(ctx)
	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(sum)
	} else {
		sum.writeText(stdout)
	}
	if sum.Completed == 0 || sum.Errors["transport"] == sum.Completed {
		fmt.Fprintf(stderr, "loadgen: no response from %s — is the service running?\n", cfg.target)
		return 1
	}
	return 0
}

type loadgenConfig struct {
	target      *url.URL
	rps         float64
	duration    time.Duration
	maxRequests int
	concurrency int
	faultShare  float64
	piiShare    float64
	timeout     time.Duration
	json        bool
	seed        uint64
	progress    time.Duration
}

func parseLoadgenFlags(args []string, stderr io.Writer) (loadgenConfig, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", "http://127.0.0.1:8080", "base URL of the service (the only host contacted)")
	rps := fs.Float64("rps", 200, "target requests per second")
	duration := fs.Duration("duration", 30*time.Second, "how long to run")
	maxRequests := fs.Int("requests", 0, "stop after this many requests (0: rps × duration)")
	concurrency := fs.Int("concurrency", 64, "maximum requests in flight; beyond it requests are shed and counted")
	faultShare := fs.Float64("fault-share", 0.05, "share of analyses and checks sent with an X-Fault header")
	piiShare := fs.Float64("pii-share", 0.05, "share of analyses and monitor creations carrying PII (an email in the company field)")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	seed := fs.Uint64("seed", 0, "random seed for the request mix (0: time-based)")
	if err := fs.Parse(args); err != nil {
		return loadgenConfig{}, err
	}
	if fs.NArg() > 0 {
		return loadgenConfig{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	u, err := url.Parse(*rawURL)
	switch {
	case err != nil:
		return loadgenConfig{}, fmt.Errorf("-url %q: %w", *rawURL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return loadgenConfig{}, fmt.Errorf("-url %q: scheme must be http or https", *rawURL)
	case u.Host == "":
		return loadgenConfig{}, fmt.Errorf("-url %q: no host", *rawURL)
	case *rps <= 0 || *rps > 100000 || math.IsNaN(*rps):
		return loadgenConfig{}, fmt.Errorf("-rps %v: must be in (0, 100000]", *rps)
	case *duration <= 0 || *duration > 24*time.Hour:
		return loadgenConfig{}, fmt.Errorf("-duration %v: must be in (0, 24h]", *duration)
	case *maxRequests < 0:
		return loadgenConfig{}, fmt.Errorf("-requests %d: must not be negative", *maxRequests)
	case *concurrency < 1 || *concurrency > 10000:
		return loadgenConfig{}, fmt.Errorf("-concurrency %d: must be in [1, 10000]", *concurrency)
	case *faultShare < 0 || *faultShare > 1:
		return loadgenConfig{}, fmt.Errorf("-fault-share %v: must be in [0, 1]", *faultShare)
	case *piiShare < 0 || *piiShare > 1:
		return loadgenConfig{}, fmt.Errorf("-pii-share %v: must be in [0, 1]", *piiShare)
	case *timeout <= 0:
		return loadgenConfig{}, fmt.Errorf("-timeout %v: must be positive", *timeout)
	}
	budget := int(math.Ceil(*rps * duration.Seconds()))
	if *maxRequests == 0 || *maxRequests > budget {
		*maxRequests = budget
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	u.RawQuery, u.Fragment, u.Path = "", "", strings.TrimSuffix(u.Path, "/")
	return loadgenConfig{
		target: u, rps: *rps, duration: *duration, maxRequests: *maxRequests, concurrency: *concurrency,
		faultShare: *faultShare, piiShare: *piiShare, timeout: *timeout, json: *asJSON, seed: *seed,
		progress: time.Second,
	}, nil
}

// op is one kind of request in the mix.
type op string

const (
	opAnalyze        op = "analyze"
	opAnalyzeInvalid op = "analyze_invalid"
	opMonitorCreate  op = "monitor_create"
	opMonitorList    op = "monitor_list"
	opMonitorGet     op = "monitor_get"
	opMonitorCheck   op = "monitor_check"
	opMonitorResume  op = "monitor_resume"
	opHealth         op = "healthz"
)

// mix is the share of each op, in percent: mostly analyses and monitor
// reads, some writes, a little invalid input and probing.
var mix = []struct {
	op     op
	weight int
}{
	{opAnalyze, 40}, {opAnalyzeInvalid, 3}, {opMonitorCreate, 10}, {opMonitorList, 8},
	{opMonitorGet, 17}, {opMonitorCheck, 12}, {opMonitorResume, 3}, {opHealth, 7},
}

var companies = []struct{ name, industry string }{
	{"Tesla", "Automotive"}, {"Rivian", "Automotive"}, {"Ford", "Automotive"}, {"Apple", "Technology"},
	{"Microsoft", "Technology"}, {"Nvidia", "Semiconductors"}, {"AMD", "Semiconductors"}, {"Pfizer", "Pharmaceuticals"},
	{"Moderna", "Pharmaceuticals"}, {"JPMorgan Chase", "Banking"}, {"Goldman Sachs", "Banking"}, {"Walmart", "Retail"},
	{"Costco", "Retail"}, {"Shopify", "E-commerce"}, {"Netflix", "Media"}, {"Spotify", "Media"},
	{"Siemens", "Industrials"}, {"Airbus", "Aerospace"}, {"Maersk", "Logistics"}, {"Unilever", "Consumer Goods"},
}

// piiCompanies are what careless clients put in a company field; the
// pipeline must redact them, the service must pass them through.
var piiCompanies = []string{
	"jane.doe@example.com",
	"Acme Corp (contact: cfo@acme-corp.example)",
	"bob.smith+investor@gmail.com",
}

var frameworks = []string{"porter", "swot", "pestel", "bcg", "ansoff"}

var faultKinds = []struct {
	kind   string
	weight int
}{{"error", 40}, {"timeout", 20}, {"slow", 25}, {"panic", 15}}

var tiers = []string{"free", "free", "free", "pro", "pro", "team", "enterprise"}

// loadgen holds one run's shared state; safe for concurrent use by workers.
type loadgen struct {
	cfg    loadgenConfig
	client *http.Client
	stderr io.Writer

	idsMu sync.Mutex
	ids   []string // monitor IDs seen, a ring of maxIDs
	idPos int

	stats *loadStats
}

const maxIDs = 256

func newLoadgen(cfg loadgenConfig, stderr io.Writer) *loadgen {
	transport := &http.Transport{
		Proxy:               nil, // only ever the given URL, whatever the environment says
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        cfg.concurrency,
		MaxIdleConnsPerHost: cfg.concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	return &loadgen{
		cfg:    cfg,
		stderr: stderr,
		client: &http.Client{
			Timeout:   cfg.timeout,
			Transport: transport,
			// A redirect could point anywhere: report it, never follow it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		stats: newLoadStats(cfg.seed),
	}
}

// run paces requests at rps onto a queue as deep as the worker pool; a
// request that finds the queue full is shed (counted, not sent), so a slow
// service shows up as shed load rather than a silently lower rate. It returns
// after the last request in flight has finished.
func (lg *loadgen) run(ctx context.Context) summary {
	jobs := make(chan op, lg.cfg.concurrency)
	var wg sync.WaitGroup
	for i := range lg.cfg.concurrency {
		r := rand.New(rand.NewPCG(lg.cfg.seed, uint64(i)+1))
		wg.Go(func() {
			for o := range jobs {
				lg.do(ctx, r, o)
			}
		})
	}
	pick := rand.New(rand.NewPCG(lg.cfg.seed, 0))
	start := time.Now()
	progressDone := make(chan struct{})
	stopProgress := make(chan struct{})
	go func() {
		defer close(progressDone)
		lg.progress(start, stopProgress)
	}()

	tick := time.Duration(float64(time.Second) / lg.cfg.rps)
	tick = min(max(tick, time.Millisecond), 100*time.Millisecond)
	t := time.NewTicker(tick)
	sent := 0
pace:
	for sent < lg.cfg.maxRequests {
		elapsed := time.Since(start)
		if elapsed >= lg.cfg.duration {
			break
		}
		due := min(int(elapsed.Seconds()*lg.cfg.rps)+1, lg.cfg.maxRequests)
		for ; sent < due; sent++ {
			select {
			case jobs <- pickOp(pick):
				lg.stats.sent()
			default:
				lg.stats.shed()
			}
		}
		select {
		case <-ctx.Done():
			break pace
		case <-t.C:
		}
	}
	t.Stop()
	close(jobs)
	wg.Wait()
	close(stopProgress)
	<-progressDone
	lg.client.CloseIdleConnections()
	return lg.stats.summary(lg.cfg, time.Since(start))
}

func pickOp(r *rand.Rand) op {
	n := r.IntN(100)
	for _, m := range mix {
		if n < m.weight {
			return m.op
		}
		n -= m.weight
	}
	return opHealth
}

// progress prints one line a second to stderr until stop is closed.
func (lg *loadgen) progress(start time.Time, stop <-chan struct{}) {
	t := time.NewTicker(lg.cfg.progress)
	defer t.Stop()
	prev, last := 0, start
	for {
		var now time.Time
		select {
		case <-stop:
			return
		case now = <-t.C:
		}
		s := lg.stats.snapshot()
		fmt.Fprintf(lg.stderr, "loadgen: %5.1fs sent=%d done=%d errors=%d shed=%d in_flight=%d rps=%.1f\n",
			now.Sub(start).Seconds(), s.Sent, s.Completed, s.ErrorCount, s.Shed, s.Sent-s.Completed,
			float64(s.Completed-prev)/now.Sub(last).Seconds())
		prev, last = s.Completed, now
	}
}

// do sends one request of kind o and records its outcome.
func (lg *loadgen) do(ctx context.Context, r *rand.Rand, o op) {
	if (o == opMonitorGet || o == opMonitorCheck || o == opMonitorResume) && lg.monitorID(r) == "" {
		o = opMonitorCreate // nothing to read yet
	}
	c := companies[r.IntN(len(companies))]
	company, pii := c.name, r.Float64() < lg.cfg.piiShare
	if pii && (o == opAnalyze || o == opMonitorCreate) {
		company = piiCompanies[r.IntN(len(piiCompanies))]
	} else {
		pii = false
	}
	var (
		method = http.MethodGet
		path   string
		body   any
		fault  string
	)
	switch o {
	case opAnalyze:
		method, path = http.MethodPost, "/api/analyze"
		fws := slices.Clone(frameworks)
		r.Shuffle(len(fws), func(i, j int) { fws[i], fws[j] = fws[j], fws[i] })
		body = map[string]any{"company": company, "industry": c.industry, "frameworks": fws[:1+r.IntN(3)]}
	case opAnalyzeInvalid:
		method, path = http.MethodPost, "/api/analyze"
		body = [](map[string]any){{"industry": c.industry}, {"company": c.name, "industry": c.industry, "frameworks": []string{"astrology"}}}[r.IntN(2)]
	case opMonitorCreate:
		method, path = http.MethodPost, "/api/monitors"
		body = map[string]any{"company": company, "industry": c.industry, "interval": []string{"30s", "1m", "2m", "5m"}[r.IntN(4)]}
	case opMonitorList:
		path = "/api/monitors?limit=20"
	case opMonitorGet:
		path = "/api/monitors/" + url.PathEscape(lg.monitorID(r))
	case opMonitorCheck:
		method, path = http.MethodPost, "/api/monitors/"+url.PathEscape(lg.monitorID(r))+"/check"
	case opMonitorResume:
		method, path = http.MethodPost, "/api/monitors/"+url.PathEscape(lg.monitorID(r))+"/resume"
	default:
		path = "/healthz"
	}
	if (o == opAnalyze || o == opMonitorCheck) && r.Float64() < lg.cfg.faultShare {
		fault = pickFault(r)
	}

	var payload io.Reader = http.NoBody
	if body != nil {
		b, _ := json.Marshal(body)
		payload = bytes.NewReader(b)
	}
	u := *lg.cfg.target
	p, q, _ := strings.Cut(path, "?")
	u.Path, u.RawQuery = lg.cfg.target.Path+p, q
	req, err := http.NewRequestWithContext(ctx, method, u.String(), payload)
	if err != nil {
		lg.stats.record(o, fault, pii, 0, 0, "transport")
		return
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "otelsentry-loadgen/1")
	req.Header.Set("X-User-ID", fmt.Sprintf("user-%d", 1+r.IntN(500)))
	req.Header.Set("X-User-Tier", tiers[r.IntN(len(tiers))])
	if fault != "" {
		req.Header.Set("X-Fault", fault)
	}

	start := time.Now()
	resp, err := lg.client.Do(req)
	if err != nil {
		kind := "transport"
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			kind = "canceled" // interrupted by a signal, not the service's doing
		case errors.As(err, &ne) && ne.Timeout():
			kind = "timeout"
		}
		lg.stats.record(o, fault, pii, time.Since(start), 0, kind)
		return
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		lg.stats.record(o, fault, pii, elapsed, resp.StatusCode, "transport")
		return
	}
	if o == opMonitorCreate && resp.StatusCode == http.StatusCreated {
		var m struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(data, &m) == nil && m.ID != "" {
			lg.addMonitorID(m.ID)
		}
	}
	kind := ""
	if resp.StatusCode >= 300 {
		kind = fmt.Sprintf("http_%d", resp.StatusCode)
	}
	lg.stats.record(o, fault, pii, elapsed, resp.StatusCode, kind)
}

func pickFault(r *rand.Rand) string {
	n := r.IntN(100)
	for _, f := range faultKinds {
		if n < f.weight {
			return f.kind
		}
		n -= f.weight
	}
	return "error"
}

func (lg *loadgen) monitorID(r *rand.Rand) string {
	lg.idsMu.Lock()
	defer lg.idsMu.Unlock()
	if len(lg.ids) == 0 {
		return ""
	}
	return lg.ids[r.IntN(len(lg.ids))]
}

func (lg *loadgen) addMonitorID(id string) {
	lg.idsMu.Lock()
	defer lg.idsMu.Unlock()
	if len(lg.ids) < maxIDs {
		lg.ids = append(lg.ids, id)
		return
	}
	lg.ids[lg.idPos] = id
	lg.idPos = (lg.idPos + 1) % maxIDs
}

// maxSamples bounds the latency samples kept; beyond it a uniform reservoir
// keeps the percentiles honest in constant memory.
const maxSamples = 100_000

// loadStats accumulates outcomes; safe for concurrent use.
type loadStats struct {
	mu        sync.Mutex
	rng       *rand.Rand
	s         summary
	latencies []time.Duration
	seen      int
}

func newLoadStats(seed uint64) *loadStats {
	return &loadStats{rng: rand.New(rand.NewPCG(seed, 99)), s: summary{
		Errors: map[string]int{}, ByOp: map[string]int{}, Faults: map[string]int{}, Status: map[string]int{},
	}}
}

func (st *loadStats) sent() {
	st.mu.Lock()
	st.s.Sent++
	st.mu.Unlock()
}

func (st *loadStats) shed() {
	st.mu.Lock()
	st.s.Shed++
	st.mu.Unlock()
}

// record counts one finished request; errKind is "" for success.
func (st *loadStats) record(o op, fault string, pii bool, d time.Duration, status int, errKind string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Completed++
	st.s.ByOp[string(o)]++
	if fault != "" {
		st.s.Faults[fault]++
	}
	if pii {
		st.s.PII++
	}
	if status > 0 {
		st.s.Status[fmt.Sprintf("%dxx", status/100)]++
	}
	if errKind != "" {
		st.s.Errors[errKind]++
		st.s.ErrorCount++
		if fault == "" && errKind != "canceled" && (status >= 500 || status == 0) {
			st.s.Unexpected++
		}
	}
	if d > 0 {
		st.seen++
		if len(st.latencies) < maxSamples {
			st.latencies = append(st.latencies, d)
		} else if i := st.rng.IntN(st.seen); i < maxSamples {
			st.latencies[i] = d
		}
	}
}

func (st *loadStats) snapshot() summary {
	st.mu.Lock()
	defer st.mu.Unlock()
	return summary{Sent: st.s.Sent, Completed: st.s.Completed, Shed: st.s.Shed, ErrorCount: st.s.ErrorCount}
}

func (st *loadStats) summary(cfg loadgenConfig, elapsed time.Duration) summary {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.s
	s.URL, s.TargetRPS, s.DurationS = cfg.target.String(), cfg.rps, elapsed.Seconds()
	if elapsed > 0 {
		s.AchievedRPS = math.Round(float64(s.Completed)/elapsed.Seconds()*10) / 10
	}
	lat := slices.Clone(st.latencies)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(math.Ceil(p*float64(len(lat)))) - 1
		return float64(lat[max(i, 0)].Microseconds()) / 1000
	}
	s.LatencyMS = latency{P50: pct(0.50), P95: pct(0.95), P99: pct(0.99), Max: pct(1)}
	return s
}

// summary is the run's result, printed as text or, with -json, as JSON.
type summary struct {
	URL         string         `json:"url"`
	TargetRPS   float64        `json:"target_rps"`
	DurationS   float64        `json:"duration_s"`
	Sent        int            `json:"requests"`
	Completed   int            `json:"completed"`
	Shed        int            `json:"shed"`
	AchievedRPS float64        `json:"achieved_rps"`
	LatencyMS   latency        `json:"latency_ms"`
	Status      map[string]int `json:"status"`
	ErrorCount  int            `json:"error_count"`
	Errors      map[string]int `json:"errors"`
	Unexpected  int            `json:"unexpected_errors"`
	Faults      map[string]int `json:"faults_injected"`
	PII         int            `json:"pii_requests"`
	ByOp        map[string]int `json:"by_operation"`
}

type latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func (s summary) writeText(w io.Writer) {
	fmt.Fprintf(w, "loadgen summary: %s, %.1fs at %.0f rps target\n", s.URL, s.DurationS, s.TargetRPS)
	fmt.Fprintf(w, "  requests   %d sent, %d completed, %d shed (client at -concurrency)\n", s.Sent, s.Completed, s.Shed)
	fmt.Fprintf(w, "  achieved   %.1f rps\n", s.AchievedRPS)
	fmt.Fprintf(w, "  latency    p50 %.1fms  p95 %.1fms  p99 %.1fms  max %.1fms\n", s.LatencyMS.P50, s.LatencyMS.P95, s.LatencyMS.P99, s.LatencyMS.Max)
	fmt.Fprintf(w, "  status     %s\n", formatCounts(s.Status))
	fmt.Fprintf(w, "  errors     %d: %s (unexpected: %d)\n", s.ErrorCount, formatCounts(s.Errors), s.Unexpected)
	fmt.Fprintf(w, "  faults     %s\n", formatCounts(s.Faults))
	fmt.Fprintf(w, "  pii        %d requests carried PII\n", s.PII)
	fmt.Fprintf(w, "  operations %s\n", formatCounts(s.ByOp))
}

func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
