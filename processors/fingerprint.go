package processors

import (
	"fmt"
	"strings"
)

// A FingerprintRule decides how the errors it matches are grouped into
// Sentry issues. Rules are tried in order; the first that applies sets the
// event's fingerprint, and an event no rule applies to keeps Sentry's default
// grouping (by stack trace).
//
// A part of Fingerprint may name values in braces, "agent:{agent.name}". A
// name is an attribute of the failing span — or, when that span lacks it, of
// its nearest ancestor in the local trace that has it (http.route lives on the
// server span) — or one of the facts the errors stage derives:
//
//	exception.type, exception.message   the recorded exception
//	error.timeout                       "true" when the error is (or wraps)
//	                                    context.DeadlineExceeded
//
// A rule applies only when every name it uses has a non-empty value and every
// entry of Match is equal to the named value ("" in Match means any non-empty
// value). The part "{{ default }}" is passed through as Sentry's own marker
// for its default grouping.
type FingerprintRule struct {
	// Name identifies the rule in errors and tests.
	Name string
	// Match holds extra conditions: name → required value.
	Match map[string]string
	// Fingerprint is the fingerprint's parts.
	Fingerprint []string
}

// Timeout is the fingerprint part under which the default rules group
// timeouts, whatever error type carried them.
const timeoutPart = "context.DeadlineExceeded"

// DefaultFingerprintRules returns the rules the errors stage uses unless told
// otherwise, in order:
//
//	agent timeouts   [context.DeadlineExceeded, agent:<agent.name>]
//	agent errors     [<exception.type>, agent:<agent.name>]
//	monitor errors   [<exception.type>, monitor:<monitor.id>]
//	API errors       [<exception.type>, endpoint:<http.route>]
//
// The returned slice is new on every call; callers may append to it.
func DefaultFingerprintRules() []FingerprintRule {
	return []FingerprintRule{
		{Name: "agent-timeout", Match: map[string]string{"error.timeout": "true"}, Fingerprint: []string{timeoutPart, "agent:{agent.name}"}},
		{Name: "agent", Fingerprint: []string{"{exception.type}", "agent:{agent.name}"}},
		{Name: "monitor", Fingerprint: []string{"{exception.type}", "monitor:{monitor.id}"}},
		{Name: "endpoint", Fingerprint: []string{"{exception.type}", "endpoint:{http.route}"}},
	}
}

// fingerprinter is a compiled rule list.
type fingerprinter []compiledRule

type compiledRule struct {
	match map[string]string
	parts [][]segment
}

// segment is a literal (key == "") or a named value.
type segment struct{ lit, key string }

// compileFingerprintRules checks and compiles rules; the error names the rule
// and the part that is malformed.
func compileFingerprintRules(rules []FingerprintRule) (fingerprinter, error) {
	out := make(fingerprinter, 0, len(rules))
	for i, r := range rules {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		if len(r.Fingerprint) == 0 {
			return nil, fmt.Errorf("fingerprint rule %s: no fingerprint parts", name)
		}
		cr := compiledRule{match: r.Match}
		for _, p := range r.Fingerprint {
			segs, err := parseFingerprintPart(p)
			if err != nil {
				return nil, fmt.Errorf("fingerprint rule %s: part %q: %w", name, p, err)
			}
			cr.parts = append(cr.parts, segs)
		}
		out = append(out, cr)
	}
	return out, nil
}

func parseFingerprintPart(p string) ([]segment, error) {
	if strings.TrimSpace(p) == "{{ default }}" || strings.TrimSpace(p) == "{{default}}" {
		return []segment{{lit: p}}, nil
	}
	var segs []segment
	for p != "" {
		open := strings.IndexByte(p, '{')
		if open < 0 {
			if strings.IndexByte(p, '}') >= 0 {
				return nil, fmt.Errorf("unmatched '}'")
			}
			segs = append(segs, segment{lit: p})
			break
		}
		if strings.IndexByte(p[:open], '}') >= 0 {
			return nil, fmt.Errorf("unmatched '}'")
		}
		if open > 0 {
			segs = append(segs, segment{lit: p[:open]})
		}
		end := strings.IndexByte(p[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed '{'")
		}
		key := strings.TrimSpace(p[open+1 : open+end])
		if key == "" || strings.ContainsAny(key, "{") {
			return nil, fmt.Errorf("empty or nested name in braces")
		}
		segs = append(segs, segment{key: key})
		p = p[open+end+1:]
	}
	return segs, nil
}

// fingerprint returns the first applicable rule's fingerprint, or nil for
// Sentry's default grouping. get looks names up (attributes and facts).
func (fp fingerprinter) fingerprint(get func(key string) (string, bool)) []string {
rules:
	for _, r := range fp {
		for k, want := range r.match {
			v, ok := get(k)
			if !ok || v == "" || want != "" && v != want {
				continue rules
			}
		}
		out := make([]string, 0, len(r.parts))
		for _, segs := range r.parts {
			var b strings.Builder
			for _, s := range segs {
				if s.key == "" {
					b.WriteString(s.lit)
					continue
				}
				v, ok := get(s.key)
				if !ok || v == "" {
					continue rules
				}
				b.WriteString(v)
			}
			out = append(out, b.String())
		}
		return out
	}
	return nil
}
