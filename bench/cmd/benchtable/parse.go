package main

import (
	"bufio"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Bench is one benchmark's samples: one map of unit → value per result line
// (go test -count N prints N lines).
type Bench struct {
	Name    string // without the "-N" GOMAXPROCS suffix
	Pkg     string
	Procs   int // the GOMAXPROCS suffix, 0 when absent
	Samples []map[string]float64
	Units   []string // in first-seen order
}

// Median returns the median of unit over the samples that have it.
func (b *Bench) Median(unit string) (float64, bool) {
	if b == nil {
		return 0, false
	}
	var v []float64
	for _, s := range b.Samples {
		if x, ok := s[unit]; ok {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

func median(v []float64) float64 {
	x := slices.Clone(v)
	slices.Sort(x)
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

// Results are every benchmark of one or more go test outputs, with the
// configuration lines (goos, goarch, pkg, cpu) last seen.
type Results struct {
	Benches map[string]*Bench
	Order   []string // names in first-seen order
	Config  map[string]string
}

// Get returns the named benchmark, nil when missing.
func (r *Results) Get(name string) *Bench {
	if r == nil {
		return nil
	}
	return r.Benches[name]
}

var procsSuffix = regexp.MustCompile(`^(.*)-(\d+)$`)

// Parse reads `go test -bench` text output: result lines
//
//	BenchmarkName/sub=x+y-2   1000   1234 ns/op   12.5 spans/s   456 B/op   7 allocs/op
//
// and "key: value" configuration lines (pkg: switches the package). Any
// other line (PASS, ok, logs, --- BENCH) is ignored. A name's trailing
// "-N" is the GOMAXPROCS suffix and is removed.
func Parse(r io.Reader, into *Results) error {
	if into.Benches == nil {
		into.Benches = map[string]*Bench{}
	}
	if into.Config == nil {
		into.Config = map[string]string{}
	}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := configLine(line); ok {
			into.Config[k] = v
			if k == "pkg" {
				pkg = v
			}
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		// name, iterations, then value-unit pairs.
		if len(f) < 4 || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		sample := map[string]float64{}
		var units []string
		ok := true
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil || math.IsNaN(v) {
				ok = false
				break
			}
			sample[f[i+1]] = v
			units = append(units, f[i+1])
		}
		if !ok || len(sample) == 0 {
			continue
		}
		name, procs := f[0], 0
		if m := procsSuffix.FindStringSubmatch(name); m != nil {
			name = m[1]
			procs, _ = strconv.Atoi(m[2])
		}
		b := into.Benches[name]
		if b == nil {
			b = &Bench{Name: name, Pkg: pkg, Procs: procs}
			into.Benches[name] = b
			into.Order = append(into.Order, name)
		}
		b.Samples = append(b.Samples, sample)
		for _, u := range units {
			if !slices.Contains(b.Units, u) {
				b.Units = append(b.Units, u)
			}
		}
	}
	return sc.Err()
}

var configRE = regexp.MustCompile(`^([a-z][a-zA-Z0-9_-]*):\s+(.*\S)\s*$`)

// configLine recognises the "key: value" lines go test prints before the
// results (goos, goarch, pkg, cpu).
func configLine(line string) (string, string, bool) {
	m := configRE.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// Corpus is one engine's line of the PII corpus file.
type Corpus struct {
	Engine                string
	Positives, PosTotal   int
	NegAltered, NegTotal  int
	Recall, NegAlteredPct float64
}

var corpusRE = regexp.MustCompile(`corpus\s+engine=(\S+)\s+positives=(\d+)/(\d+)\s+negatives_altered=(\d+)/(\d+)`)

// ParseCorpus reads lines "corpus engine=NAME positives=X/Y
// negatives_altered=A/B" (anything else is ignored), in file order.
func ParseCorpus(r io.Reader) ([]Corpus, error) {
	var out []Corpus
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := corpusRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
		c := Corpus{Engine: m[1], Positives: atoi(m[2]), PosTotal: atoi(m[3]), NegAltered: atoi(m[4]), NegTotal: atoi(m[5])}
		if c.PosTotal > 0 {
			c.Recall = float64(c.Positives) / float64(c.PosTotal)
		}
		if c.NegTotal > 0 {
			c.NegAlteredPct = float64(c.NegAltered) / float64(c.NegTotal)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}
