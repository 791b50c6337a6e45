package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/otelsentry/otelsentry/bench/internal/loadresult"
)

// Benchmark names the targets refer to.
const (
	nameS             = "BenchmarkSpan/sdk=bare"
	namePipe10Clean   = "BenchmarkSpan/pipeline=1.0/span=clean"
	namePipe01Clean   = "BenchmarkSpan/pipeline=0.1/span=clean"
	nameRedactPrefix  = "BenchmarkRedaction/engine="
	nameReqSDK        = "BenchmarkRequest/handler=otelhttp+sdk"
	nameReqPipeline   = "BenchmarkRequest/handler=otelhttp+pipeline"
	engineOtelsentry  = "otelsentry"
	unitNs            = "ns/op"
	unitB             = "B/op"
	unitAllocs        = "allocs/op"
	statusMet         = "yes"
	statusNotMet      = "**NO**"
	statusMissing     = "missing"
	corpusRecallLimit = 1.0
	corpusNegLimit    = 0.01
)

func redactName(engine, span string) string {
	return nameRedactPrefix + engine + "/span=" + span
}

// LoadSummary is bench/load's JSON.
type LoadSummary = loadresult.Results

type ab = loadresult.AB

// Machine describes where the numbers were taken.
type Machine struct {
	GoVersion, NumCPU, CPUModel, Date, Commit, Kernel string
}

// Input is everything a report is made of; nil or empty parts are reported
// as missing.
type Input struct {
	Bench  *Results
	Corpus []Corpus
	Load   *LoadSummary
	// LoadSDK is the same A/B with B = the bare OpenTelemetry SDK (bench/load
	// -b sdk): a reference row under the load table, no target.
	LoadSDK   *LoadSummary
	Benchstat string
	Machine   Machine
	Notes     []string
}

// Target is one row of the TARGETS table.
type Target struct {
	Name     string
	Measured string // "missing" when an input is missing
	Limit    string
	Status   string // statusMet, statusNotMet or statusMissing
}

func (t Target) Met() bool { return t.Status == statusMet }

func missing(name, limit string) Target {
	return Target{Name: name, Measured: statusMissing, Limit: limit, Status: statusMissing}
}

func verdict(ok bool) string {
	if ok {
		return statusMet
	}
	return statusNotMet
}

// nsOf returns a benchmark's median ns/op.
func nsOf(r *Results, name string) (float64, bool) { return r.Get(name).Median(unitNs) }

