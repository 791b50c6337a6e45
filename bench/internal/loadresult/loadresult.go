// Package loadresult is the JSON that bench/load writes and
// bench/cmd/benchtable reads: one definition of the contract between them.
package loadresult

import "time"

// Results is what -out gets (and cmd/benchtable reads).
type Results struct {
	Version int       `json:"version"`
	Config  Config    `json:"config"`
	Runs    []Run     `json:"runs"`
	Pairs   []Pair    `json:"pairs"`
	Summary Summary   `json:"summary"`
	Started time.Time `json:"started"`
	// WallS is the whole session's wall time, build included.
	WallS  float64  `json:"wall_s"`
	Errors []string `json:"errors,omitempty"`
}

// Config records how the session ran.
type Config struct {
	Pairs            int      `json:"pairs"`
	Order            string   `json:"order"`
	Quick            bool     `json:"quick"`
	FixedRPS         float64  `json:"fixed_rps"`
	FixedDurationS   float64  `json:"fixed_duration_s"`
	FixedConcurrency int      `json:"fixed_concurrency"`
	SatRPS           float64  `json:"sat_offered_rps"`
	SatDurationS     float64  `json:"sat_duration_s"`
	SatConcurrency   int      `json:"sat_concurrency"`
	WarmupS          float64  `json:"warmup_s"`
	Exporter         string   `json:"exporter"`
	Environment      string   `json:"environment"`
	FaultShare       float64  `json:"fault_share"`
	NumCPU           int      `json:"num_cpu"`
	BuildS           float64  `json:"build_s"`
	Note             string   `json:"note"`
	BEnv             []string `json:"b_env,omitempty"` // added to B's environment (-b-env)
	// BService is what B runs (-b): "" or "pipeline" for the service with
	// otelsentry's pipeline, "sdk" for bench/cmd/sdkapp (the bare
	// OpenTelemetry SDK), which reports no span accounting.
	BService string `json:"b_service,omitempty"`
}

// Phase is one loadgen run against one service.
type Phase struct {
	TargetRPS    float64        `json:"target_rps"`
	Concurrency  int            `json:"concurrency"`
	DurationS    float64        `json:"duration_s"`
	Requests     int            `json:"requests"`
	Completed    int            `json:"completed"`
	Shed         int            `json:"shed"`
	AchievedRPS  float64        `json:"achieved_rps"`
	P50MS        float64        `json:"p50_ms"`
	P95MS        float64        `json:"p95_ms"`
	P99MS        float64        `json:"p99_ms"`
	MaxMS        float64        `json:"max_ms"`
	ErrorCount   int            `json:"error_count"`
	Errors       map[string]int `json:"errors"`
	Unexpected   int            `json:"unexpected_errors"`
	Status       map[string]int `json:"status"`
	ServiceCPUS  float64        `json:"service_cpu_s"`
	CPUPer1k     float64        `json:"service_cpu_s_per_1k_requests"`
	ServiceCPUs  float64        `json:"service_cores_busy"`
	LoadgenCPUS  float64        `json:"loadgen_cpu_s"`
	LoadgenPer1k float64        `json:"loadgen_cpu_s_per_1k_requests"`
	// HarnessCPUS is bench/load's own CPU during the phase: chiefly the
	// receiver decoding what B exports (A exports nothing).
	HarnessCPUS  float64 `json:"harness_cpu_s"`
	HarnessPer1k float64 `json:"harness_cpu_s_per_1k_requests"`
}

// Run is one service lifetime.
type Run struct {
	Variant    string `json:"variant"` // A or B
	Pair       int    `json:"pair"`
	Seq        int    `json:"seq"`
	Seed       uint64 `json:"seed"`
	Fixed      Phase  `json:"fixed"`
	Saturation Phase  `json:"saturation"`
	PeakRSSKB  int64  `json:"peak_rss_kb"`
	// Metrics are the otelsentry_* series scraped from /metrics after the
	// load (B only), keyed by series name with labels.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Shutdown is the pipeline's shutdown summary line (B only).
	Shutdown map[string]float64 `json:"shutdown,omitempty"`
	// Received is what the local receiver got during the run (B only).
	Received *Received `json:"received,omitempty"`
	// Accounting is the span accounting identity (B only).
	Accounting *Accounting `json:"accounting,omitempty"`
	ExitCode   int         `json:"exit_code"`
	Err        string      `json:"error,omitempty"`
}

// Received counts what reached the receiver.
type Received struct {
	Spans     int64 `json:"spans"`
	Requests  int64 `json:"export_requests"`
	Bytes     int64 `json:"bytes"`
	Bad       int64 `json:"bad_requests"`
	Envelopes int64 `json:"sentry_envelopes"`
}

