package alerts

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current rendering")

// repoConfig is the repository's alerts.yaml with its targets configured as
// an organization would (the file itself leaves the IDs unset).
func repoConfig(t *testing.T) *Config {
	t.Helper()
	cfg, err := Load("../alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Targets = map[string]Target{
		"page":  {PagerDuty: &PagerDutyTarget{Account: 92385907, Service: 9823924, Severity: "critical"}},
		"slack": {Slack: &SlackTarget{Workspace: 293854098, Channel: "#alerts", ChannelID: "C024BE91L"}},
		"email": {Email: &EmailTarget{TargetType: "team", TargetID: 4524986223}},
	}
	return cfg
}

func goldenName(r Resource) string {
	slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(r.Name), "-"), "-")
	kind := map[ResourceType]string{IssueAlert: "issue", MetricAlert: "metric", CronMonitor: "monitor"}[r.Type]
	return filepath.Join("testdata", kind+"-"+slug+".golden.json")
}

// TestRenderGolden pins every payload of the repository's alerts.yaml. After
// an intended change: go test ./alerts -run TestRenderGolden -update
func TestRenderGolden(t *testing.T) {
	rs, err := Render(repoConfig(t), "app")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 7 {
		t.Fatalf("got %d resources, want 7 (3 issue alerts, 3 metric alerts, 1 monitor)", len(rs))
	}
	for _, r := range rs {
		got := JSON(r.Payload)
		path := goldenName(r)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run with -update to create it)", r, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n got: %s\nwant: %s", r, path, got, want)
		}
		if len(r.Missing) != 0 {
			t.Errorf("%s: configured targets still missing %v", r, r.Missing)
		}
	}
}

// Required fields and allowed values as the API documentation gives them:
// https://docs.sentry.io/api/alerts/create-an-issue-alert-rule-for-a-project/
// https://docs.sentry.io/api/alerts/create-a-metric-alert-rule-for-an-organization/
// https://docs.sentry.io/api/crons/create-a-monitor/
var documented = map[ResourceType][]string{
	IssueAlert:  {"name", "frequency", "actionMatch", "conditions", "actions"},
	MetricAlert: {"name", "aggregate", "timeWindow", "projects", "query", "thresholdType", "triggers"},
	CronMonitor: {"project", "name", "config"},
}

func TestRenderDocumentedShapes(t *testing.T) {
	rs, err := Render(repoConfig(t), "app")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[ResourceType]int{}
	for _, r := range rs {
		kinds[r.Type]++
		p := decode(t, r.Payload)
		for _, k := range documented[r.Type] {
			if _, ok := p[k]; !ok {
				t.Errorf("%s: documented required field %q missing", r, k)
			}
		}
		switch r.Type {
		case IssueAlert:
			checkIssueAlert(t, r, p)
		case MetricAlert:
			checkMetricAlert(t, r, p)
		case CronMonitor:
			cfg := p["config"].(map[string]any)
			if cfg["schedule_type"] != "interval" {
				t.Errorf("%s: schedule_type %v", r, cfg["schedule_type"])
			}
			sched := cfg["schedule"].([]any)
			if len(sched) != 2 || sched[0] != 1.0 || sched[1] != "minute" {
				t.Errorf("%s: schedule %v, want [1, minute]", r, sched)
			}
			if cfg["failure_issue_threshold"] != 3.0 {
				t.Errorf("%s: failure_issue_threshold %v, want 3", r, cfg["failure_issue_threshold"])
			}
		}
	}
	if kinds[IssueAlert] != 3 || kinds[MetricAlert] != 3 || kinds[CronMonitor] != 1 {
		t.Errorf("kinds %v, want 3 issue alerts, 3 metric alerts, 1 cron monitor", kinds)
	}
}

