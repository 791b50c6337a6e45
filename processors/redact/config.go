package redact

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// HashKeyEnv is the environment variable callers read Config.HashKey from.
// The package itself reads no environment.
const HashKeyEnv = "OTELSENTRY_REDACTION_HASH_KEY"

// Mode selects what a rule writes in place of what it matched.
type Mode string

const (
	// ModeReplace writes the rule's placeholder, e.g. "[EMAIL_REDACTED]".
	// It is the default for every rule.
	ModeReplace Mode = "replace"
	// ModeHash writes "[TAG:xxxxxxxx]": TAG is the placeholder's label
	// ("EMAIL", "CREDIT_CARD", "REDACTED", …) and xxxxxxxx the first eight
	// hex digits of HMAC-SHA256(Config.HashKey, matched text). Equal
	// secrets give equal outputs, so they can still be correlated.
	ModeHash Mode = "hash"
	// ModeMask keeps the last four digits of a card number:
	// "[CREDIT_CARD:…4242]" (U+2026 before the digits). Only credit_card
	// supports it.
	ModeMask Mode = "mask"

	modeOff Mode = "off" // a disabled custom rule
)

// Config selects and extends the rules of an Engine. The zero value is the
// default: every built-in rule on, in replace mode.
type Config struct {
	// Disable lists rules to turn off, by name (see RuleNames).
	Disable []string
	// Allow adds attribute keys whose values are left alone: an exact key,
	// never touched, or "prefix.*" for every key starting with "prefix.",
	// not scanned but still subject to the key rules (app.* does not let
	// app.password through). Trace and span IDs, http.route,
	// http.request.method, service.* and telemetry.sdk.* are always
	// allowed.
	Allow []string
	// HashKey keys the HMAC of ModeHash. Callers fill it from the
	// environment variable HashKeyEnv; it is required when any rule is in
	// hash mode.
	HashKey []byte
	// Modes sets the mode of a rule, by name. Rules not listed replace.
	Modes map[string]Mode
	// Custom adds rules after the built-in ones.
	Custom []CustomRule
}

// CustomRule is a user-defined rule. Exactly one of Pattern and Key is set.
type CustomRule struct {
	// Name identifies the rule in Disable, Modes, Counts and Match. It is
	// made of lower-case letters, digits and '_' and must not be the name
	// of a built-in rule.
	Name string
	// Pattern is an RE2 regular expression (package regexp) matched against
	// values; each match is replaced.
	Pattern string
	// Key is an attribute key pattern; the whole value of a matching
	// attribute is replaced. "prefix.*" matches keys starting with
	// "prefix."; any other pattern matches keys ending in its words, like
	// the built-in key rules ("pin" matches "card.pin" and "user_pin").
	Key string
	// Placeholder replaces what the rule matched; "[REDACTED]" when empty.
	// It must not itself match Pattern or any built-in rule, or redaction
	// would not be idempotent.
	Placeholder string
}

// compileCustom validates cr against the rules already defined.
func compileCustom(cr CustomRule, defined []ruleSpec) (ruleSpec, error) {
	if !validRuleName(cr.Name) {
		return ruleSpec{}, errRule(cr.Name, "invalid name (want lower-case letters, digits and '_')")
	}
	for i := range defined {
		if defined[i].name == cr.Name {
			if i < int(numBuiltin) {
				return ruleSpec{}, errRule(cr.Name, "name is taken by a built-in rule")
			}
			return ruleSpec{}, errRule(cr.Name, "defined twice")
		}
	}
	if (cr.Pattern == "") == (cr.Key == "") {
		return ruleSpec{}, errRule(cr.Name, "needs exactly one of pattern and key")
	}
	spec := ruleSpec{name: cr.Name, placeholder: cr.Placeholder, mode: ModeReplace}
	if spec.placeholder == "" {
		spec.placeholder = phRedacted
	}
	spec.tag = hashTag(spec.placeholder, cr.Name)
	if cr.Key != "" {
		spec.key = parseKeyPattern(cr.Key)
		return spec, nil
	}
	re, err := regexp.Compile(cr.Pattern)
	if err != nil {
		return ruleSpec{}, errField(cr.Name, "pattern", "invalid pattern: %v", err)
	}
	if re.MatchString("") {
		return ruleSpec{}, errField(cr.Name, "pattern", "pattern matches the empty string")
	}
	spec.re = re
	// Idempotence: neither our placeholders nor the built-in ones may feed
	// the pattern, and the built-in rules must leave ours alone.
	for _, ph := range append([]string{spec.placeholder, spec.tag + ":0123abcd]"}, builtinPlaceholders()...) {
		if re.MatchString(ph) {
			return ruleSpec{}, errField(cr.Name, "pattern", "pattern matches placeholder %q, so redaction would not be idempotent", ph)
		}
	}
	if out, changed := Default().String(spec.placeholder); changed {
		return ruleSpec{}, errField(cr.Name, "placeholder", "placeholder %q is itself redacted by the built-in rules (to %q)", spec.placeholder, out)
	}
	return spec, nil
}

