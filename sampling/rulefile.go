package sampling

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// RuleFileError is a problem in a rules file. It names the file, the line
// and, when the problem is inside a rule, the rule's position (from 1).
type RuleFileError struct {
	File string
	Line int // 0 when the problem has no line (the file could not be read)
	Rule int // 0 when the problem is not inside a rule
	Err  error
}

func (e *RuleFileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sampling rules file %s", e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Rule > 0 {
		fmt.Fprintf(&b, ": rule %d", e.Rule)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *RuleFileError) Unwrap() error { return e.Err }

// LoadRules reads sampling rules from a YAML file; see [ParseRules] for the
// format.
func LoadRules(path string) ([]Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &RuleFileError{File: path, Err: fmt.Errorf("reading: %w", err)}
	}
	return ParseRules(data, path)
}

// ParseRules parses sampling rules from YAML. file names the source in
// errors. The format is
//
//	rules:
//	  - route: GET /healthz     # http.route, optionally with a method
//	    rate: 0
//	  - name: POST /api/checkout  # span name
//	    rate: 1.0
//
// Each rule needs name, route or both, and a rate in [0, 1]. Unknown keys are
// errors, so a misspelt key cannot silently turn a rule into a different one.
// An empty document gives no rules.
func ParseRules(data []byte, file string) ([]Rule, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &RuleFileError{File: file, Line: yamlErrorLine(err), Err: err}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, &RuleFileError{File: file, Line: top.Line, Err: errors.New(`want a mapping with the key "rules"`)}
	}
	var rules []Rule
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Value != "rules" {
			return nil, &RuleFileError{File: file, Line: k.Line, Err: fmt.Errorf("unknown key %q (want \"rules\")", k.Value)}
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.SequenceNode {
			return nil, &RuleFileError{File: file, Line: v.Line, Err: errors.New(`"rules" must be a list`)}
		}
		for n, item := range v.Content {
			r, err := parseRule(item)
			if err != nil {
				var line *lineError
				l := item.Line
				if errors.As(err, &line) {
					l, err = line.line, line.err
				}
				return nil, &RuleFileError{File: file, Line: l, Rule: n + 1, Err: err}
			}
			rules = append(rules, r)
		}
	}
	return rules, nil
}

// lineError carries the line of the key or value that was wrong.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return e.err.Error() }

func parseRule(n *yaml.Node) (Rule, error) {
	if n.Kind != yaml.MappingNode {
		return Rule{}, errors.New("want a mapping with name, route and rate")
	}
	var r Rule
	hasRate := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return Rule{}, &lineError{v.Line, fmt.Errorf("%s must be a single value", k.Value)}
		}
		switch k.Value {
		case "name":
			r.Name = v.Value
		case "route":
			r.Route = v.Value
		case "rate":
			f, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64)
			if err != nil {
				return Rule{}, &lineError{v.Line, fmt.Errorf("rate %q is not a number", v.Value)}
			}
			r.Rate, hasRate = f, true
		default:
			return Rule{}, &lineError{k.Line, fmt.Errorf("unknown key %q (want name, route, rate)", k.Value)}
		}
	}
	if !hasRate {
		return Rule{}, errors.New("rate is missing")
	}
	if err := r.Validate(); err != nil {
		return Rule{}, fmt.Errorf("%s: %w", r, err)
	}
	return r, nil
}

// yamlErrorLine extracts the line from a yaml syntax error ("yaml: line 3: …").
func yamlErrorLine(err error) int {
	s := err.Error()
	if i := strings.Index(s, "line "); i >= 0 {
		s = s[i+len("line "):]
		if j := strings.IndexByte(s, ':'); j > 0 {
			if n, err := strconv.Atoi(s[:j]); err == nil {
				return n
			}
		}
	}
	return 0
}
