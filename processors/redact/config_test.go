package redact

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeRules(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigFile(t *testing.T) {
	p := writeRules(t, `# team rules
disable: [phone]
allow:
  - customer.tier
  - "internal.*"
modes:
  email: hash
  credit_card: mask
rules:
  - name: employee_id
    pattern: 'EMP-[0-9]{6}'
    placeholder: '[EMPLOYEE_ID_REDACTED]'
  - name: pin
    key: pin
    mode: hash
`)
	cfg, err := LoadConfigFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Disable: []string{"phone"},
		Allow:   []string{"customer.tier", "internal.*"},
		Modes:   map[string]Mode{"email": ModeHash, "credit_card": ModeMask, "pin": ModeHash},
		Custom: []CustomRule{
			{Name: "employee_id", Pattern: "EMP-[0-9]{6}", Placeholder: "[EMPLOYEE_ID_REDACTED]"},
			{Name: "pin", Key: "pin"},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("LoadConfigFile:\n got %+v\nwant %+v", cfg, want)
	}
	cfg.HashKey = []byte("test-key")
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := e.String("EMP-123456 called +447700900631 about 4242 4242 4242 4242")
	if out != "[EMPLOYEE_ID_REDACTED] called +447700900631 about [CREDIT_CARD:…4242]" {
		t.Errorf("configured engine: %q", out)
	}
	if pin, _ := e.Attr("card.pin", "1234"); !strings.HasPrefix(pin, "[REDACTED:") || !isPlaceholderShape(pin) {
		t.Errorf("hashed custom key rule: %q", pin)
	}
}

func TestLoadConfigFileEmpty(t *testing.T) {
	for _, body := range []string{"", "# nothing\n", "---\n"} {
		cfg, err := LoadConfigFile(writeRules(t, body))
		if err != nil || !reflect.DeepEqual(cfg, Config{}) {
			t.Errorf("%q: %+v, %v; want the zero Config", body, cfg, err)
		}
	}
}

// TestLoadConfigFileErrors checks that every error names the file, the line
// and, when there is one, the rule.
func TestLoadConfigFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		line       string
		want       string
	}{
		{"unknown rule", "disable:\n  - phone\n  - emial\n", ":3: ", `rule "emial": unknown rule`},
		{"bad regex", "rules:\n  - name: emp\n    placeholder: '[EMP]'\n    pattern: 'EMP-[0-9'\n", ":4: ", `rule "emp": invalid pattern`},
		{"unknown mode", "modes:\n  email: scramble\n", ":2: ", `rule "email": unknown mode "scramble"`},
		{"mode unknown rule", "modes:\n\n  nope: hash\n", ":3: ", `rule "nope": unknown rule`},
		{"mask elsewhere", "modes:\n  ip: mask\n", ":2: ", `rule "ip": mode mask is only supported by credit_card`},
		{"rule mode", "rules:\n  - name: pin\n    key: pin\n    mode: sometimes\n", ":4: ", `rule "pin": unknown mode`},
		{"missing name", "rules:\n  - pattern: x\n", ":2: ", `rule "#1": missing name`},
		{"builtin name", "rules:\n  - name: email\n    key: mail\n", ":2: ", `rule "email": name is taken by a built-in rule`},
		{"duplicate", "rules:\n  - name: a\n    key: x\n  - name: a\n    key: y\n", ":4: ", `rule "a": defined twice`},
		{"unknown field", "rules:\n  - name: a\n    regex: x\n", ":3: ", `rule "a": unknown field "regex"`},
		{"not idempotent", "rules:\n  - name: caps\n    pattern: '[A-Z]+_REDACTED'\n", ":3: ", `rule "caps": pattern matches placeholder`},
		{"unknown top field", "disabled: [phone]\n", ":1: ", `unknown field "disabled"`},
		{"syntax", "disable: [phone\n", "", "yaml:"},
		{"wrong type", "disable: phone\n", ":1: ", "disable: want a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeRules(t, tc.body)
			_, err := LoadConfigFile(p)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, p+tc.line) || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q\nwant it to contain %q and %q", msg, p+tc.line, tc.want)
			}
		})
	}
	if _, err := LoadConfigFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}
