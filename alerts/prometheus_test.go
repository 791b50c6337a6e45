package alerts

import (
	"os"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestPrometheusTwins keeps alerts.yaml and collector/alerts.rules.yaml in
// step: every rule names a Prometheus alert that exists, routes to the same
// target (severity = notify) and points back (sentry_rule = name), and the
// rules file holds no alert alerts.yaml does not know. Whether the
// expressions fire is promtool's job (collector/alerts.rules.test.yaml).
func TestPrometheusTwins(t *testing.T) {
	cfg, err := Load("../alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../collector/alerts.rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Expr   string            `yaml:"expr"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	type alert struct{ severity, sentryRule, expr string }
	prom := map[string]alert{}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			prom[r.Alert] = alert{r.Labels["severity"], r.Labels["sentry_rule"], r.Expr}
		}
	}
	for _, r := range cfg.Rules {
		a, ok := prom[r.Prometheus]
		if !ok {
			t.Errorf("rule %q: prometheus alert %q not in collector/alerts.rules.yaml", r.Name, r.Prometheus)
			continue
		}
		if a.severity != r.Notify {
			t.Errorf("rule %q: Prometheus severity %q, alerts.yaml notify %q", r.Name, a.severity, r.Notify)
		}
		if a.sentryRule != r.Name {
			t.Errorf("rule %q: Prometheus sentry_rule label is %q", r.Name, a.sentryRule)
		}
		delete(prom, r.Prometheus)
	}
	for name := range prom {
		t.Errorf("Prometheus alert %q has no rule in alerts.yaml", name)
	}
}
