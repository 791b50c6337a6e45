package piicorpus

import (
	"sort"
	"strings"
	"testing"
)

// Report is how a redactor did on the corpus: recall of positives per kind
// and how many negatives came out unchanged.
type Report struct {
	PosTotal, PosOK map[string]int
	NegTotal, NegOK int
	Failures        []string // one line per leak or altered negative
}

// Redactor is the two entry points of an in-process redactor, as
// processors/redact.Engine and internal/regexpscrub.Scrubber have them.
type Redactor interface {
	String(text string) (string, bool)
	Attr(key, value string) (string, bool)
}

// Outputs applies r to l the way the span processor places corpus text:
// under the line's key when it has one, else both as free text (a span
// name, a status) and as the value of a neutral attribute.
func Outputs(r Redactor, l Line) []string {
	if l.Key != "" {
		out, _ := r.Attr(l.Key, l.Text)
		return []string{out}
	}
	a, _ := r.String(l.Text)
	b, _ := r.Attr("exception.message", l.Text)
	return []string{a, b}
}

// Score runs outputs over every line — all the strings a redactor made of
// it (a line may be placed in several span fields) — and scores them: a
// positive passes when no output holds any of its secrets, a negative when
// every output equals its text.
func Score(lines []Line, outputs func(Line) []string) Report {
	r := Report{PosTotal: map[string]int{}, PosOK: map[string]int{}}
	for _, l := range lines {
		outs := outputs(l)
		if l.Kind == "negative" {
			r.NegTotal++
			ok := true
			for _, o := range outs {
				if o != l.Text {
					ok = false
					r.Failures = append(r.Failures, "negative "+l.ID+" ("+l.Category+") altered:\n  in:  "+l.Text+"\n  out: "+o)
					break
				}
			}
			if ok {
				r.NegOK++
			}
			continue
		}
		r.PosTotal[l.Kind]++
		ok := true
		for _, o := range outs {
			for _, s := range l.SecretList() {
				if strings.Contains(o, s) {
					ok = false
					r.Failures = append(r.Failures, "positive "+l.ID+" leaks "+s+":\n  out: "+o)
				}
			}
		}
		if ok {
			r.PosOK[l.Kind]++
		}
	}
	return r
}

// Recall is the positives fully redacted, over all kinds.
func (r Report) Recall() (ok, total int) {
	for k, n := range r.PosTotal {
		total += n
		ok += r.PosOK[k]
	}
	return ok, total
}

// Check logs per-kind recall, the negatives' pass rate and every failure,
// then fails the test when recall is below minRecall or more than
// maxAltered of the negatives changed (fractions in [0, 1]).
func (r Report) Check(t testing.TB, name string, minRecall, maxAltered float64) {
	t.Helper()
	kinds := make([]string, 0, len(r.PosTotal))
	for k := range r.PosTotal {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Logf("%s recall %-16s %3d/%-3d %6.1f%%", name, k, r.PosOK[k], r.PosTotal[k], 100*float64(r.PosOK[k])/float64(r.PosTotal[k]))
	}
	ok, total := r.Recall()
	if total == 0 || r.NegTotal == 0 {
		t.Fatalf("%s: corpus has %d positives and %d negatives; want both", name, total, r.NegTotal)
	}
	t.Logf("%s recall %-16s %3d/%-3d %6.1f%%", name, "ALL", ok, total, 100*float64(ok)/float64(total))
	t.Logf("%s negatives unchanged   %3d/%-3d %6.1f%%", name, r.NegOK, r.NegTotal, 100*float64(r.NegOK)/float64(r.NegTotal))
	for _, f := range r.Failures {
		t.Log(f)
	}
	if float64(ok) < minRecall*float64(total) {
		t.Errorf("%s: recall %d/%d below %.0f%%", name, ok, total, 100*minRecall)
	}
	if altered := r.NegTotal - r.NegOK; float64(altered) > maxAltered*float64(r.NegTotal) {
		t.Errorf("%s: %d/%d negatives altered, at most %.0f%% allowed", name, altered, r.NegTotal, 100*maxAltered)
	}
}
