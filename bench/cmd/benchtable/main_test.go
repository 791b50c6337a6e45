package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/bench/internal/loadresult"
)

func loadFixture(t *testing.T) Input {
	t.Helper()
	f, err := os.Open("testdata/bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res := &Results{}
	if err := Parse(f, res); err != nil {
		t.Fatal(err)
	}
	cf, err := os.Open("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	corpus, err := ParseCorpus(cf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/load.json")
	if err != nil {
		t.Fatal(err)
	}
	var ld LoadSummary
	if err := json.Unmarshal(b, &ld); err != nil {
		t.Fatal(err)
	}
	return Input{Bench: res, Corpus: corpus, Load: &ld, Machine: Machine{GoVersion: "go1.26.8", NumCPU: "2", CPUModel: "Test CPU", Date: "2026-01-01 00:00 UTC", Commit: "abc123"}}
}

func TestParse(t *testing.T) {
	in := loadFixture(t)
	r := in.Bench

	if got := len(r.Order); got != 20 {
		t.Errorf("parsed %d benchmarks, want 20: %v", got, r.Order)
	}
	for _, name := range []string{
		"BenchmarkSpan/sdk=bare", "BenchmarkSpan/pipeline=1.0/span=clean",
		"BenchmarkRequest/handler=otelhttp+pipeline", "BenchmarkRedaction/engine=otelsentry/span=clean",
	} {
		if r.Get(name) == nil {
			t.Errorf("%s not parsed (have %v)", name, r.Order)
		}
	}
	if r.Get("BenchmarkSpan/sdk=bare-2") != nil {
		t.Error("the -2 GOMAXPROCS suffix was kept")
	}

	s := r.Get(nameS)
	if len(s.Samples) != 3 || s.Procs != 2 || s.Pkg != "github.com/otelsentry/otelsentry/bench" {
		t.Errorf("S: %d samples, procs %d, pkg %q", len(s.Samples), s.Procs, s.Pkg)
	}
	if v, _ := s.Median(unitNs); v != 1000 {
		t.Errorf("S median ns/op = %v, want 1000 (of 1000, 990, 1200)", v)
	}
	if v, _ := s.Median(unitAllocs); v != 6 {
		t.Errorf("S allocs/op = %v", v)
	}
	// Even count: the mean of the middle two.
	if v, _ := r.Get(redactName("otelsentry", "clean")).Median(unitNs); v != 81.25 {
		t.Errorf("otelsentry clean median = %v, want 81.25", v)
	}
	if got := r.Get(redactName("otelsentry", "clean")).Pkg; got != "github.com/otelsentry/otelsentry/bench/redaction" {
		t.Errorf("redaction pkg = %q", got)
	}

	// Extra ReportMetric columns, in order, beside the standard ones.
	exp := r.Get("BenchmarkExport/gzip=on")
	if exp == nil {
		t.Fatal("BenchmarkExport/gzip=on missing")
	}
	want := []string{"ns/op", "spans/s", "B/span", "dropped", "lost", "B/op", "allocs/op"}
	if strings.Join(exp.Units, ",") != strings.Join(want, ",") {
		t.Errorf("units = %v, want %v", exp.Units, want)
	}
	if v, _ := exp.Median("B/span"); v != 40.25 {
		t.Errorf("B/span = %v", v)
	}
	if v, _ := r.Get("BenchmarkSpan/sdk=ratio0.1").Median("exported/op"); v != 0.1003 {
		t.Errorf("exported/op = %v", v)
	}
	if r.Config["cpu"] != "Intel(R) Xeon(R) CPU @ 2.20GHz" {
		t.Errorf("cpu = %q", r.Config["cpu"])
	}
	if _, ok := r.Get("BenchmarkMissing").Median(unitNs); ok {
		t.Error("a missing benchmark has a median")
	}
}

func TestParseOddLines(t *testing.T) {
	res := &Results{}
	in := strings.Join([]string{
		"BenchmarkLonely-2",                      // a name alone (output interleaved): ignored
		"BenchmarkBad-2   100   abc ns/op",       // not a number
		"BenchmarkHalf-2   100   12 ns/op   7",   // odd field count
		"BenchmarkNoSuffix   100   12 ns/op",     // GOMAXPROCS=1 prints no suffix
		"BenchmarkTab/x=a+b-16\t100\t12.5 ns/op", // tabs, -16 suffix
		"    bench_test.go:12: BenchmarkFake 1 2 ns/op",
	}, "\n")
	if err := Parse(strings.NewReader(in), res); err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Order, " ") != "BenchmarkNoSuffix BenchmarkTab/x=a+b" {
		t.Errorf("order = %v", res.Order)
	}
	if b := res.Get("BenchmarkTab/x=a+b"); b.Procs != 16 {
		t.Errorf("procs = %d", b.Procs)
	}
}

