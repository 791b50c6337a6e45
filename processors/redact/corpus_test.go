package redact

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/otelsentry/otelsentry/internal/piicorpus"
)

// corpusLine is one labelled string of shared/pii/corpus.jsonl.
type corpusLine = piicorpus.Line

func loadCorpus(t *testing.T) []corpusLine {
	t.Helper()
	_, _, lines := piicorpus.Require(t)
	return lines
}

// redactions returns every output the engine makes of a corpus line
// (piicorpus.Outputs: under its key, else as free text and under a
// neutral key).
func redactions(e *Engine, l corpusLine) []string { return piicorpus.Outputs(e, l) }

func TestCorpus(t *testing.T) {
	lines := loadCorpus(t)
	e := Default()
	r := piicorpus.Score(lines, func(l corpusLine) []string { return redactions(e, l) })
	r.Check(t, "engine", 1, 0.01)

	// Idempotence over real data: redacting the output again changes nothing.
	for _, l := range lines {
		for _, o := range redactions(e, l) {
			again := redactions(e, corpusLine{Key: l.Key, Text: o})
			for _, a := range again {
				if a != o {
					t.Errorf("%s: not idempotent:\n  once:  %s\n  twice: %s", l.ID, o, a)
				}
			}
		}
	}
}

// TestHoldout scores the engine on testdata/holdout*.jsonl: labelled sets
// in the corpus's format, each written apart from the engine (by an author
// who read neither its source nor the shared corpus nor the other sets), to
// estimate how it does on strings it was not tuned on — as the issue's
// unseen set will be judged. Each found gaps when it was added; those were
// fixed, so they are regression sets now, and a new set is the next
// estimate.
func TestHoldout(t *testing.T) {
	names, err := filepath.Glob("testdata/holdout*.jsonl")
	if err != nil || len(names) == 0 {
		t.Fatalf("no holdout sets (%v)", err)
	}
	e := Default()
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			lines, err := piicorpus.Parse(name, data)
			if err != nil {
				t.Fatal(err)
			}
			r := piicorpus.Score(lines, func(l corpusLine) []string { return redactions(e, l) })
			r.Check(t, "engine ("+filepath.Base(name)+")", 1, 0.01)
		})
	}
}