// Targets evaluates the performance targets; a target whose inputs are
// missing is reported as such, never guessed.
func Targets(in Input) []Target {
	var out []Target
	r := in.Bench
	s, haveS := nsOf(r, nameS)

	// ratioToS: the named benchmark's median ns/op over S's, ≤ limit.
	ratioToS := func(label, name string, limit float64) Target {
		lim := fmt.Sprintf("≤ %.2f S", limit)
		v, ok := nsOf(r, name)
		if !ok || !haveS || s <= 0 {
			return missing(label, lim)
		}
		q := v / s
		return Target{Name: label, Measured: fmt.Sprintf("%.3f S", q), Limit: lim, Status: verdict(q <= limit)}
	}

	out = append(out, ratioToS("full pipeline, rate 1.0, clean span", namePipe10Clean, 1.15))
	{
		label, lim := "allocs/op, pipeline rate 1.0 clean span vs S (no allocation beyond the SDK's)", "≤ allocs of S"
		a, okA := r.Get(namePipe10Clean).Median(unitAllocs)
		sa, okS := r.Get(nameS).Median(unitAllocs)
		if okA && okS {
			out = append(out, Target{Name: label, Measured: fmt.Sprintf("%s vs %s", num(a), num(sa)), Limit: lim, Status: verdict(a <= sa)})
		} else {
			out = append(out, missing(label, lim))
		}
	}
	out = append(out, ratioToS("pipeline, rate 0.1, clean span", namePipe01Clean, 1.3))
	out = append(out, ratioToS("redaction engine=otelsentry, clean span", redactName(engineOtelsentry, "clean"), 0.10))
	{
		label, lim := "redaction engine=otelsentry, clean span: allocs/op", "0"
		if a, ok := r.Get(redactName(engineOtelsentry, "clean")).Median(unitAllocs); ok {
			out = append(out, Target{Name: label, Measured: num(a), Limit: lim, Status: verdict(a == 0)})
		} else {
			out = append(out, missing(label, lim))
		}
	}
	out = append(out, ratioToS("redaction engine=otelsentry, PII span", redactName(engineOtelsentry, "pii"), 0.5))
	for _, span := range []string{"clean", "pii"} {
		for _, other := range []string{"collector", "regexp"} {
			label := fmt.Sprintf("otelsentry faster than %s, %s span (%s / otelsentry)", other, span, other)
			lim := "≥ 20×"
			o, okO := nsOf(r, redactName(engineOtelsentry, span))
			x, okX := nsOf(r, redactName(other, span))
			if !okO || !okX || o <= 0 {
				out = append(out, missing(label, lim))
				continue
			}
			q := x / o
			out = append(out, Target{Name: label, Measured: fmt.Sprintf("%.1f×", q), Limit: lim, Status: verdict(q >= 20)})
		}
	}
	{
		label, lim := "request: otelhttp+pipeline / otelhttp+sdk", "≤ 1.20"
		p, okP := nsOf(r, nameReqPipeline)
		q, okQ := nsOf(r, nameReqSDK)
		if okP && okQ && q > 0 {
			out = append(out, Target{Name: label, Measured: fmt.Sprintf("%.3f", p/q), Limit: lim, Status: verdict(p/q <= 1.20)})
		} else {
			out = append(out, missing(label, lim))
		}
	}

	// Load A/B.
	ld := in.Load
	loadOK := ld != nil && ld.Summary.Pairs > 0
	if loadOK {
		s := ld.Summary
		out = append(out,
			Target{Name: "load: throughput at saturation, B/A", Measured: fmt.Sprintf("%.3f", s.ThroughputRatio), Limit: "≥ 0.95", Status: verdict(s.ThroughputRatio >= 0.95)},
			Target{Name: "load: p99 latency at fixed rate, B/A", Measured: fmt.Sprintf("%.3f", s.P99Ratio), Limit: "≤ 1.10", Status: verdict(s.P99Ratio <= 1.10)})
		if s.Spans.Started > 0 {
			u := s.Spans.Uncounted + abs64(s.Spans.ExportMismatch)
			out = append(out, Target{Name: "load: uncounted span drops (started − exported − counted drops; exported − received)",
				Measured: fmt.Sprintf("%d (of %d started)", u, s.Spans.Started), Limit: "= 0", Status: verdict(u == 0)})
		} else {
			out = append(out, missing("load: uncounted span drops", "= 0"))
		}
	} else {
		out = append(out, missing("load: throughput at saturation, B/A", "≥ 0.95"),
			missing("load: p99 latency at fixed rate, B/A", "≤ 1.10"),
			missing("load: uncounted span drops", "= 0"))
	}

	// Corpus.
	byEngine := map[string]Corpus{}
	for _, c := range in.Corpus {
		byEngine[c.Engine] = c
	}
	if c, ok := byEngine[engineOtelsentry]; ok && c.PosTotal > 0 {
		out = append(out, Target{Name: "corpus: otelsentry positives redacted", Measured: fmt.Sprintf("%d/%d (%.1f%%)", c.Positives, c.PosTotal, 100*c.Recall),
			Limit: "100%", Status: verdict(c.Positives == c.PosTotal)})
		out = append(out, Target{Name: "corpus: otelsentry negatives altered", Measured: fmt.Sprintf("%d/%d (%.2f%%)", c.NegAltered, c.NegTotal, 100*c.NegAlteredPct),
			Limit: "≤ 1%", Status: verdict(c.NegAlteredPct <= corpusNegLimit)})
		var others []string
		best, anyMissing := true, false
		for _, name := range []string{"regexp", "collector"} {
			o, ok := byEngine[name]
			if !ok {
				others = append(others, name+" missing")
				anyMissing = true
				continue
			}
			others = append(others, fmt.Sprintf("%s %.1f%%", name, 100*o.Recall))
			if o.Recall > c.Recall {
				best = false
			}
		}
		st := verdict(best)
		if anyMissing {
			st = statusMissing
		}
		out = append(out, Target{Name: "corpus: otelsentry has the best recall of the three",
			Measured: fmt.Sprintf("otelsentry %.1f%% vs %s", 100*c.Recall, strings.Join(others, ", ")), Limit: "best", Status: st})
	} else {
		out = append(out, missing("corpus: otelsentry positives redacted", "100%"),
			missing("corpus: otelsentry negatives altered", "≤ 1%"),
			missing("corpus: otelsentry has the best recall of the three", "best"))
	}
	return out
}

