package sampling

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRulesErrors(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want string
	}{
		{"rules: [", "line 1"},
		{"- a\n", "line 1: want a mapping"},
		{"rule:\n  - name: x\n    rate: 1\n", `line 1: unknown key "rule"`},
		{"rules: x\n", `line 1: "rules" must be a list`},
		{"rules:\n  - name: a\n    rate: 1\n  - name: b\n    rate: lots\n", `line 5: rule 2: rate "lots" is not a number`},
		{"rules:\n  - name: a\n", "line 2: rule 1: rate is missing"},
		{"rules:\n  - name: a\n    rate: 1\n    route: [1]\n", "line 4: rule 1: route must be a single value"},
		{"rules:\n  - rate: 1\n", "line 2: rule 1"},
		{"rules:\n  - x\n", "line 2: rule 1: want a mapping"},
	} {
		_, err := ParseRules([]byte(tc.yaml), "f.yaml")
		var rfe *RuleFileError
		if err == nil || !errors.As(err, &rfe) || !strings.Contains(err.Error(), "sampling rules file f.yaml: "+tc.want) {
			t.Errorf("ParseRules(%q) = %v; want an error containing %q", tc.yaml, err, tc.want)
		}
	}
	for _, ok := range []string{"", "# nothing\n", "rules:\n", "rules: []\n"} {
		if rules, err := ParseRules([]byte(ok), "f.yaml"); err != nil || len(rules) != 0 {
			t.Errorf("ParseRules(%q) = %v, %v; want no rules", ok, rules, err)
		}
	}
}

func TestLoadRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte("rules:\n  - route: GET /healthz\n    rate: 0\n  - name: POST /api/*\n    route: /api/*\n    rate: 0.5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := LoadRules(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{{Route: "GET /healthz"}, {Name: "POST /api/*", Route: "/api/*", Rate: 0.5}}
	if len(rules) != 2 || rules[0] != want[0] || rules[1] != want[1] {
		t.Fatalf("rules %v, want %v", rules, want)
	}
	if _, err := LoadRules(path + ".missing"); err == nil || !strings.Contains(err.Error(), path+".missing") {
		t.Fatalf("missing file: %v", err)
	}
}