func checkIssueAlert(t *testing.T, r Resource, p map[string]any) {
	t.Helper()
	if f := p["frequency"].(float64); f < 5 || f > 43200 {
		t.Errorf("%s: frequency %v outside 5..43200", r, f)
	}
	if !slices.Contains([]any{"all", "any", "none"}, p["actionMatch"]) {
		t.Errorf("%s: actionMatch %v", r, p["actionMatch"])
	}
	if fs, _ := p["filters"].([]any); len(fs) > 0 && p["filterMatch"] == nil {
		t.Errorf("%s: filters without filterMatch", r)
	}
	for _, c := range p["conditions"].([]any) {
		c := c.(map[string]any)
		if c["id"] == condEventFrequency {
			if _, ok := c["value"].(float64); !ok {
				t.Errorf("%s: EventFrequencyCondition without a numeric value: %v", r, c)
			}
			if !slices.Contains(issueIntervals, c["interval"].(string)) {
				t.Errorf("%s: interval %v", r, c["interval"])
			}
		}
	}
	for _, f := range p["filters"].([]any) {
		f := f.(map[string]any)
		if f["id"] != filterTaggedEvent || f["key"] == "" || !slices.Contains(tagMatches, f["match"].(string)) {
			t.Errorf("%s: filter %v is not a documented TaggedEventFilter", r, f)
		}
	}
	acts := p["actions"].([]any)
	if len(acts) == 0 {
		t.Errorf("%s: no actions (Sentry answers 400)", r)
	}
	for _, a := range acts {
		a := a.(map[string]any)
		switch a["id"] {
		case actionPagerDuty:
			wantNumbers(t, r, a, "account", "service")
		case actionSlack:
			wantNumbers(t, r, a, "workspace")
			if a["channel"] == "" {
				t.Errorf("%s: slack action without channel", r)
			}
		case actionEmail:
			wantNumbers(t, r, a, "targetIdentifier")
			if !slices.Contains([]any{"Team", "Member"}, a["targetType"]) {
				t.Errorf("%s: email targetType %v", r, a["targetType"])
			}
		default:
			t.Errorf("%s: unexpected action %v", r, a["id"])
		}
	}
}

func checkMetricAlert(t *testing.T, r Resource, p map[string]any) {
	t.Helper()
	if !slices.Contains([]float64{1, 5, 10, 15, 30, 60, 120, 240, 1440}, p["timeWindow"].(float64)) {
		t.Errorf("%s: timeWindow %v", r, p["timeWindow"])
	}
	if ps := p["projects"].([]any); len(ps) != 1 || ps[0] != "app" {
		t.Errorf("%s: projects %v, want [app]", r, ps)
	}
	// The docs' Metric Alert Rule Types: errors are events/queryType 0,
	// transaction duration is generic_metrics/queryType 1.
	switch p["aggregate"] {
	case "count()":
		if p["dataset"] != "events" || p["queryType"] != 0.0 {
			t.Errorf("%s: count() of errors wants dataset events, queryType 0; got %v, %v", r, p["dataset"], p["queryType"])
		}
	case "p95(transaction.duration)":
		if p["dataset"] != "generic_metrics" || p["queryType"] != 1.0 {
			t.Errorf("%s: p95(transaction.duration) wants dataset generic_metrics, queryType 1; got %v, %v", r, p["dataset"], p["queryType"])
		}
	default:
		t.Errorf("%s: unexpected aggregate %v", r, p["aggregate"])
	}
	critical := false
	for _, tr := range p["triggers"].([]any) {
		tr := tr.(map[string]any)
		critical = critical || tr["label"] == "critical"
		if _, ok := tr["alertThreshold"].(float64); !ok {
			t.Errorf("%s: trigger without alertThreshold", r)
		}
		for _, a := range tr["actions"].([]any) {
			a := a.(map[string]any)
			if a["targetType"] != "specific" && a["type"] != "email" {
				t.Errorf("%s: action targetType %v", r, a["targetType"])
			}
			switch a["type"] {
			case "pagerduty":
				wantNumbers(t, r, a, "targetIdentifier", "integrationId")
			case "slack":
				wantNumbers(t, r, a, "integrationId")
				if _, ok := a["targetIdentifier"].(string); !ok {
					t.Errorf("%s: slack targetIdentifier must be a string", r)
				}
			default:
				t.Errorf("%s: unexpected action type %v", r, a["type"])
			}
		}
	}
	if !critical {
		t.Errorf("%s: a critical trigger is always required", r)
	}
}

