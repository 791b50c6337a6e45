package examples_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGuideSnippetsAreExamples keeps docs/GUIDE.md honest: every ```go block
// of it must appear, line for line, in an example file of this package —
// which the compiler checks. Leading indentation and blank lines are
// ignored, so a snippet may be a function body shown flush left.
func TestGuideSnippetsAreExamples(t *testing.T) {
	guide, err := os.ReadFile("../GUIDE.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(guide)
	if len(blocks) < 10 {
		t.Fatalf("found %d go blocks in GUIDE.md; the extraction is broken", len(blocks))
	}
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var src []string
	for _, f := range files {
		if f == "guide_test.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, normalized(b)...)
	}
	for _, b := range blocks {
		want := normalized([]byte(b.text))
		if len(want) == 0 {
			t.Errorf("GUIDE.md:%d: empty go block", b.line)
			continue
		}
		if n := longestRun(src, want); n < len(want) {
			t.Errorf("GUIDE.md:%d: go block not in docs/examples; first line that differs:\n\t%s", b.line, want[n])
		}
	}
}

type block struct {
	line int // of the opening fence, from 1
	text string
}

// goBlocks returns the bodies of the ```go fenced blocks of a Markdown text.
func goBlocks(md []byte) []block {
	var out []block
	var cur *block
	var body strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fence := strings.TrimSpace(line)
		switch {
		case cur == nil && fence == "```go":
			cur = &block{line: n}
			body.Reset()
		case cur != nil && fence == "```":
			cur.text = body.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	return out
}

// normalized is the non-blank lines of b, trimmed.
func normalized(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// longestRun is the length of the longest prefix of want that appears as a
// contiguous run of lines in src.
func longestRun(src, want []string) int {
	best := 0
	for i := range src {
		n := 0
		for n < len(want) && i+n < len(src) && src[i+n] == want[n] {
			n++
		}
		if n > best {
			best = n
		}
		if best == len(want) {
			break
		}
	}
	return best
}
