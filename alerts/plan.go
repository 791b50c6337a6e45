package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Action is what apply does with one resource.
type Action string

// The plan's actions.
const (
	Create    Action = "create"
	Update    Action = "update"
	Unchanged Action = "unchanged"
)

// Change is one line of a plan.
type Change struct {
	Action   Action
	Resource Resource
	// ID is the existing object's Sentry ID (a monitor's slug); empty for
	// Create until Apply has created it.
	ID string
	// Fields are the top-level payload fields that differ, for Update.
	Fields []string
}

// ErrTargetsMissing is returned (wrapped, naming the rules) by Apply when a
// rule's notification target is not configured in alerts.yaml.
var ErrTargetsMissing = errors.New("notification targets not configured")

// Scope names where the resources live: the organization slug and the
// project slug.
type Scope struct {
	Org     string
	Project string
}

func (s Scope) issueRules() string {
	return "/api/0/projects/" + url.PathEscape(s.Org) + "/" + url.PathEscape(s.Project) + "/rules/"
}
func (s Scope) metricRules() string {
	return "/api/0/organizations/" + url.PathEscape(s.Org) + "/alert-rules/"
}
func (s Scope) monitors() string {
	return "/api/0/organizations/" + url.PathEscape(s.Org) + "/monitors/"
}

// Plan compares the resources with what Sentry holds: issue alert rules are
// listed for the project ("List a Project's Issue Alert Rules",
// https://docs.sentry.io/api/alerts/list-a-projects-issue-alert-rules/),
// metric alert rules for the organization and kept when they cover the
// project ("List an Organization's Metric Alert Rules",
// https://docs.sentry.io/api/alerts/list-an-organizations-metric-alert-rules/),
// and each monitor is read by slug ("Retrieve a Monitor",
// https://docs.sentry.io/api/crons/retrieve-a-monitor/). A resource matches
// the existing object of its type with the same name; it is Unchanged when
// every field it sets is equal there (fields Sentry adds, such as IDs,
// dates or condition labels, are not ours and not compared). Two existing
// objects with one name are an error: apply would not know which to keep.
// Plan writes nothing.
func (c *Client) Plan(ctx context.Context, scope Scope, resources []Resource) ([]Change, error) {
	if scope.Org == "" || scope.Project == "" {
		return nil, errors.New("planning against Sentry needs an organization and a project slug")
	}
	var issue, metric []map[string]any
	var issueListed, metricListed bool
	changes := make([]Change, 0, len(resources))
	for _, r := range resources {
		var existing map[string]any
		var id string
		switch r.Type {
		case IssueAlert, MetricAlert:
			var err error
			if r.Type == IssueAlert && !issueListed {
				if issue, err = c.list(ctx, scope.issueRules()+"?per_page=100"); err != nil {
					return nil, fmt.Errorf("listing issue alert rules: %w", err)
				}
				issueListed = true
			}
			if r.Type == MetricAlert && !metricListed {
				if metric, err = c.list(ctx, scope.metricRules()+"?per_page=100"); err != nil {
					return nil, fmt.Errorf("listing metric alert rules: %w", err)
				}
				metric = slices.DeleteFunc(metric, func(m map[string]any) bool { return !coversProject(m, scope.Project) })
				metricListed = true
			}
			pool := issue
			if r.Type == MetricAlert {
				pool = metric
			}
			var ids []string
			for _, m := range pool {
				if m["name"] == r.Name {
					existing, id = m, scalar(m["id"])
					ids = append(ids, id)
				}
			}
			if len(ids) > 1 {
				return nil, fmt.Errorf("rule %q: %d existing %ss have this name (ids %s); rename or delete the extras", r.Rule, len(ids), r.Type, strings.Join(ids, ", "))
			}
		case CronMonitor:
			var m map[string]any
			_, err := c.do(ctx, http.MethodGet, scope.monitors()+url.PathEscape(r.Name)+"/", nil, &m)
			var apiErr *APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
			case err != nil:
				return nil, fmt.Errorf("rule %q: reading %s: %w", r.Rule, r, err)
			default:
				existing, id = m, r.Name
			}
		}
		changes = append(changes, diff(r, existing, id))
	}
	return changes, nil
}

// diff decides the change for one resource against its existing object (nil
// when there is none).
func diff(r Resource, existing map[string]any, id string) Change {
	if existing == nil {
		return Change{Action: Create, Resource: r}
	}
	desired := asJSONMap(r.Payload)
	if r.Type == CronMonitor {
		// Sentry answers with the project as an object and the monitor
		// in its own representation; the name and the config are ours.
		delete(desired, "project")
		delete(desired, "slug")
	}
	var fields []string
	for _, k := range sortedKeys(desired) {
		ev, present := existing[k]
		if !matches(desired[k], ev, present) {
			fields = append(fields, k)
		}
	}
	if len(fields) == 0 {
		return Change{Action: Unchanged, Resource: r, ID: id}
	}
	return Change{Action: Update, Resource: r, ID: id, Fields: fields}
}

