// Command benchtable turns the benchmark suite's raw outputs into the
// markdown report of docs/PERFORMANCE.md: the TARGETS table first, then every
// benchmark (medians it computes itself from every -count line), the PII
// corpus scores, the load A/B and the machine, with benchstat's output (for
// the confidence intervals) as an appendix.
//
//	benchtable -bench bench.txt -bench redaction.txt -corpus corpus.txt \
//	    -load load.json -benchstat benchstat.txt > report.md
//
// A missing or unreadable input is reported as "missing" in the tables; the
// command fails only when it cannot write its output.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var benchFiles, notes multiFlag
	flag.Var(&benchFiles, "bench", "go test -bench output (repeatable; also positional arguments)")
	corpusFile := flag.String("corpus", "", "the corpus file written through BENCH_CORPUS_OUT")
	loadFile := flag.String("load", "", "the JSON written by bench/load -out")
	loadSDKFile := flag.String("load-sdk", "", "the JSON written by bench/load -b sdk -out (the reference row: B = the bare OpenTelemetry SDK)")
	benchstatFile := flag.String("benchstat", "", "benchstat's output, included as an appendix")
	out := flag.String("o", "", "write the report here (default stdout)")
	flag.Var(&notes, "note", "a line to put above the tables (repeatable)")
	flag.Parse()
	benchFiles = append(benchFiles, flag.Args()...)

	in := Input{Notes: notes, Machine: machine()}
	var warnings []string
	warn := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		warnings = append(warnings, msg)
		fmt.Fprintln(os.Stderr, "benchtable:", msg)
	}

	res := &Results{}
	for _, f := range benchFiles {
		fh, err := os.Open(f)
		if err != nil {
			warn("%v", err)
			continue
		}
		if err := Parse(fh, res); err != nil {
			warn("%s: %v", f, err)
		}
		fh.Close()
	}
	in.Bench = res
	if *corpusFile != "" {
		if fh, err := os.Open(*corpusFile); err != nil {
			warn("%v", err)
		} else {
			if in.Corpus, err = ParseCorpus(fh); err != nil {
				warn("%s: %v", *corpusFile, err)
			}
			fh.Close()
		}
	}
	if *loadFile != "" {
		if ld, err := readLoad(*loadFile, "pipeline"); err != nil {
			warn("%v", err)
		} else {
			in.Load = ld
		}
	}
	if *loadSDKFile != "" {
		if ld, err := readLoad(*loadSDKFile, "sdk"); err != nil {
			warn("%v", err)
		} else {
			in.LoadSDK = ld
		}
	}
	if *benchstatFile != "" {
		if b, err := os.ReadFile(*benchstatFile); err != nil {
			warn("%v", err)
		} else {
			in.Benchstat = string(b)
		}
	}
	for _, w := range warnings {
		in.Notes = append(in.Notes, "input problem: "+w)
	}

	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	Render(bw, in)
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// machine describes this machine; every field is best effort.
func machine() Machine {
	m := Machine{
		GoVersion: goVersion(),
		NumCPU:    strconv.Itoa(runtime.NumCPU()),
		CPUModel:  cpuModel(),
		Date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Commit:    gitCommit(),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = runtime.GOOS + "/" + runtime.GOARCH + " " + strings.TrimSpace(string(b))
	} else {
		m.Kernel = runtime.GOOS + "/" + runtime.GOARCH
	}
	return m
}

func goVersion() string {
	if b, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		if v := strings.TrimSpace(string(b)); v != "" {
			return v
		}
	}
	return runtime.Version()
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func gitCommit() string {
	b, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(b))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += " (work tree modified)"
	}
	return c
}

// readLoad reads bench/load's JSON of a session whose B ran want
// ("pipeline" or "sdk", bench/load's -b). The load targets are the
// pipeline's, and the reference row the bare SDK's: a session of the other
// kind is refused, naming the file.
func readLoad(path, want string) (*LoadSummary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ld LoadSummary
	if err := json.Unmarshal(b, &ld); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	svc := ld.Config.BService
	if svc == "" {
		svc = "pipeline" // written before -b existed
	}
	if svc != want {
		return nil, fmt.Errorf("%s: B ran %q, not %q; its rows are left missing", path, svc, want)
	}
	return &ld, nil
}