// Accounting checks that every span started is exported or counted as
// dropped, and that what was exported arrived.
type Accounting struct {
	Started        int64 `json:"started"`
	Exported       int64 `json:"exported"`
	QueueFull      int64 `json:"dropped_queue_full"`
	ExportFailed   int64 `json:"dropped_export_failed"`
	LostAtShutdown int64 `json:"lost_at_shutdown"`
	TailDropped    int64 `json:"tail_dropped"`
	// TailOther is the tail drops at the /metrics scrape whose reason is
	// not sampled_out (overflow, trace_limit, expired, late, shutdown).
	TailOther int64 `json:"tail_dropped_not_sampled_out_at_scrape"`
	// Uncounted = started − exported − every drop counter; 0 when the
	// pipeline accounts for every span.
	Uncounted int64 `json:"uncounted"`
	// ExportMismatch = exported − spans the receiver got.
	ExportMismatch int64 `json:"export_mismatch"`
	// Dropped is every drop that is not the sampling policy working:
	// queue_full + export_failed + lost_at_shutdown + TailOther.
	Dropped int64 `json:"dropped"`
}

// Pair holds one pair's B/A ratios.
type Pair struct {
	Pair             int     `json:"pair"`
	Order            string  `json:"order"`
	ThroughputRatio  float64 `json:"throughput_ratio"` // saturation achieved rps
	FixedRPSRatio    float64 `json:"fixed_throughput_ratio"`
	P50Ratio         float64 `json:"p50_ratio"` // fixed rate
	P99Ratio         float64 `json:"p99_ratio"` // fixed rate
	SatP50Ratio      float64 `json:"sat_p50_ratio"`
	SatP99Ratio      float64 `json:"sat_p99_ratio"`
	CPUPer1kRatio    float64 `json:"cpu_per_1k_ratio_fixed"`
	SatCPUPer1kRatio float64 `json:"cpu_per_1k_ratio_sat"`
}

// AB is one figure for each side (medians over runs).
type AB struct {
	A float64 `json:"A"`
	B float64 `json:"B"`
}

// Summary is medians over the pairs.
type Summary struct {
	Pairs            int     `json:"pairs"`
	Complete         bool    `json:"complete"`
	ThroughputRatio  float64 `json:"throughput_ratio"`
	FixedRPSRatio    float64 `json:"fixed_throughput_ratio"`
	P50Ratio         float64 `json:"p50_ratio"`
	P99Ratio         float64 `json:"p99_ratio"`
	SatP50Ratio      float64 `json:"sat_p50_ratio"`
	SatP99Ratio      float64 `json:"sat_p99_ratio"`
	CPUPer1kRatio    float64 `json:"cpu_per_1k_ratio_fixed"`
	SatCPUPer1kRatio float64 `json:"cpu_per_1k_ratio_sat"`

	SatRPS        AB `json:"sat_rps"`
	FixedRPS      AB `json:"fixed_rps"`
	P50MS         AB `json:"p50_ms"`
	P99MS         AB `json:"p99_ms"`
	SatP50MS      AB `json:"sat_p50_ms"`
	SatP99MS      AB `json:"sat_p99_ms"`
	CPUPer1k      AB `json:"cpu_s_per_1k_fixed"`
	SatCPUPer1k   AB `json:"cpu_s_per_1k_sat"`
	SatCoresBusy  AB `json:"sat_service_cores_busy"`
	LoadgenCPUSat AB `json:"sat_loadgen_cpu_s"`
	// LoadgenPer1k is the loadgen's own CPU per 1000 requests at
	// saturation: the share of the cores the service did not get.
	LoadgenPer1k AB `json:"sat_loadgen_cpu_s_per_1k"`
	// HarnessPer1k is bench/load's own CPU (the receiver) per 1000
	// requests at saturation: with the service's and the loadgen's, what
	// the machine spent on a request.
	HarnessPer1k AB `json:"sat_harness_cpu_s_per_1k"`
	PeakRSSMB    AB `json:"peak_rss_mb"`
	ErrorRate    AB `json:"error_rate"`
	Unexpected   AB `json:"unexpected_errors"`

	// Span accounting, summed over the B runs.
	Spans Accounting `json:"spans"`
	// DropsByReason sums the /metrics drop counters over the B runs.
	DropsByReason map[string]float64 `json:"drops_by_reason_at_scrape"`
	// ErrorEvents and Envelopes: Sentry error events the pipeline built, and
	// envelopes (events and check-ins) the receiver got, over the B runs.
	ErrorEvents int64 `json:"error_events_captured"`
	Envelopes   int64 `json:"sentry_envelopes_received"`
	// ReceivedSpans is what the receiver got over the B runs: with -b sdk
	// the only span figure there is (the SDK counts neither what it
	// started nor what it dropped).
	ReceivedSpans int64 `json:"received_spans"`
}