// ratioFmt prints a ratio with three decimals near 1 and fewer far from it.
func ratioFmt(q float64) string {
	switch {
	case q >= 1000:
		return fmt.Sprintf("%.0f", q)
	case q >= 10:
		return fmt.Sprintf("%.1f", q)
	}
	return fmt.Sprintf("%.3f", q)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// num formats a measurement compactly: integers without decimals, small
// values with enough digits to be read.
func num(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// cell escapes a table cell (a '|' in a benchmark name would split it).
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Render writes the markdown report.
func Render(w io.Writer, in Input) {
	targets := Targets(in)
	met, notMet, miss := 0, 0, 0
	for _, t := range targets {
		switch t.Status {
		case statusMet:
			met++
		case statusNotMet:
			notMet++
		default:
			miss++
		}
	}
	for _, n := range in.Notes {
		fmt.Fprintf(w, "> %s\n", n)
	}
	if len(in.Notes) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "#### Targets\n\n%d met, %d not met, %d missing. S = median ns/op of `%s` (the bare OpenTelemetry SDK span).\n\n", met, notMet, miss, nameS)
	fmt.Fprintln(w, "| Target | Measured ratio | Limit | Met? |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, t := range targets {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", cell(t.Name), cell(t.Measured), cell(t.Limit), t.Status)
	}
	fmt.Fprintln(w)

	renderBenchTable(w, in.Bench)
	renderServiceCPU(w, in.Bench)
	renderCorpus(w, in.Corpus)
	renderLoad(w, in.Load)
	renderLoadSDK(w, in.Load, in.LoadSDK)
	renderMachine(w, in)
	if strings.TrimSpace(in.Benchstat) != "" {
		fmt.Fprintf(w, "#### Appendix: benchstat (medians with 95%% confidence intervals)\n\n```text\n%s\n```\n", strings.TrimRight(in.Benchstat, "\n"))
	}
}

// expected are the benchmarks the suite is meant to produce, listed as
// "missing" when absent from the output.
var expected = []string{
	nameS, "BenchmarkSpan/sdk=ratio0.1",
	namePipe10Clean, "BenchmarkSpan/pipeline=1.0/span=pii",
	namePipe01Clean, "BenchmarkSpan/pipeline=0.1/span=pii",
	"BenchmarkSpan/sentry=native",
	"BenchmarkRequest/handler=bare", nameReqSDK, nameReqPipeline,
	"BenchmarkExport/gzip=off", "BenchmarkExport/gzip=on",
	nameSvcBare, nameSvcPrefix + "otelhttp+sdk-parentratio0.1", nameSvcPrefix + "otelhttp+sdk-always",
	nameSvcPrefix + "otelhttp+pipeline-0.1", nameSvcPrefix + "otelhttp+pipeline-0.1-notail",
	redactName("otelsentry", "clean"), redactName("otelsentry", "pii"),
	redactName("regexp", "clean"), redactName("regexp", "pii"),
	redactName("collector", "clean"), redactName("collector", "pii"),
	redactName("floor", "clean"), redactName("floor", "pii"),
}

const (
	nameSvcPrefix = "BenchmarkRequestParallel/handler="
	nameSvcBare   = nameSvcPrefix + "bare"
)

