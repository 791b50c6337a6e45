package piicorpus

import (
	"strings"
	"testing"
)

func TestParseNamesTheBadLine(t *testing.T) {
	_, err := Parse("c.jsonl", []byte("{\"id\":\"a\",\"kind\":\"email\",\"text\":\"x\",\"secret\":\"x\"}\n\nnot json\n"))
	if err == nil || !strings.Contains(err.Error(), "c.jsonl:3") {
		t.Fatalf("err = %v, want one naming c.jsonl:3", err)
	}
	if _, err := Parse("e.jsonl", nil); err == nil {
		t.Fatal("an empty corpus parsed")
	}
}

func TestScore(t *testing.T) {
	lines := []Line{
		{ID: "p1", Kind: "email", Text: "mail a@b.example", Secret: "a@b.example"},
		{ID: "p2", Kind: "mixed", Text: "k1 k2", Secrets: []string{"k1", "k2"}},
		{ID: "n1", Kind: "negative", Text: "trace 4bf9"},
		{ID: "n2", Kind: "negative", Text: "v1.2.3.4"},
	}
	out := map[string]string{"p1": "mail [EMAIL_REDACTED]", "p2": "[X] k2", "n1": "trace 4bf9", "n2": "v[IP_REDACTED]"}
	r := Score(lines, func(l Line) []string { return []string{out[l.ID]} })
	if ok, total := r.Recall(); ok != 1 || total != 2 {
		t.Errorf("recall %d/%d, want 1/2 (p2 leaks k2)", ok, total)
	}
	if r.NegOK != 1 || r.NegTotal != 2 {
		t.Errorf("negatives %d/%d, want 1/2", r.NegOK, r.NegTotal)
	}
	if len(r.Failures) != 2 {
		t.Errorf("failures = %q, want the leak and the altered negative", r.Failures)
	}
}