func wantNumbers(t *testing.T, r Resource, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k].(float64); !ok {
			t.Errorf("%s: %s = %#v, want an integer ID", r, k, m[k])
		}
	}
}

func decode(t *testing.T, v any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(JSON(v), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRenderPlaceholders: the repository file leaves IDs unset; rendering
// still works, marks each unset field and names it.
func TestRenderPlaceholders(t *testing.T) {
	cfg, err := Load("../alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Render(cfg, "app")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Type == CronMonitor {
			if len(r.Missing) != 0 {
				t.Errorf("%s: a monitor has no target, got missing %v", r, r.Missing)
			}
			continue
		}
		if len(r.Missing) == 0 {
			t.Errorf("%s: no missing targets reported", r)
		}
		body := string(JSON(r.Payload))
		for _, m := range r.Missing {
			if !strings.Contains(body, `"`+Placeholder(m)+`"`) {
				t.Errorf("%s: payload lacks placeholder for %s:\n%s", r, m, body)
			}
		}
	}
}

func TestSentryMonitorConfigMatchesREST(t *testing.T) {
	cfg := repoConfig(t)
	var rule Rule
	for _, r := range cfg.Rules {
		if r.Kind == KindCron {
			rule = r
		}
	}
	got, err := json.Marshal(rule.SentryMonitorConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schedule":{"type":"interval","value":1,"unit":"minute"},"checkin_margin":7,"max_runtime":5,"failure_issue_threshold":3,"recovery_threshold":2}`
	if string(got) != want {
		t.Errorf("check-in monitor_config\n got %s\nwant %s", got, want)
	}
	if d := rule.Cron.SilenceBeforeIssue().Minutes(); d != 10 {
		t.Errorf("silence before the monitor's issue = %v min, want 10 (\"no monitor checks in 10 min\")", d)
	}
}

func TestParseRejects(t *testing.T) {
	base := `
targets:
  page: {pagerduty: {account: 1, service: 2}}
rules:
`
	cases := map[string]struct{ yaml, want string }{
		"unknown field": {base + "  - {name: a, kind: metric, notify: page, metric: {aggregate: count(), dataset: events, time_window_minutes: 1, abvoe: 3}}", "abvoe"},
		"bad window":    {base + "  - {name: a, kind: metric, notify: page, metric: {aggregate: count(), dataset: events, time_window_minutes: 3, above: 3}}", `rule "a": metric.time_window_minutes 3`},
		"bad interval":  {base + "  - {name: b, kind: issue, notify: page, issue: {events_more_than: 1, interval: 10m}}", `rule "b": issue.interval "10m"`},
		"no target":     {base + "  - {name: c, kind: issue, notify: sms, issue: {events_more_than: 1, interval: 5m}}", `rule "c": notify "sms" is not a key of targets`},
		"kind mismatch": {base + "  - {name: d, kind: metric, notify: page, issue: {events_more_than: 1, interval: 5m}}", `rule "d": kind metric needs a metric section`},
		"duplicate":     {base + "  - {name: e, kind: issue, notify: page, issue: {interval: 5m}}\n  - {name: e, kind: issue, notify: page, issue: {interval: 5m}}", `rule "e": name is used twice`},
		"two targets":   {"targets:\n  page: {pagerduty: {}, slack: {channel: x}}\nrules:\n  - {name: f, kind: issue, notify: page, issue: {interval: 5m}}", "targets.page: set exactly one"},
		"tag value":     {base + "  - {name: g, kind: issue, notify: page, issue: {interval: 5m, tags: [{key: agent}]}}", `rule "g": issue.tags[0].value is required`},
		"cron margin":   {base + "  - {name: h, kind: cron, notify: page, cron: {monitor_slug: s, monitor_name: n, every: 1, unit: minute, max_runtime: 1, failure_issue_threshold: 1, recovery_threshold: 1}}", `rule "h": cron.checkin_margin 0`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}