// renderServiceCPU is BenchmarkRequestParallel as throughput relative to
// the service without telemetry: a reference beside the load A/B's
// throughput target, with no target of its own.
func renderServiceCPU(w io.Writer, r *Results) {
	bare, ok := nsOf(r, nameSvcBare)
	if !ok || bare <= 0 {
		return
	}
	fmt.Fprintln(w, "#### Service CPU per request (reference, no target)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "`BenchmarkRequestParallel`: analysis requests served from every core, latencies scaled to nothing, so the service is CPU-bound. Throughput relative to the service without telemetry is bare ns/op over the variant's: the ratio a CPU-bound service alone on the machine would see. The load A/B's service sleeps and shares the cores with its loadgen, which moves its ratio towards 1.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Variant | ns/op | throughput vs bare |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, n := range r.Order {
		v, ok := nsOf(r, n)
		if !ok || !strings.HasPrefix(n, nameSvcPrefix) || v <= 0 {
			continue
		}
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", cell(strings.TrimPrefix(n, nameSvcPrefix)), num(v), ratioFmt(bare/v))
	}
	fmt.Fprintln(w)
}

func renderBenchTable(w io.Writer, r *Results) {
	fmt.Fprintln(w, "#### Every benchmark")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Medians over the -count runs. ×S is ns/op over S's.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Benchmark | n | ns/op | B/op | allocs/op | ×S | other metrics |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	var names []string
	seen := map[string]bool{}
	if r != nil {
		for _, n := range r.Order {
			names = append(names, n)
			seen[n] = true
		}
	}
	for _, n := range expected {
		if !seen[n] {
			names = append(names, n)
			seen[n] = true
		}
	}
	s, haveS := nsOf(r, nameS)
	for _, n := range names {
		b := r.Get(n)
		if b == nil {
			fmt.Fprintf(w, "| `%s` | 0 | missing | missing | missing | missing | |\n", cell(n))
			continue
		}
		med := func(unit string) string {
			if v, ok := b.Median(unit); ok {
				return num(v)
			}
			return "—"
		}
		xs := "—"
		if v, ok := b.Median(unitNs); ok && haveS && s > 0 {
			xs = ratioFmt(v / s)
		}
		var other []string
		for _, u := range b.Units {
			if u == unitNs || u == unitB || u == unitAllocs {
				continue
			}
			v, _ := b.Median(u)
			other = append(other, fmt.Sprintf("%s %s", num(v), u))
		}
		fmt.Fprintf(w, "| `%s` | %d | %s | %s | %s | %s | %s |\n", cell(n), len(b.Samples), med(unitNs), med(unitB), med(unitAllocs), xs, cell(strings.Join(other, ", ")))
	}
	fmt.Fprintln(w)
}

func renderCorpus(w io.Writer, cs []Corpus) {
	fmt.Fprintln(w, "#### PII corpus")
	fmt.Fprintln(w)
	if len(cs) == 0 {
		fmt.Fprintln(w, "missing (no corpus file).")
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintln(w, "| Engine | Positives redacted | Recall | Negatives altered | Altered |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	sorted := append([]Corpus(nil), cs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Recall > sorted[j].Recall })
	for _, c := range sorted {
		fmt.Fprintf(w, "| %s | %d/%d | %.1f%% | %d/%d | %.2f%% |\n", cell(c.Engine), c.Positives, c.PosTotal, 100*c.Recall, c.NegAltered, c.NegTotal, 100*c.NegAlteredPct)
	}
	fmt.Fprintln(w)
}

func renderLoad(w io.Writer, ld *LoadSummary) {
	fmt.Fprintln(w, "#### Load A/B (reference service)")
	fmt.Fprintln(w)
	if ld == nil || ld.Summary.Pairs == 0 {
		fmt.Fprintln(w, "missing (no load results).")
		for _, e := range errorsOf(ld) {
			fmt.Fprintf(w, "\n- error: %s\n", firstLine(e))
		}
		fmt.Fprintln(w)
		return
	}
	c, s := ld.Config, ld.Summary
	quick := ""
	if c.Quick {
		quick = " **Quick run: smoke only, not a measurement.**"
	}
	backend := "OTLP/HTTP with gzip to a local receiver"
	if c.Exporter == "sentry" {
		backend = "a Sentry DSN pointing at a local receiver: spans over OTLP/HTTP with gzip, errors and Crons check-ins as envelopes"
	}
	if len(c.BEnv) > 0 {
		backend += "; **B's environment adds `" + strings.Join(c.BEnv, " ") + "`**"
	}
	fmt.Fprintf(w, "A = `OTEL_SDK_DISABLED=true`, B = full pipeline (production: 10%% head sampling + tail keep; %s). "+
		"%d pair(s), order %s; fixed rate %.0f rps for %.0f s; saturation %.0f rps offered for %.0f s with %d in flight; "+
		"%d CPUs shared by the service, loadgen and the receiver. Medians over pairs.%s\n\n",
		backend, s.Pairs, c.Order, c.FixedRPS, c.FixedDurationS, c.SatRPS, c.SatDurationS, c.SatConcurrency, c.NumCPU, quick)
	fmt.Fprintln(w, "| Measure | A (off) | B (pipeline) | B/A |")
	fmt.Fprintln(w, "|---|---|---|---|")
	row := func(name string, v ab, ratio float64, f string) {
		r := "—"
		if !math.IsNaN(ratio) && !math.IsInf(ratio, 0) {
			r = fmt.Sprintf("%.3f", ratio)
		}
		fmt.Fprintf(w, "| %s | "+f+" | "+f+" | %s |\n", name, v.A, v.B, r)
	}
	row("throughput at saturation (rps)", s.SatRPS, s.ThroughputRatio, "%.0f")
	row("p50 at fixed rate (ms)", s.P50MS, s.P50Ratio, "%.1f")
	row("p99 at fixed rate (ms)", s.P99MS, s.P99Ratio, "%.1f")
	row("p50 at saturation (ms)", s.SatP50MS, s.SatP50Ratio, "%.1f")
	row("p99 at saturation (ms)", s.SatP99MS, s.SatP99Ratio, "%.1f")
	row("CPU s per 1000 requests, fixed rate", s.CPUPer1k, s.CPUPer1kRatio, "%.4f")
	row("CPU s per 1000 requests, saturation", s.SatCPUPer1k, s.SatCPUPer1kRatio, "%.4f")
	row("service cores busy at saturation", s.SatCoresBusy, safeRatio(s.SatCoresBusy), "%.2f")
	row("loadgen CPU s per 1000 requests, saturation (same machine)", s.LoadgenPer1k, safeRatio(s.LoadgenPer1k), "%.4f")
	if s.HarnessPer1k.B > 0 {
		row("receiver (bench/load) CPU s per 1000 requests, saturation (same machine)", s.HarnessPer1k, safeRatio(s.HarnessPer1k), "%.4f")
	}
	row("peak RSS (MB)", s.PeakRSSMB, safeRatio(s.PeakRSSMB), "%.1f")
	row("error rate (400s, simulated 502s)", s.ErrorRate, safeRatio(s.ErrorRate), "%.4f")
	fmt.Fprintln(w)
	renderPairs(w, ld.Pairs)
	t := s.Spans
	fmt.Fprintf(w, "Spans in the B runs (summed): %d started, %d exported (%d received), %d dropped by the tail stage (%d for a reason other than sampled_out); "+
		"dropped: queue_full %d, export_failed %d, lost at shutdown %d; **uncounted %d**, export mismatch %d.\n\n",
		t.Started, t.Exported, t.Exported-t.ExportMismatch, t.TailDropped, t.TailOther, t.QueueFull, t.ExportFailed, t.LostAtShutdown, t.Uncounted, t.ExportMismatch)
	if c.Exporter == "sentry" {
		fmt.Fprintf(w, "Sentry: %d error events captured, %d envelopes received (events and check-ins).\n\n", s.ErrorEvents, s.Envelopes)
	}
	for _, e := range errorsOf(ld) {
		fmt.Fprintf(w, "- error: %s\n", firstLine(e))
	}
}

// renderLoadSDK puts the load A/B whose B was the bare OpenTelemetry SDK
// beside the pipeline's: what the cheapest sampled OpenTelemetry set-up
// keeps of the same service's throughput, in a session of its own (its own
// A runs), so the two are compared as ratios only.
func renderLoadSDK(w io.Writer, pipeline, sdk *LoadSummary) {
	if sdk == nil || sdk.Summary.Pairs == 0 {
		return
	}
	fmt.Fprintln(w, "Reference, no target: the same A/B with B = the bare OpenTelemetry SDK (`go run ./load -b sdk`: "+
		"`bench/cmd/sdkapp`, `parentbased_traceidratio` 0.1, the SDK's batch span processor, OTLP/HTTP with gzip to the same receiver; "+
		"no tail keep, no request context on child spans, no redaction, no error events, no drop accounting), in a session of its own after the pipeline's.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| B | pairs | throughput at saturation, B/A | each pair | CPU s per 1000 requests at saturation, B/A | p99 at fixed rate, B/A |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	row := func(name string, ld *LoadSummary) {
		if ld == nil || ld.Summary.Pairs == 0 {
			fmt.Fprintf(w, "| %s | missing | | | | |\n", name)
			return
		}
		s := ld.Summary
		quick := ""
		if ld.Config.Quick {
			quick = " (quick)"
		}
		fmt.Fprintf(w, "| %s | %d%s | %.3f | %s | %.3f | %.3f |\n", name, s.Pairs, quick, s.ThroughputRatio,
			pairList(ld.Pairs, func(p loadresult.Pair) float64 { return p.ThroughputRatio }), s.SatCPUPer1kRatio, s.P99Ratio)
	}
	row("full pipeline (the table above)", pipeline)
	row("bare OpenTelemetry SDK at 10 %", sdk)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "The bare SDK's B runs: the receiver got %d spans.\n\n", sdk.Summary.ReceivedSpans)
	for _, e := range errorsOf(sdk) {
		fmt.Fprintf(w, "- error (-b sdk): %s\n", firstLine(e))
	}
}

// renderPairs gives each pair's B/A beside the medians above: on a shared
// machine one pair's throughput ratio can sit far from another's, and the
// reader should see how far.
func renderPairs(w io.Writer, pairs []loadresult.Pair) {
	if len(pairs) < 2 {
		return
	}
	list := func(f func(loadresult.Pair) float64) string { return pairList(pairs, f) }
	fmt.Fprintf(w, "Each pair's B/A, in order: throughput at saturation %s; CPU per 1000 requests at saturation %s; p99 at fixed rate %s.\n\n",
		list(func(p loadresult.Pair) float64 { return p.ThroughputRatio }),
		list(func(p loadresult.Pair) float64 { return p.SatCPUPer1kRatio }),
		list(func(p loadresult.Pair) float64 { return p.P99Ratio }))
}

// pairList is one figure of each pair, in order: "0.970, 0.910, 1.020".
func pairList(pairs []loadresult.Pair, f func(loadresult.Pair) float64) string {
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = fmt.Sprintf("%.3f", f(p))
	}
	return strings.Join(parts, ", ")
}

func errorsOf(ld *LoadSummary) []string {
	if ld == nil {
		return nil
	}
	return ld.Errors
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func safeRatio(v ab) float64 {
	if v.A == 0 {
		return math.NaN()
	}
	return v.B / v.A
}

func renderMachine(w io.Writer, in Input) {
	m := in.Machine
	cpu := m.CPUModel
	if in.Bench != nil {
		if gt := strings.TrimSpace(in.Bench.Config["cpu"]); gt != "" && gt != cpu {
			if cpu == "" {
				cpu = gt
			} else {
				cpu += " (go test: " + gt + ")"
			}
		}
	}
	orDash := func(s string) string {
		if strings.TrimSpace(s) == "" {
			return "—"
		}
		return s
	}
	fmt.Fprintln(w, "#### Machine")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| | |")
	fmt.Fprintln(w, "|---|---|")
	fmt.Fprintf(w, "| Go | %s |\n", cell(orDash(m.GoVersion)))
	fmt.Fprintf(w, "| CPUs (nproc) | %s |\n", cell(orDash(m.NumCPU)))
	fmt.Fprintf(w, "| CPU | %s |\n", cell(orDash(cpu)))
	if m.Kernel != "" {
		fmt.Fprintf(w, "| kernel | %s |\n", cell(m.Kernel))
	}
	fmt.Fprintf(w, "| date | %s |\n", cell(orDash(m.Date)))
	fmt.Fprintf(w, "| commit | %s |\n", cell(orDash(m.Commit)))
	fmt.Fprintln(w)
}
