package alerts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/alerts/alertstest"
)

const testToken = "sntrys_test-token-0123456789abcdef"

var scope = Scope{Org: "acme", Project: "app"}

func newClient(t *testing.T, base string, opts ...ClientOption) *Client {
	t.Helper()
	c, err := NewClient(base, testToken, opts...)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(context.Context, time.Duration) error { return nil }
	return c
}

func plan(t *testing.T, c *Client, rs []Resource) []Change {
	t.Helper()
	changes, err := c.Plan(context.Background(), scope, rs)
	if err != nil {
		t.Fatal(err)
	}
	return changes
}

func countActions(changes []Change) map[Action]int {
	n := map[Action]int{}
	for _, ch := range changes {
		n[ch.Action]++
	}
	return n
}

// TestApplyIsIdempotent is the issue's acceptance test: against an empty
// Sentry, apply creates the six rules (three issue alerts, three metric
// alerts — the cron rule's issue alert among them) and the cron monitor; a
// second apply sends no write at all.
func TestApplyIsIdempotent(t *testing.T) {
	fake := alertstest.NewServer(testToken)
	defer fake.Close()
	c := newClient(t, fake.URL)
	rs, err := Render(repoConfig(t), scope.Project)
	if err != nil {
		t.Fatal(err)
	}

	first := plan(t, c, rs)
	if n := countActions(first); n[Create] != 7 || n[Update]+n[Unchanged] != 0 {
		t.Fatalf("first plan %v, want 7 creates", n)
	}
	done, err := c.Apply(context.Background(), scope, first)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 7 {
		t.Fatalf("applied %d changes, want 7", len(done))
	}
	for _, ch := range done {
		if ch.ID == "" {
			t.Errorf("%s: created without an ID", ch.Resource)
		}
	}
	if got := len(fake.IssueRules("acme", "app")); got != 3 {
		t.Errorf("issue alert rules in Sentry: %d, want 3", got)
	}
	if got := len(fake.MetricRules("acme")); got != 3 {
		t.Errorf("metric alert rules in Sentry: %d, want 3", got)
	}
	if fake.Monitor("acme", "intelligence-monitor-scheduler") == nil {
		t.Error("cron monitor not created")
	}
	writes := fake.Writes()
	if writes != 7 {
		t.Errorf("first apply sent %d writes, want 7 POSTs", writes)
	}

	second := plan(t, c, rs)
	if n := countActions(second); n[Unchanged] != 7 {
		for _, ch := range second {
			t.Logf("%s %s %v", ch.Action, ch.Resource, ch.Fields)
		}
		t.Fatalf("second plan %v, want 7 unchanged", n)
	}
	if _, err := c.Apply(context.Background(), scope, second); err != nil {
		t.Fatal(err)
	}
	if got := fake.Writes() - writes; got != 0 {
		t.Errorf("second apply sent %d writes, want 0", got)
	}
}

// TestApplyRepairsDrift: edits made in Sentry's UI to fields we manage are
// planned as updates (naming the fields) and put back; fields Sentry owns are
// not drift.
func TestApplyRepairsDrift(t *testing.T) {
	fake := alertstest.NewServer(testToken)
	defer fake.Close()
	c := newClient(t, fake.URL)
	rs, _ := Render(repoConfig(t), scope.Project)
	if _, err := c.Apply(context.Background(), scope, plan(t, c, rs)); err != nil {
		t.Fatal(err)
	}
	fake.Edit("issue", "Agent failures: FinancialAgent", func(m map[string]any) {
		m["frequency"] = 1440
		m["lastTriggered"] = "2026-01-02T00:00:00Z" // Sentry's own field: not drift
	})
	fake.Edit("metric", "High error rate", func(m map[string]any) {
		tr := m["triggers"].([]any)[0].(map[string]any)
		tr["alertThreshold"] = 50.0
	})
	fake.Edit("monitor", "intelligence-monitor-scheduler", func(m map[string]any) {
		m["config"].(map[string]any)["checkin_margin"] = 30.0
	})
	changes := plan(t, c, rs)
	updates := map[string]string{}
	for _, ch := range changes {
		if ch.Action == Update {
			updates[ch.Resource.String()] = strings.Join(ch.Fields, ",")
		}
	}
	want := map[string]string{
		`issue alert "Agent failures: FinancialAgent"`:  "frequency",
		`metric alert "High error rate"`:                "triggers",
		`cron monitor "intelligence-monitor-scheduler"`: "config",
	}
	if fmt.Sprint(updates) != fmt.Sprint(want) {
		t.Fatalf("updates %v, want %v", updates, want)
	}
	before := fake.Requests()
	if _, err := c.Apply(context.Background(), scope, changes); err != nil {
		t.Fatal(err)
	}
	puts := 0
	for _, r := range fake.Requests()[len(before):] {
		if r.Method == http.MethodPut {
			puts++
		} else if r.Method != http.MethodGet {
			t.Errorf("unexpected %s %s", r.Method, r.Path)
		}
	}
	if puts != 3 {
		t.Errorf("%d PUTs, want 3", puts)
	}
	if n := countActions(plan(t, c, rs)); n[Unchanged] != 7 {
		t.Errorf("after repair: %v, want 7 unchanged", n)
	}
}