func TestParseCorpus(t *testing.T) {
	cs, err := ParseCorpus(strings.NewReader("noise\ncorpus engine=otelsentry positives=99/100 negatives_altered=2/400\n    redaction_test.go:470: corpus engine=regexp positives=1/2 negatives_altered=0/4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Engine != "otelsentry" || cs[0].Recall != 0.99 || cs[0].NegAlteredPct != 0.005 || cs[1].Engine != "regexp" {
		t.Errorf("corpus = %+v", cs)
	}
}

func TestTargets(t *testing.T) {
	in := loadFixture(t)
	got := map[string]Target{}
	for _, tg := range Targets(in) {
		if _, dup := got[tg.Name]; dup {
			t.Errorf("duplicate target %q", tg.Name)
		}
		got[tg.Name] = tg
	}
	want := map[string]struct{ measured, status string }{
		"full pipeline, rate 1.0, clean span":                                                  {"1.100 S", statusMet},
		"allocs/op, pipeline rate 1.0 clean span vs S (no allocation beyond the SDK's)":        {"6 vs 6", statusMet},
		"pipeline, rate 0.1, clean span":                                                       {"1.400 S", statusNotMet},
		"redaction engine=otelsentry, clean span":                                              {"0.081 S", statusMet},
		"redaction engine=otelsentry, clean span: allocs/op":                                   {"0", statusMet},
		"redaction engine=otelsentry, PII span":                                                {"0.450 S", statusMet},
		"otelsentry faster than collector, clean span (collector / otelsentry)":                {"49.2×", statusMet},
		"otelsentry faster than regexp, clean span (regexp / otelsentry)":                      {"14.8×", statusNotMet},
		"otelsentry faster than collector, pii span (collector / otelsentry)":                  {"20.0×", statusMet},
		"otelsentry faster than regexp, pii span (regexp / otelsentry)":                        {"44.4×", statusMet},
		"request: otelhttp+pipeline / otelhttp+sdk":                                            {"1.100", statusMet},
		"load: throughput at saturation, B/A":                                                  {"0.970", statusMet},
		"load: p99 latency at fixed rate, B/A":                                                 {"1.200", statusNotMet},
		"load: uncounted span drops (started − exported − counted drops; exported − received)": {"0 (of 1000 started)", statusMet},
		"corpus: otelsentry positives redacted":                                                {"100/100 (100.0%)", statusMet},
		"corpus: otelsentry negatives altered":                                                 {"1/200 (0.50%)", statusMet},
		"corpus: otelsentry has the best recall of the three":                                  {"otelsentry 100.0% vs regexp 80.0%, collector 70.0%", statusMet},
	}
	if len(got) != len(want) {
		t.Errorf("%d targets, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("target %q missing", name)
			continue
		}
		if g.Measured != w.measured || g.Status != w.status {
			t.Errorf("%s: measured %q status %q, want %q %q", name, g.Measured, g.Status, w.measured, w.status)
		}
	}
}

func TestTargetsFail(t *testing.T) {
	in := loadFixture(t)
	in.Corpus[0].Positives = 99 // otelsentry misses one
	in.Corpus[1].Positives = 100
	in.Corpus[1].Recall = 1
	in.Corpus[0].Recall = 0.99
	in.Load.Summary.Spans.Uncounted = 3
	byName := map[string]Target{}
	for _, tg := range Targets(in) {
		byName[tg.Name] = tg
	}
	for _, name := range []string{"corpus: otelsentry positives redacted", "corpus: otelsentry has the best recall of the three"} {
		if byName[name].Met() {
			t.Errorf("%s met: %+v", name, byName[name])
		}
	}
	for name, tg := range byName {
		if strings.HasPrefix(name, "load: uncounted") && (tg.Met() || tg.Measured != "3 (of 1000 started)") {
			t.Errorf("uncounted: %+v", tg)
		}
	}
}

func TestMissingInputs(t *testing.T) {
	for _, in := range []Input{{}, {Bench: &Results{}}, {Load: &LoadSummary{}}} {
		for _, tg := range Targets(in) {
			if tg.Status != statusMissing || tg.Measured != statusMissing {
				t.Errorf("%s: %+v with no input", tg.Name, tg)
			}
		}
		var b strings.Builder
		Render(&b, in)
		out := b.String()
		for _, want := range []string{"| Target | Measured ratio | Limit | Met? |", "`BenchmarkSpan/sdk=bare` | 0 | missing", "missing (no corpus file)", "missing (no load results)"} {
			if !strings.Contains(out, want) {
				t.Errorf("report without inputs lacks %q:\n%s", want, out)
			}
		}
	}
	// Only S missing: every ratio to S is missing, the others still computed.
	in := loadFixture(t)
	delete(in.Bench.Benches, nameS)
	for _, tg := range Targets(in) {
		if strings.HasSuffix(tg.Limit, " S") && tg.Status != statusMissing {
			t.Errorf("%s computed without S: %+v", tg.Name, tg)
		}
		if tg.Name == "request: otelhttp+pipeline / otelhttp+sdk" && tg.Status != statusMet {
			t.Errorf("request target lost with S: %+v", tg)
		}
	}
}

func TestRender(t *testing.T) {
	in := loadFixture(t)
	in.Benchstat = "goos: linux\nSpan/sdk=bare-2   1.000µ ± 2%\n"
	in.Notes = []string{"smoke run"}
	var b strings.Builder
	Render(&b, in)
	out := b.String()
	for _, want := range []string{
		"> smoke run",
		"14 met, 3 not met, 0 missing",
		"| full pipeline, rate 1.0, clean span | 1.100 S | ≤ 1.15 S | yes |",
		"| pipeline, rate 0.1, clean span | 1.400 S | ≤ 1.30 S | **NO** |",
		"| `BenchmarkSpan/sdk=bare` | 3 | 1000 | 512 | 6 | 1.000 | 1 exported/op, 0 dropped |",
		"| `BenchmarkExport/gzip=on` | 1 | 120000000 | 2500000 | 21000 | 120000 | 430000 spans/s, 40.2 B/span, 0 dropped, 0 lost |",
		"| `BenchmarkRequest/handler=otelhttp+pipeline` | 1 | 22000 |",
		"| `BenchmarkRedaction/engine=floor/span=pii` | 0 | missing |",
		"#### Service CPU per request (reference, no target)",
		"| `otelhttp+pipeline-0.1` | 150000 | 0.400 |",
		"| otelsentry | 100/100 | 100.0% | 1/200 | 0.50% |",
		"| throughput at saturation (rps) | 2000 | 1940 | 0.970 |",
		"| p99 at fixed rate (ms) | 350.0 | 420.0 | 1.200 |",
		"| receiver (bench/load) CPU s per 1000 requests, saturation (same machine) | 0.0020 | 0.0200 | 10.000 |",
		"**uncounted 0**",
		"Each pair's B/A, in order: throughput at saturation 0.970, 0.910, 1.020; CPU per 1000 requests at saturation 1.250, 1.300, 1.200; p99 at fixed rate 1.200, 1.300, 1.100.",
		"| CPU | Test CPU (go test: Intel(R) Xeon(R) CPU @ 2.20GHz) |",
		"| commit | abc123 |",
		"```text\ngoos: linux\nSpan/sdk=bare-2   1.000µ ± 2%\n```",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// A load session whose B was not the pipeline (bench/load -b sdk) cannot
// fill the pipeline's load rows: readLoad refuses it, naming the file.
func TestReadLoadRefusesAnotherB(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sdk := write("sdk.json", `{"version":1,"config":{"b_service":"sdk"},"summary":{"throughput_ratio":0.9}}`)
	if _, err := readLoad(sdk, "pipeline"); err == nil || !strings.Contains(err.Error(), "sdk.json") || !strings.Contains(err.Error(), `"sdk"`) {
		t.Errorf("readLoad(-b sdk session, pipeline) = %v, want an error naming the file and the B", err)
	}
	if ld, err := readLoad(sdk, "sdk"); err != nil || ld.Summary.ThroughputRatio != 0.9 {
		t.Errorf("readLoad(-b sdk session, sdk) = %+v, %v", ld, err)
	}
	for name, body := range map[string]string{
		"old.json":      `{"version":1,"config":{},"summary":{"throughput_ratio":0.9}}`,
		"pipeline.json": `{"version":1,"config":{"b_service":"pipeline"},"summary":{"throughput_ratio":0.9}}`,
	} {
		p := write(name, body)
		ld, err := readLoad(p, "pipeline")
		if err != nil || ld.Summary.ThroughputRatio != 0.9 {
			t.Errorf("readLoad(%s) = %+v, %v", name, ld, err)
		}
		if _, err := readLoad(p, "sdk"); err == nil {
			t.Errorf("readLoad(%s, sdk) accepted a pipeline session as the SDK's", name)
		}
	}
	if _, err := readLoad(write("bad.json", `{`), "pipeline"); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("readLoad(malformed) = %v, want an error naming the file", err)
	}
}

// With a -b sdk session, the load section ends with the reference row: both
// sessions' ratios side by side (each pair's too), and no target of its own.
func TestRenderLoadSDKReference(t *testing.T) {
	in := loadFixture(t)
	var before strings.Builder
	Render(&before, in)
	if strings.Contains(before.String(), "bare OpenTelemetry SDK at 10 %") {
		t.Fatal("reference row without a -b sdk session")
	}
	in.LoadSDK = &LoadSummary{
		Config: loadresult.Config{BService: "sdk"},
		Pairs:  []loadresult.Pair{{ThroughputRatio: 0.93}, {ThroughputRatio: 0.96}},
		Summary: loadresult.Summary{Pairs: 2, ThroughputRatio: 0.945, SatCPUPer1kRatio: 1.12, P99Ratio: 1.01,
			ReceivedSpans: 4321},
	}
	var b strings.Builder
	Render(&b, in)
	out := b.String()
	for _, want := range []string{
		"| full pipeline (the table above) | 3 | 0.970 | 0.970, 0.910, 1.020 |",
		"| bare OpenTelemetry SDK at 10 % | 2 | 0.945 | 0.930, 0.960 | 1.120 | 1.010 |",
		"the receiver got 4321 spans",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The targets are the pipeline's alone.
	if got, want := strings.Count(out, "| load: throughput at saturation, B/A |"), 1; got != want {
		t.Errorf("%d load throughput target rows, want %d", got, want)
	}
	if t.Failed() {
		t.Log(out)
	}
}
