package redact

import (
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