func builtinPlaceholders() []string {
	out := make([]string, 0, numBuiltin)
	for _, b := range builtin {
		out = append(out, b.placeholder)
	}
	return out
}

func validRuleName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !isLower(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

func checkMode(name string, id ruleID, m Mode) error {
	switch m {
	case ModeReplace, ModeHash:
		return nil
	case ModeMask:
		if id == ruleCreditCard {
			return nil
		}
		return errRule(name, "mode mask is only supported by credit_card")
	}
	return errRule(name, "unknown mode %q (want replace, hash or mask)", string(m))
}

// ruleError is a configuration error about one rule, optionally located in
// a rules file: "rules.yaml:12: rule \"employee_id\": invalid pattern: …".
type ruleError struct {
	file    string
	line    int
	rule    string
	hasRule bool
	field   string // the CustomRule field at fault, to pick the line to report
	msg     string
}

func (e *ruleError) Error() string {
	var b strings.Builder
	b.WriteString("redact: ")
	if e.file != "" {
		fmt.Fprintf(&b, "%s:%d: ", e.file, e.line)
	}
	if e.hasRule {
		fmt.Fprintf(&b, "rule %q: ", e.rule)
	}
	b.WriteString(e.msg)
	return b.String()
}

func errRule(rule, format string, args ...any) error {
	return &ruleError{rule: rule, hasRule: true, msg: fmt.Sprintf(format, args...)}
}

func errField(rule, field, format string, args ...any) error {
	return &ruleError{rule: rule, hasRule: true, field: field, msg: fmt.Sprintf(format, args...)}
}

func errorf(format string, args ...any) error {
	return &ruleError{msg: fmt.Sprintf(format, args...)}
}

// at locates err, if it is a ruleError, in file: at the line of the field
// at fault when lines has it, else at line.
func at(err error, file string, line int, lines map[string]int) error {
	var re *ruleError
	if errors.As(err, &re) {
		c := *re
		c.file, c.line = file, line
		if l, ok := lines[c.field]; ok {
			c.line = l
		}
		return &c
	}
	return err
}

// LoadConfigFile reads a YAML rules file (format in the package
// documentation). An error names the file, the line and, where there is
// one, the rule. HashKey is left empty: it comes from the environment.
func LoadConfigFile(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("redact: reading rules file: %w", err)
	}
	return parseConfig(path, data)
}

