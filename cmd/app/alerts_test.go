package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otelsentry/otelsentry/alerts"
	"github.com/otelsentry/otelsentry/alerts/alertstest"
)

const alertsTestToken = "sntrys_cmd-secret-token-9f8e7d6c5b4a"

// alertsRun runs `app alerts args…` with env as the whole environment.
func alertsRun(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := alertsCommand{
		getenv:        func(k string) string { return env[k] },
		clientOptions: []alerts.ClientOption{alerts.WithRetry(3, 10*time.Millisecond)},
	}
	code = cmd.run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// configuredAlertsFile writes the repository's alerts.yaml with its targets
// configured, as an organization would, and returns its path.
func configuredAlertsFile(t *testing.T) string {
	t.Helper()
	cfg, err := alerts.Load("../../alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Targets = map[string]alerts.Target{
		"page":  {PagerDuty: &alerts.PagerDutyTarget{Account: 11, Service: 22}},
		"slack": {Slack: &alerts.SlackTarget{Workspace: 33, Channel: "#alerts"}},
		"email": {Email: &alerts.EmailTarget{TargetType: "team", TargetID: 44}},
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "alerts.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAlertsPlanOffline(t *testing.T) {
	code, out, errOut := alertsRun(t, nil, "plan", "-file", "../../alerts.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"6 rules → 3 issue alert rules, 3 metric alert rules, 1 cron monitor",
		`"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition"`,
		`"key": "agent.name"`,
		`"aggregate": "p95(transaction.duration)"`,
		`"schedule_type": "interval"`,
		"POST /api/0/projects/{org}/{project}/rules/",
		"POST /api/0/organizations/{org}/alert-rules/",
		"POST /api/0/organizations/{org}/monitors/",
		`"integrationId": "<unset: targets.page.pagerduty.account>"`,
		"apply will refuse until they are set",
		"an issue opens ≈10m0s after the last check-in",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
}

// TestAlertsApplyTwice: the first apply creates 3 issue alert rules, 3 metric
// alert rules and the cron monitor; the second finds nothing to do and sends
// no write.
func TestAlertsApplyTwice(t *testing.T) {
	fake := alertstest.NewServer(alertsTestToken)
	defer fake.Close()
	env := map[string]string{"SENTRY_URL": fake.URL, "SENTRY_AUTH_TOKEN": alertsTestToken}
	file := configuredAlertsFile(t)

	code, out, errOut := alertsRun(t, env, "apply", "-file", file, "-org", "acme", "-project", "app")
	if code != 0 {
		t.Fatalf("first apply: exit %d: %s\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "Apply complete: 7 created, 0 updated, 0 unchanged.") {
		t.Errorf("first apply output:\n%s", out)
	}
	if n := len(fake.IssueRules("acme", "app")) + len(fake.MetricRules("acme")); n != 6 {
		t.Errorf("%d alert rules in Sentry, want 6", n)
	}
	writes := fake.Writes()

	code, out, errOut = alertsRun(t, env, "apply", "-file", file, "-org", "acme", "-project", "app")
	if code != 0 {
		t.Fatalf("second apply: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Plan: 0 to create, 0 to update, 7 unchanged.") || !strings.Contains(out, "No changes") {
		t.Errorf("second apply output:\n%s", out)
	}
	if got := fake.Writes() - writes; got != 0 {
		t.Errorf("second apply sent %d POST/PUT requests, want 0", got)
	}

	code, out, _ = alertsRun(t, env, "plan", "-file", file, "-org", "acme", "-project", "app")
	if code != 0 || !strings.Contains(out, "= unchanged  metric alert \"High error rate\"") {
		t.Errorf("online plan: exit %d\n%s", code, out)
	}
}

func TestAlertsApplyRefusesUnconfiguredTargets(t *testing.T) {
	fake := alertstest.NewServer(alertsTestToken)
	defer fake.Close()
	env := map[string]string{"SENTRY_URL": fake.URL, "SENTRY_AUTH_TOKEN": alertsTestToken}
	code, _, errOut := alertsRun(t, env, "apply", "-file", "../../alerts.yaml", "-org", "acme", "-project", "app")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{`rule "High error rate" needs targets.page.pagerduty.service`, `rule "Elevated error rate" needs targets.slack.slack.workspace`, `rule "Monitor check failures" needs targets.email.email.target_id`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests reached Sentry, want 0", n)
	}
}

// TestAlertsTokenNeverPrinted: neither a successful run nor a failing one
// (a server rejecting the token and echoing the Authorization header back)
// puts the token on stdout or stderr.
func TestAlertsTokenNeverPrinted(t *testing.T) {
	file := configuredAlertsFile(t)
	good := alertstest.NewServer(alertsTestToken)
	defer good.Close()
	bad := alertstest.NewServer("another-token")
	defer bad.Close()
	bad.EchoAuthorization(true)

	runs := []struct {
		url      string
		args     []string
		wantCode int
	}{
		{good.URL, []string{"apply", "-file", file, "-org", "acme", "-project", "app"}, 0},
		{good.URL, []string{"plan", "-file", file, "-org", "acme", "-project", "app"}, 0},
		{bad.URL, []string{"plan", "-file", file, "-org", "acme", "-project", "app"}, 1},
		{bad.URL, []string{"apply", "-file", file, "-org", "acme", "-project", "app"}, 1},
	}
	for _, r := range runs {
		env := map[string]string{"SENTRY_URL": r.url, "SENTRY_AUTH_TOKEN": alertsTestToken}
		code, out, errOut := alertsRun(t, env, r.args...)
		if code != r.wantCode {
			t.Errorf("%v: exit %d, want %d: %s", r.args, code, r.wantCode, errOut)
		}
		if r.wantCode == 1 && !strings.Contains(errOut, "HTTP 401") {
			t.Errorf("%v: stderr should give the HTTP status: %s", r.args, errOut)
		}
		if strings.Contains(out+errOut, alertsTestToken) {
			t.Fatalf("%v: token printed:\nstdout: %s\nstderr: %s", r.args, out, errOut)
		}
	}
}

func TestAlertsUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{nil, nil, 2, "usage: app alerts plan|apply"},
		{[]string{"destroy"}, nil, 2, "usage"},
		{[]string{"apply", "-file", "../../alerts.yaml"}, nil, 2, "-org and -project are required"},
		{[]string{"plan", "-org", "acme"}, nil, 2, "give both -org and -project"},
		{[]string{"plan", "-file", "missing.yaml"}, nil, 1, "reading alerts file"},
		{[]string{"plan", "-file", "../../alerts.yaml", "-org", "acme", "-project", "app"}, map[string]string{}, 1, "SENTRY_AUTH_TOKEN is not set"},
	}
	for _, c := range cases {
		code, _, errOut := alertsRun(t, c.env, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}
