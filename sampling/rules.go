package sampling

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
)

// A Rule gives the spans it matches their own head sampling rate, in place of
// the environment's. Rules are evaluated at span start, in order, and the
// first match wins; they apply where the sampler makes a head decision (a
// local root whose remote parent, if any, is not followed), never to a span
// that inherits its local parent's decision, so a trace is never cut in two.
//
// A pattern ending in "*" matches any value that starts with what precedes
// the "*"; any other pattern must match exactly.
type Rule struct {
	// Name matches the span name, for example "GET /healthz" (otelhttp names
	// server spans "METHOD route").
	Name string `yaml:"name"`
	// Route matches the http.route attribute the span has at start (otelhttp
	// sets it from the ServeMux pattern). It may start with an HTTP method and
	// a space, "POST /api/checkout", to also match the request method
	// (http.request.method, or the older http.method).
	Route string `yaml:"route"`
	// Rate is the head sampling rate in [0, 1] of the spans the rule matches.
	Rate float64 `yaml:"rate"`
}

// Validate reports a rule that can never match or has a rate outside [0, 1].
func (r Rule) Validate() error {
	if r.Name == "" && r.Route == "" {
		return errors.New("rule matches nothing: set name, route or both")
	}
	if r.Rate < 0 || r.Rate > 1 || r.Rate != r.Rate {
		return fmt.Errorf("rate %g must be between 0 and 1", r.Rate)
	}
	if r.Route != "" {
		if _, path := splitRoute(r.Route); !strings.HasPrefix(path, "/") && path != "*" {
			return fmt.Errorf("route %q has no path (want \"/path\" or \"METHOD /path\")", r.Route)
		}
	}
	return nil
}

// String describes the rule for error messages and logs.
func (r Rule) String() string {
	var parts []string
	if r.Name != "" {
		parts = append(parts, fmt.Sprintf("name %q", r.Name))
	}
	if r.Route != "" {
		parts = append(parts, fmt.Sprintf("route %q", r.Route))
	}
	return fmt.Sprintf("%s → %g", strings.Join(parts, " and "), r.Rate)
}

// splitRoute splits "METHOD /path" into its method and path; a route without
// a method has an empty one.
func splitRoute(route string) (method, path string) {
	route = strings.TrimSpace(route)
	if m, p, ok := strings.Cut(route, " "); ok && !strings.HasPrefix(route, "/") {
		return strings.ToUpper(m), strings.TrimSpace(p)
	}
	return "", route
}

// pattern is an exact or prefix ("…*") matcher.
type pattern struct {
	s      string
	prefix bool
}

func newPattern(s string) pattern {
	if p, ok := strings.CutSuffix(s, "*"); ok {
		return pattern{s: p, prefix: true}
	}
	return pattern{s: s}
}

func (p pattern) match(v string) bool {
	if p.prefix {
		return strings.HasPrefix(v, p.s)
	}
	return v == p.s
}

// compiledRule is a validated Rule with its pre-built decision state.
type compiledRule struct {
	name, route       pattern
	hasName, hasRoute bool
	method            string
	state             *rateState
}

func compileRule(r Rule) compiledRule {
	c := compiledRule{hasName: r.Name != "", hasRoute: r.Route != "", state: newRateState(r.Rate)}
	if c.hasName {
		c.name = newPattern(r.Name)
	}
	if c.hasRoute {
		method, path := splitRoute(r.Route)
		c.method, c.route = method, newPattern(path)
	}
	return c
}

// Attribute keys the rules read at span start.
const (
	attrHTTPRoute        = attribute.Key("http.route")
	attrHTTPMethod       = attribute.Key("http.request.method")
	attrHTTPMethodLegacy = attribute.Key("http.method")
)

// requestOf finds the route and method among a span's start attributes.
func requestOf(attrs []attribute.KeyValue) (route, method string) {
	for _, kv := range attrs {
		switch kv.Key {
		case attrHTTPRoute:
			route = kv.Value.AsString()
		case attrHTTPMethod, attrHTTPMethodLegacy:
			method = kv.Value.AsString()
		}
	}
	return route, method
}