func parseConfig(file string, data []byte) (Config, error) {
	var cfg Config
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return cfg, nil // an empty file is the default configuration
		}
		return cfg, fmt.Errorf("redact: %s: %w", file, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return cfg, nil
	}
	bad := func(n *yaml.Node, rule, format string, args ...any) error {
		return &ruleError{file: file, line: n.Line, rule: rule, hasRule: rule != "", msg: fmt.Sprintf(format, args...)}
	}
	if root.Kind != yaml.MappingNode {
		return cfg, bad(root, "", "want a mapping with disable, allow, modes and rules")
	}
	type named struct {
		name string
		node *yaml.Node
	}
	var disable, modes []named
	var modeVals []*yaml.Node
	var fieldLines []map[string]int // per custom rule: field → line
	for k := 0; k+1 < len(root.Content); k += 2 {
		key, val := root.Content[k], root.Content[k+1]
		switch key.Value {
		case "disable", "allow":
			if val.Kind != yaml.SequenceNode {
				return cfg, bad(val, "", "%s: want a list", key.Value)
			}
			for _, it := range val.Content {
				if it.Kind != yaml.ScalarNode || it.Value == "" {
					return cfg, bad(it, "", "%s: want a non-empty string", key.Value)
				}
				if key.Value == "disable" {
					disable = append(disable, named{it.Value, it})
				} else {
					cfg.Allow = append(cfg.Allow, it.Value)
				}
			}
		case "modes":
			if val.Kind != yaml.MappingNode {
				return cfg, bad(val, "", "modes: want a mapping of rule name to mode")
			}
			for m := 0; m+1 < len(val.Content); m += 2 {
				modes = append(modes, named{val.Content[m].Value, val.Content[m]})
				modeVals = append(modeVals, val.Content[m+1])
			}
		case "rules":
			if val.Kind != yaml.SequenceNode {
				return cfg, bad(val, "", "rules: want a list")
			}
			for n, it := range val.Content {
				cr, mode, lines, err := parseCustom(it, file, n+1)
				if err != nil {
					return cfg, err
				}
				cfg.Custom = append(cfg.Custom, cr)
				fieldLines = append(fieldLines, lines)
				if mode != nil {
					modes = append(modes, named{cr.Name, mode})
					modeVals = append(modeVals, mode)
				}
			}
		default:
			return cfg, bad(key, "", "unknown field %q (want disable, allow, modes or rules)", key.Value)
		}
	}
	// Validate rule by rule, so that each error points at its own line.
	defined := make([]ruleSpec, numBuiltin, int(numBuiltin)+len(cfg.Custom))
	for i, b := range builtin {
		defined[i] = ruleSpec{name: b.name}
	}
	for n, cr := range cfg.Custom {
		spec, err := compileCustom(cr, defined)
		if err != nil {
			return cfg, at(err, file, fieldLines[n]["name"], fieldLines[n])
		}
		defined = append(defined, spec)
	}
	lookup := func(name string) (ruleID, bool) {
		for i := range defined {
			if defined[i].name == name {
				return ruleID(i), true
			}
		}
		return 0, false
	}
	for _, d := range disable {
		if _, ok := lookup(d.name); !ok {
			return cfg, bad(d.node, d.name, "unknown rule (known: %s)", knownNames(defined))
		}
		cfg.Disable = append(cfg.Disable, d.name)
	}
	for k, m := range modes {
		id, ok := lookup(m.name)
		if !ok {
			return cfg, bad(m.node, m.name, "unknown rule (known: %s)", knownNames(defined))
		}
		v := modeVals[k]
		if err := checkMode(m.name, id, Mode(v.Value)); err != nil {
			return cfg, at(err, file, v.Line, nil)
		}
		if cfg.Modes == nil {
			cfg.Modes = map[string]Mode{}
		}
		cfg.Modes[m.name] = Mode(v.Value)
	}
	return cfg, nil
}

func knownNames(defined []ruleSpec) string {
	names := make([]string, len(defined))
	for i := range defined {
		names[i] = defined[i].name
	}
	return strings.Join(names, ", ")
}

// parseCustom reads one entry of the rules list; mode is the node of its
// optional "mode" field, lines the line of each field ("name" defaults to
// the entry's line).
func parseCustom(n *yaml.Node, file string, index int) (cr CustomRule, mode *yaml.Node, lines map[string]int, err error) {
	if n.Kind != yaml.MappingNode {
		return cr, nil, nil, &ruleError{file: file, line: n.Line, msg: fmt.Sprintf("rules entry %d: want a mapping", index)}
	}
	lines = map[string]int{"name": n.Line}
	for k := 0; k+1 < len(n.Content); k += 2 {
		if n.Content[k].Value == "name" {
			cr.Name = n.Content[k+1].Value
		}
	}
	rule := cr.Name
	if rule == "" {
		rule = fmt.Sprintf("#%d", index)
	}
	for k := 0; k+1 < len(n.Content); k += 2 {
		key, val := n.Content[k], n.Content[k+1]
		if val.Kind != yaml.ScalarNode {
			return cr, nil, nil, &ruleError{file: file, line: val.Line, rule: rule, hasRule: true, msg: fmt.Sprintf("%s: want a string", key.Value)}
		}
		lines[key.Value] = val.Line
		switch key.Value {
		case "name":
		case "pattern":
			cr.Pattern = val.Value
		case "key":
			cr.Key = val.Value
		case "placeholder":
			cr.Placeholder = val.Value
		case "mode":
			mode = val
		default:
			return cr, nil, nil, &ruleError{file: file, line: key.Line, rule: rule, hasRule: true,
				msg: fmt.Sprintf("unknown field %q (want name, pattern, key, placeholder or mode)", key.Value)}
		}
	}
	if cr.Name == "" {
		return cr, nil, nil, &ruleError{file: file, line: n.Line, rule: rule, hasRule: true, msg: "missing name"}
	}
	return cr, mode, lines, nil
}
