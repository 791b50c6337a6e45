//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

type corpusLine struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	Text    string   `json:"text"`
	Key     string   `json:"key"`
	Secret  string   `json:"secret"`
	Secrets []string `json:"secrets"`
}

// corpusPath finds the team's labelled PII corpus: OTELSENTRY_PII_CORPUS,
// else shared/pii/corpus.jsonl beside the repository.
func corpusPath(t *testing.T) string {
	if p := os.Getenv("OTELSENTRY_PII_CORPUS"); p != "" {
		return p
	}
	p := filepath.Join(filepath.Dir(repoRoot(t)), "shared", "pii", "corpus.jsonl")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no PII corpus at %s (set OTELSENTRY_PII_CORPUS): the Collector's recall is measured where the corpus is", p)
	}
	return p
}

// TestCollectorRedactionCorpus measures the gateway's redaction stage on
// the labelled corpus, each text as an attribute value (under its key when
// the line has one) — the fields the processor scans. It reports per-kind
// recall and the negatives' pass rate; it fails only below floors that the
// pinned config reaches, so a regression in collector/gateway.yaml shows.
func TestCollectorRedactionCorpus(t *testing.T) {
	path := corpusPath(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []corpusLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l corpusLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		lines = append(lines, l)
	}

	sink := fakebackend.NewOTLP(t)
	col := startCollector(t, "collector", []string{"gateway.yaml"}, map[string]string{
		"SENTRY_DSN":                         sentryDSN(sink),
		"COLLECTOR_TRACES_EXPORTERS":         "otlp_http/sentry",
		"COLLECTOR_TAIL_SAMPLING_PERCENTAGE": "100",
		"COLLECTOR_TAIL_DECISION_WAIT":       "1s",
		"COLLECTOR_BATCH_TIMEOUT":            "200ms",
	})
	now := time.Now()
	var spans []*tracepb.Span
	for _, l := range lines {
		key := l.Key
		if key == "" {
			key = "app.text"
		}
		spans = append(spans, &tracepb.Span{TraceId: randomID(16), SpanId: randomID(8), Name: "corpus",
			StartTimeUnixNano: uint64(now.UnixNano()), EndTimeUnixNano: uint64(now.Add(time.Millisecond).UnixNano()),
			Attributes: []*commonpb.KeyValue{str("corpus.id", l.ID), str(key, l.Text)}})
	}
	postOTLP(t, col.http, otlpRequest(nil, spans...))
	if !eventually(30*time.Second, func() bool { return len(sink.Spans()) >= len(lines) }) {
		t.Fatalf("%d of %d corpus spans arrived", len(sink.Spans()), len(lines))
	}
	out := map[string]string{} // id → the value after redaction
	for _, s := range sink.Spans() {
		id, _ := fakebackend.SpanAttr(s, "corpus.id")
		for _, kv := range s.Attributes {
			if kv.Key != "corpus.id" && !strings.HasPrefix(kv.Key, "redaction.") {
				out[id] = kv.Value.GetStringValue()
			}
		}
	}
	type score struct{ ok, n int }
	kinds := map[string]*score{}
	var misses []string
	for _, l := range lines {
		got := out[l.ID]
		s := kinds[l.Kind]
		if s == nil {
			s = &score{}
			kinds[l.Kind] = s
		}
		s.n++
		if l.Kind == "negative" {
			if got == l.Text {
				s.ok++
			} else {
				misses = append(misses, fmt.Sprintf("negative %s changed: %q → %q", l.ID, l.Text, got))
			}
			continue
		}
		secrets := l.Secrets
		if l.Secret != "" {
			secrets = append(secrets, l.Secret)
		}
		leaked := false
		for _, sec := range secrets {
			if strings.Contains(got, sec) {
				leaked = true
			}
		}
		if leaked {
			misses = append(misses, fmt.Sprintf("%s %s leaked: %q", l.Kind, l.ID, got))
		} else {
			s.ok++
		}
	}
	var names []string
	pos, posOK := 0, 0
	for k, s := range kinds {
		names = append(names, k)
		if k != "negative" {
			pos += s.n
			posOK += s.ok
		}
	}
	sort.Strings(names)
	var report strings.Builder
	for _, k := range names {
		fmt.Fprintf(&report, "  %-16s %3d/%-3d\n", k, kinds[k].ok, kinds[k].n)
	}
	neg := kinds["negative"]
	t.Logf("RESULT collector redaction on the corpus (%s): positives fully redacted %d/%d (%.1f%%), negatives untouched %d/%d (%.1f%%)\n%s",
		filepath.Base(path), posOK, pos, 100*float64(posOK)/float64(pos), neg.ok, neg.n, 100*float64(neg.ok)/float64(neg.n), report.String())
	for _, m := range misses {
		t.Log(m)
	}
	if r := float64(posOK) / float64(pos); r < 0.97 {
		t.Errorf("recall %.2f below the 0.97 floor", r)
	}
	if r := float64(neg.ok) / float64(neg.n); r < 0.95 {
		t.Errorf("negatives pass rate %.2f below the 0.95 floor", r)
	}
}