// Apply carries out a plan: POST for Create, PUT (which overwrites the whole
// object, as the update endpoints document) for Update, nothing for
// Unchanged. It refuses before any request when a resource to write has
// unconfigured targets, naming its rule. On a failed request it stops and
// returns the error, naming the rule; the changes done so far are returned
// either way, with the IDs Sentry gave.
func (c *Client) Apply(ctx context.Context, scope Scope, changes []Change) ([]Change, error) {
	var unset []string
	for _, ch := range changes {
		if ch.Action != Unchanged && len(ch.Resource.Missing) > 0 {
			unset = append(unset, fmt.Sprintf("rule %q (%s) needs %s", ch.Resource.Rule, ch.Resource, strings.Join(ch.Resource.Missing, ", ")))
		}
	}
	if len(unset) > 0 {
		return nil, fmt.Errorf("%w in alerts.yaml: %s", ErrTargetsMissing, strings.Join(unset, "; "))
	}
	var done []Change
	for _, ch := range changes {
		if ch.Action == Unchanged {
			continue
		}
		method, path := http.MethodPost, ""
		switch ch.Resource.Type {
		case IssueAlert:
			path = scope.issueRules()
		case MetricAlert:
			path = scope.metricRules()
		case CronMonitor:
			path = scope.monitors()
		}
		if ch.Action == Update {
			method = http.MethodPut
			path += url.PathEscape(ch.ID) + "/"
		}
		var answer map[string]any
		if _, err := c.do(ctx, method, path, ch.Resource.Payload, &answer); err != nil {
			return done, fmt.Errorf("rule %q: %s %s: %w", ch.Resource.Rule, verb(ch.Action), ch.Resource, err)
		}
		if ch.Action == Create {
			ch.ID = scalar(answer["id"])
			if ch.Resource.Type == CronMonitor {
				ch.ID = ch.Resource.Name
			}
		}
		done = append(done, ch)
	}
	return done, nil
}

func verb(a Action) string {
	if a == Create {
		return "creating"
	}
	return "updating"
}

// coversProject reports whether a metric alert rule is for project; a rule
// whose answer lists no projects is kept, as the name alone must decide.
func coversProject(m map[string]any, project string) bool {
	ps, ok := m["projects"].([]any)
	if !ok || len(ps) == 0 {
		return true
	}
	for _, p := range ps {
		if p == project {
			return true
		}
	}
	return false
}

func asJSONMap(v any) map[string]any {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("alerts: payload does not marshal: %v", err)) // payload types are ours
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		panic(fmt.Sprintf("alerts: payload is not a JSON object: %v", err))
	}
	return m
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// matches reports whether the existing value e holds the desired value d.
// Objects match when every desired key matches (keys Sentry adds are
// ignored); arrays match element by element with equal lengths (an action
// someone added by hand is drift); scalars match by their text, because
// Sentry answers some IDs as strings and some numbers as floats. A desired
// null matches an absent or null value. present says whether e was there.
func matches(d, e any, present bool) bool {
	switch d := d.(type) {
	case nil:
		return !present || e == nil
	case map[string]any:
		em, ok := e.(map[string]any)
		if !ok {
			return false
		}
		for k, dv := range d {
			ev, ok := em[k]
			if k == "targetIdentifier" && d["type"] == "slack" {
				if slackChannelMatches(d, em) {
					continue
				}
				return false
			}
			if !matches(dv, ev, ok) {
				return false
			}
		}
		return true
	case []any:
		ea, ok := e.([]any)
		if !ok || len(ea) != len(d) {
			return false
		}
		for i := range d {
			if !matches(d[i], ea[i], true) {
				return false
			}
		}
		return true
	default:
		return present && e != nil && scalar(d) == scalar(e)
	}
}

// slackChannelMatches accepts a metric alert's Slack target when Sentry has
// replaced the channel name we sent with the channel ID it looked up: the
// existing action then names our channel either way.
func slackChannelMatches(d, e map[string]any) bool {
	want := []string{scalar(d["targetIdentifier"])}
	if id, ok := d["inputChannelId"]; ok {
		want = append(want, scalar(id))
	}
	for _, k := range []string{"targetIdentifier", "inputChannelId"} {
		if v, ok := e[k]; ok && v != nil && slices.Contains(want, scalar(v)) {
			return true
		}
	}
	return false
}

// scalar is the text of a JSON scalar: numbers without a trailing ".0".
func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}