// TestPlanLeavesOthersAlone: rules not in alerts.yaml, and metric rules of
// another project with one of our names, are neither matched nor touched;
// pagination reaches rules past the first page.
func TestPlanLeavesOthersAlone(t *testing.T) {
	fake := alertstest.NewServer(testToken)
	defer fake.Close()
	c := newClient(t, fake.URL)
	other := Scope{Org: "acme", Project: "other"}
	foreign := []Resource{
		{Type: IssueAlert, Name: "someone else's 1", Rule: "x", Payload: issueAlertPayload{Name: "someone else's 1", ActionMatch: "all", Frequency: 5, Conditions: []object{{{"id", condFirstSeen}}}, Actions: []object{{{"id", actionEmail}, {"targetType", "IssueOwners"}}}}},
		{Type: IssueAlert, Name: "someone else's 2", Rule: "x", Payload: issueAlertPayload{Name: "someone else's 2", ActionMatch: "all", Frequency: 5, Conditions: []object{{{"id", condFirstSeen}}}, Actions: []object{{{"id", actionEmail}, {"targetType", "IssueOwners"}}}}},
	}
	if _, err := c.Apply(context.Background(), scope, plan(t, c, foreign)); err != nil {
		t.Fatal(err)
	}
	otherRs, _ := Render(repoConfig(t), "other")
	var otherMetric []Resource
	for _, r := range otherRs {
		if r.Type == MetricAlert {
			otherMetric = append(otherMetric, r)
		}
	}
	if _, err := c.Apply(context.Background(), other, plan(t, c, otherMetric)); err != nil {
		t.Fatal(err)
	}

	rs, _ := Render(repoConfig(t), scope.Project)
	if n := countActions(plan(t, c, rs)); n[Create] != 7 {
		t.Fatalf("plan %v: another project's rules or unrelated rules were matched", n)
	}
	if _, err := c.Apply(context.Background(), scope, plan(t, c, rs)); err != nil {
		t.Fatal(err)
	}
	if n := countActions(plan(t, c, rs)); n[Unchanged] != 7 {
		t.Fatalf("after apply: %v, want 7 unchanged (pagination must reach every rule)", n)
	}
	if got := len(fake.IssueRules("acme", "app")); got != 5 {
		t.Errorf("issue rules: %d, want 5 (2 foreign + 3 ours)", got)
	}
	paged := false
	for _, r := range fake.Requests() {
		paged = paged || (r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/rules/"))
	}
	if !paged {
		t.Error("no issue rule listing seen")
	}
}

func TestPlanRefusesDuplicateNames(t *testing.T) {
	fake := alertstest.NewServer(testToken)
	defer fake.Close()
	c := newClient(t, fake.URL)
	rs, _ := Render(repoConfig(t), scope.Project)
	var issue Resource
	for _, r := range rs {
		if r.Type == IssueAlert {
			issue = r
			break
		}
	}
	// Two rules of that name exist already (created by hand twice).
	for i := 0; i < 2; i++ {
		if _, err := c.Apply(context.Background(), scope, []Change{{Action: Create, Resource: issue}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.Plan(context.Background(), scope, rs)
	if err == nil || !strings.Contains(err.Error(), issue.Name) || !strings.Contains(err.Error(), "2 existing issue alerts") {
		t.Fatalf("err = %v, want one naming the rule and the duplicates", err)
	}
}

func TestApplyRefusesMissingTargetsBeforeAnyRequest(t *testing.T) {
	fake := alertstest.NewServer(testToken)
	defer fake.Close()
	c := newClient(t, fake.URL)
	cfg, err := Load("../alerts.yaml") // IDs left unset
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := Render(cfg, scope.Project)
	changes := make([]Change, len(rs))
	for i, r := range rs {
		changes[i] = Change{Action: Create, Resource: r}
	}
	_, err = c.Apply(context.Background(), scope, changes)
	if !errors.Is(err, ErrTargetsMissing) {
		t.Fatalf("err = %v, want ErrTargetsMissing", err)
	}
	for _, name := range []string{"High error rate", "Agent failures: FinancialAgent", "Monitor check failures", "targets.page.pagerduty.account"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %q: %v", name, err)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// TestRetryOn429: Sentry's rate limit is waited out (Retry-After, capped at
// the configured maximum) and retried; past the retry budget the 429 is the
// error, with the status and the rule's name.
func TestRetryOn429(t *testing.T) {
	fake := alertstest.NewServer(testToken)
	defer fake.Close()
	var mu sync.Mutex
	var waits []time.Duration
	c := newClient(t, fake.URL, WithRetry(3, 5*time.Second))
	c.sleep = func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return nil
	}
	rs, _ := Render(repoConfig(t), scope.Project)

	fake.Throttle(2, "120")
	changes := plan(t, c, rs)
	if len(waits) != 2 || waits[0] != 5*time.Second {
		t.Errorf("waits %v, want two of 5s (Retry-After 120 capped at 5s)", waits)
	}
	fake.Throttle(10, "1")
	_, err := c.Apply(context.Background(), scope, changes)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests {
		t.Fatalf("err = %v, want an APIError with 429", err)
	}
	if !strings.Contains(err.Error(), `rule "High error rate"`) || !strings.Contains(err.Error(), "429") {
		t.Errorf("error should name the rule and the status: %v", err)
	}
}

// TestTokenNeverInErrors: a server that echoes the Authorization header in
// its error body does not get the token into our errors, and the client's
// printed forms do not hold it.
func TestTokenNeverInErrors(t *testing.T) {
	fake := alertstest.NewServer("a-different-token")
	defer fake.Close()
	fake.EchoAuthorization(true)
	c := newClient(t, fake.URL)
	rs, _ := Render(repoConfig(t), scope.Project)
	_, err := c.Plan(context.Background(), scope, rs)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("err = %v, want HTTP 401", err)
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("the echoed header should show as [REDACTED]: %v", err)
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		if strings.Contains(s, testToken) {
			t.Fatalf("token leaked: %s", s)
		}
	}
}

func TestClientRefusesForeignNextPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<https://elsewhere.example/api/0/projects/acme/app/rules/?cursor=1>; rel="next"; results="true"; cursor="1"`)
		fmt.Fprint(w, "[]")
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	_, err := c.list(context.Background(), scope.issueRules())
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("err = %v, want a refusal to follow another host", err)
	}
}

func TestNewClientValidates(t *testing.T) {
	if _, err := NewClient("sentry.io", "t"); err == nil {
		t.Error("a URL without scheme was accepted")
	}
	if _, err := NewClient("https://sentry.io", ""); err == nil {
		t.Error("an empty token was accepted")
	}
}

func TestMatches(t *testing.T) {
	cases := []struct {
		d, e    any
		present bool
		want    bool
	}{
		{map[string]any{"a": 1.0}, map[string]any{"a": "1", "extra": true}, true, true},
		{map[string]any{"a": 1.0}, map[string]any{"a": 2.0}, true, false},
		{[]any{1.0}, []any{1.0, 2.0}, true, false},
		{nil, nil, false, true},
		{nil, "staging", true, false},
		{"x", nil, false, false},
		{10.0, 10.0, true, true},
		{map[string]any{"type": "slack", "targetIdentifier": "#alerts", "inputChannelId": "C1"}, map[string]any{"type": "slack", "targetIdentifier": "C1", "inputChannelId": "C1"}, true, true},
		{map[string]any{"type": "slack", "targetIdentifier": "#alerts"}, map[string]any{"type": "slack", "targetIdentifier": "#other"}, true, false},
	}
	for i, c := range cases {
		if got := matches(c.d, c.e, c.present); got != c.want {
			t.Errorf("case %d: matches(%v, %v) = %v, want %v", i, c.d, c.e, got, c.want)
		}
	}
}
