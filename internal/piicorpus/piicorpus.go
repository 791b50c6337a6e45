// Package piicorpus finds and reads the team's labelled PII corpus
// (shared/pii/corpus.jsonl, see its README) for the tests that score a
// redactor on it: the engine, the `redact -jsonl` command and the
// Collector's redaction stage. It is internal: a test helper.
package piicorpus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EnvPath names the corpus file explicitly, overriding the search.
const EnvPath = "OTELSENTRY_PII_CORPUS"

// Line is one labelled string: a positive names the secrets that must not
// survive redaction, a negative (Kind "negative") must come out unchanged.
// When Key is set, Text is the value of an attribute with that key.
type Line struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Text     string   `json:"text"`
	Key      string   `json:"key,omitempty"`
	Secret   string   `json:"secret,omitempty"`
	Secrets  []string `json:"secrets,omitempty"`
	Kinds    []string `json:"kinds,omitempty"`
	Category string   `json:"category,omitempty"`
}

// SecretList is every secret of a positive line.
func (l Line) SecretList() []string {
	if l.Secret != "" {
		return append([]string{l.Secret}, l.Secrets...)
	}
	return l.Secrets
}

// Find returns the corpus path: $OTELSENTRY_PII_CORPUS, else
// shared/pii/corpus.jsonl in the working directory or its nearest ancestor
// that has one (CI clones the repository beside a copy of shared/). tried
// lists the places looked at.
func Find() (path string, tried []string, err error) {
	if p := os.Getenv(EnvPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", []string{p}, fmt.Errorf("%s=%s: %w", EnvPath, p, err)
		}
		return p, []string{p}, nil
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		return "", nil, err
	}
	for {
		p := filepath.Join(dir, "shared", "pii", "corpus.jsonl")
		tried = append(tried, p)
		if _, err := os.Stat(p); err == nil {
			return p, tried, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", tried, fmt.Errorf("PII corpus not found (set %s); looked at:\n  %s", EnvPath, strings.Join(tried, "\n  "))
		}
		dir = parent
	}
}

// Parse reads corpus lines from data; errors name the line number.
func Parse(name string, data []byte) ([]Line, error) {
	var lines []Line
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: empty corpus", name)
	}
	return lines, nil
}

// Require finds and reads the corpus. Without one, the test fails under
// CI=true (CI always has shared/ beside the clone) and is skipped elsewhere.
func Require(t testing.TB) (path string, raw []byte, lines []Line) {
	t.Helper()
	path, _, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	raw, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines, err = Parse(path, raw); err != nil {
		t.Fatal(err)
	}
	t.Logf("corpus: %s (%d lines)", path, len(lines))
	return path, raw, lines
}
