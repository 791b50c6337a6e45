package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/getsentry/sentry-go"
)

// ResourceType is the kind of Sentry object a Resource is.
type ResourceType string

// The Sentry objects alerts.yaml renders to.
const (
	IssueAlert  ResourceType = "issue alert"
	MetricAlert ResourceType = "metric alert"
	CronMonitor ResourceType = "cron monitor"
)

// Resource is one object Sentry should hold, as the JSON body of its create
// and update calls.
type Resource struct {
	Type ResourceType
	// Name is what apply matches existing objects on: the rule name, or the
	// monitor slug for a cron monitor.
	Name string
	// Rule is the alerts.yaml rule this comes from.
	Rule string
	// Payload marshals to the request body, with Sentry's field names.
	Payload any
	// Missing lists the target fields not configured yet (as
	// "targets.page.pagerduty.account"); Payload holds a placeholder for
	// each, so such a resource can be shown but not applied.
	Missing []string
}

// Placeholder is how Render marks a target field that alerts.yaml leaves
// unset, e.g. "<unset: targets.page.pagerduty.account>".
func Placeholder(field string) string { return "<unset: " + field + ">" }

// Condition, filter and action IDs of issue alert rules, as documented in
// "Create an Issue Alert Rule for a Project":
// https://docs.sentry.io/api/alerts/create-an-issue-alert-rule-for-a-project/
const (
	condEventFrequency = "sentry.rules.conditions.event_frequency.EventFrequencyCondition"
	condFirstSeen      = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"
	condRegression     = "sentry.rules.conditions.regression_event.RegressionEventCondition"
	filterTaggedEvent  = "sentry.rules.filters.tagged_event.TaggedEventFilter"
	actionEmail        = "sentry.mail.actions.NotifyEmailAction"
	actionSlack        = "sentry.integrations.slack.notify_action.SlackNotifyServiceAction"
	actionPagerDuty    = "sentry.integrations.pagerduty.notify_action.PagerDutyNotifyServiceAction"
	actionOpsgenie     = "sentry.integrations.opsgenie.notify_action.OpsgenieNotifyTeamAction"
)

// issueAlertPayload is the body of "Create an Issue Alert Rule for a
// Project" (POST /api/0/projects/{org}/{project}/rules/) and of "Update an
// Issue Alert Rule" (PUT …/rules/{rule_id}/, which overwrites the whole rule):
// https://docs.sentry.io/api/alerts/create-an-issue-alert-rule-for-a-project/
// https://docs.sentry.io/api/alerts/update-an-issue-alert-rule/
type issueAlertPayload struct {
	Name        string `json:"name"`
	ActionMatch string `json:"actionMatch"`
	// FilterMatch is required by the docs "when a value is provided for
	// filters".
	FilterMatch string `json:"filterMatch,omitempty"`
	// Frequency is in minutes, 5..43200.
	Frequency int `json:"frequency"`
	// Environment null means all environments (the docs allow null).
	Environment *string  `json:"environment"`
	Conditions  []object `json:"conditions"`
	Filters     []object `json:"filters,omitempty"`
	Actions     []object `json:"actions"`
}

// metricAlertPayload is the body of "Create a Metric Alert Rule for an
// Organization" (POST /api/0/organizations/{org}/alert-rules/) and of
// "Update a Metric Alert Rule" (PUT …/alert-rules/{alert_rule_id}/, a full
// overwrite):
// https://docs.sentry.io/api/alerts/create-a-metric-alert-rule-for-an-organization/
// https://docs.sentry.io/api/alerts/update-a-metric-alert-rule/
//
// Where the docs are silent or moving: Sentry's current source marks these
// endpoints "(DEPRECATED)" in favour of the beta Monitors & Alerts API
// (/api/0/organizations/{org}/detectors/), and organizations migrated to the
// span dataset refuse new transaction-based rules (dataset transactions or
// generic_metrics) with a 400 asking for dataset events_analytics_platform
// and is_transaction:true — the p95 rule would then need that form.
type metricAlertPayload struct {
	Name      string `json:"name"`
	Aggregate string `json:"aggregate"`
	Dataset   string `json:"dataset"`
	// QueryType is 0 for event.type:error, 1 for event.type:transaction
	// (the docs' "Metric Alert Rule Types").
	QueryType  int      `json:"queryType"`
	EventTypes []string `json:"eventTypes,omitempty"`
	// Query is required; "" means no filter.
	Query string `json:"query"`
	// TimeWindow is in minutes.
	TimeWindow int `json:"timeWindow"`
	// ThresholdType 0 is "above".
	ThresholdType int             `json:"thresholdType"`
	Projects      []string        `json:"projects"`
	Environment   *string         `json:"environment"`
	Triggers      []metricTrigger `json:"triggers"`
}

// metricTrigger is one element of a metric alert's triggers; a "critical"
// trigger is always required.
type metricTrigger struct {
	Label          string   `json:"label"`
	AlertThreshold float64  `json:"alertThreshold"`
	Actions        []object `json:"actions"`
}

// monitorPayload is the body of the Crons API's "Create a Monitor" (POST
// /api/0/organizations/{org}/monitors/) and "Update a Monitor" (PUT
// …/monitors/{monitor_id_or_slug}/):
// https://docs.sentry.io/api/crons/create-a-monitor/
// https://docs.sentry.io/api/crons/update-a-monitor/
// The field list follows the request serializer those pages are generated
// from (MonitorValidator and ConfigValidator in getsentry/sentry,
// src/sentry/monitors/validators.py): project, name, slug, status, owner,
// is_muted, config{schedule_type, schedule, checkin_margin, max_runtime,
// timezone, failure_issue_threshold, recovery_threshold}. The docs are
// silent on the object form of schedule ({"type","value","unit"}), which the
// validator also accepts; the documented pair form is used here.
type monitorPayload struct {
	Project string            `json:"project"`
	Name    string            `json:"name"`
	Slug    string            `json:"slug"`
	Config  monitorConfigREST `json:"config"`
}

// monitorConfigREST is a monitor's config in the REST API's documented form: an
// interval schedule is the pair [value, unit] with schedule_type "interval".
// (The check-in envelope takes the same settings as
// {"schedule": {"type", "value", "unit"}, …}; see Rule.SentryMonitorConfig.)
type monitorConfigREST struct {
	ScheduleType          string `json:"schedule_type"`
	Schedule              []any  `json:"schedule"`
	CheckinMargin         int    `json:"checkin_margin"`
	MaxRuntime            int    `json:"max_runtime"`
	FailureIssueThreshold int    `json:"failure_issue_threshold"`
	RecoveryThreshold     int    `json:"recovery_threshold"`
}

// Render turns every rule into the Sentry objects it stands for, in file
// order: one resource per issue or metric rule; a cron rule gives its
// monitor, then the issue alert that routes the monitor's issues. project is
// the Sentry project slug the objects belong to. Unset target IDs become
// placeholders listed in Resource.Missing; Render fails only on an invalid
// config.
func Render(cfg *Config, project string) ([]Resource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var out []Resource
	for _, r := range cfg.Rules {
		target := cfg.Targets[r.Notify]
		env := r.environment(cfg)
		switch r.Kind {
		case KindIssue:
			act, missing := issueAction(r.Notify, target)
			p := issueAlertPayload{
				Name:        r.Name,
				ActionMatch: "all",
				Frequency:   frequency(r.Issue.FrequencyMinutes),
				Environment: env,
				Conditions: []object{{
					{"id", condEventFrequency},
					{"value", r.Issue.EventsMoreThan},
					{"interval", r.Issue.Interval},
					// The docs' example omits comparisonType; Sentry's
					// condition form defaults it to "count". Sending it
					// keeps the stored rule equal to what we compare.
					{"comparisonType", "count"},
				}},
				Actions: []object{act},
			}
			for _, t := range r.Issue.Tags {
				p.Filters = append(p.Filters, tagFilter(t))
			}
			if len(p.Filters) > 0 {
				p.FilterMatch = "all"
			}
			out = append(out, Resource{Type: IssueAlert, Name: r.Name, Rule: r.Name, Payload: p, Missing: missing})
		case KindMetric:
			act, missing := metricAction(r.Notify, target)
			m := r.Metric
			p := metricAlertPayload{
				Name:          r.Name,
				Aggregate:     m.Aggregate,
				Dataset:       m.Dataset,
				QueryType:     queryType(m.Dataset),
				EventTypes:    m.EventTypes,
				Query:         m.Query,
				TimeWindow:    m.TimeWindowMinutes,
				ThresholdType: 0,
				Projects:      []string{project},
				Environment:   env,
				Triggers: []metricTrigger{{
					Label:          "critical",
					AlertThreshold: m.Above,
					Actions:        []object{act},
				}},
			}
			out = append(out, Resource{Type: MetricAlert, Name: r.Name, Rule: r.Name, Payload: p, Missing: missing})
		case KindCron:
			c := r.Cron
			out = append(out, Resource{Type: CronMonitor, Name: c.MonitorSlug, Rule: r.Name, Payload: monitorPayload{
				Project: project,
				Name:    c.MonitorName,
				Slug:    c.MonitorSlug,
				Config: monitorConfigREST{
					ScheduleType:          "interval",
					Schedule:              []any{c.Every, c.Unit},
					CheckinMargin:         c.CheckinMargin,
					MaxRuntime:            c.MaxRuntime,
					FailureIssueThreshold: c.FailureIssueThreshold,
					RecoveryThreshold:     c.RecoveryThreshold,
				},
			}})
			// A monitor's missed check-ins open an issue tagged
			// monitor.slug; this is the rule Sentry itself creates for a
			// monitor's alert_rule (new or regressed issue, filtered on
			// the slug), with our action instead of e-mail only.
			act, missing := issueAction(r.Notify, target)
			out = append(out, Resource{Type: IssueAlert, Name: r.Name, Rule: r.Name, Missing: missing, Payload: issueAlertPayload{
				Name:        r.Name,
				ActionMatch: "any",
				FilterMatch: "all",
				Frequency:   5,
				Environment: env,
				Conditions:  []object{{{"id", condFirstSeen}}, {{"id", condRegression}}},
				Filters:     []object{tagFilter(TagFilter{Key: "monitor.slug", Value: c.MonitorSlug})},
				Actions:     []object{act},
			}})
		}
	}
	return out, nil
}

// SentryMonitorConfig is the cron rule's monitor config in the shape the
// check-in envelope carries (sentry-go's MonitorConfig), so that check-ins
// upserting the monitor agree with what apply sets through the REST API.
// It returns nil for a rule of another kind.
func (r Rule) SentryMonitorConfig() *sentry.MonitorConfig {
	if r.Cron == nil {
		return nil
	}
	c := r.Cron
	return &sentry.MonitorConfig{
		Schedule:              sentry.IntervalSchedule(int64(c.Every), sentry.MonitorScheduleUnit(c.Unit)),
		CheckInMargin:         int64(c.CheckinMargin),
		MaxRuntime:            int64(c.MaxRuntime),
		FailureIssueThreshold: int64(c.FailureIssueThreshold),
		RecoveryThreshold:     int64(c.RecoveryThreshold),
	}
}

// SilenceBeforeIssue is how long after the last check-in Sentry opens the
// monitor's issue, assuming missed check-ins are recorded once per interval
// after the first one passes its margin.
func (c *CronRule) SilenceBeforeIssue() time.Duration {
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour, "week": 7 * 24 * time.Hour}[c.Unit]
	if unit == 0 {
		return 0 // month and year have no fixed length
	}
	every := time.Duration(c.Every) * unit
	return every + time.Duration(c.CheckinMargin)*time.Minute + time.Duration(c.FailureIssueThreshold-1)*every
}

func frequency(m int) int {
	if m == 0 {
		return 30
	}
	return m
}

// queryType follows the docs' Metric Alert Rule Types: errors are 0,
// transactions (either dataset) are 1.
func queryType(dataset string) int {
	if dataset == "events" {
		return 0
	}
	return 1
}

func tagFilter(t TagFilter) object {
	match := t.Match
	if match == "" {
		match = "eq"
	}
	f := object{{"id", filterTaggedEvent}, {"key", t.Key}, {"match", match}}
	if match != "is" && match != "ns" {
		f = append(f, field{"value", t.Value})
	}
	return f
}

// idOr returns id, or a placeholder (recorded in missing) when it is unset.
func idOr(id int64, field string, missing *[]string) any {
	if id == 0 {
		*missing = append(*missing, field)
		return Placeholder(field)
	}
	return id
}

func strOr(s, field string, missing *[]string) any {
	if s == "" {
		*missing = append(*missing, field)
		return Placeholder(field)
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// issueAction is the rule action for a target, per the action list of
// https://docs.sentry.io/api/alerts/create-an-issue-alert-rule-for-a-project/
func issueAction(name string, t Target) (object, []string) {
	var missing []string
	path := func(f string) string { return "targets." + name + "." + f }
	switch {
	case t.PagerDuty != nil:
		return object{
			{"id", actionPagerDuty},
			{"account", idOr(t.PagerDuty.Account, path("pagerduty.account"), &missing)},
			{"service", idOr(t.PagerDuty.Service, path("pagerduty.service"), &missing)},
			{"severity", orDefault(t.PagerDuty.Severity, "critical")},
		}, missing
	case t.Opsgenie != nil:
		return object{
			{"id", actionOpsgenie},
			{"account", idOr(t.Opsgenie.Account, path("opsgenie.account"), &missing)},
			{"team", strOr(t.Opsgenie.Team, path("opsgenie.team"), &missing)},
			{"priority", orDefault(t.Opsgenie.Priority, "P1")},
		}, missing
	case t.Slack != nil:
		a := object{
			{"id", actionSlack},
			{"workspace", idOr(t.Slack.Workspace, path("slack.workspace"), &missing)},
			{"channel", t.Slack.Channel},
		}
		if t.Slack.ChannelID != "" {
			a = append(a, field{"channel_id", t.Slack.ChannelID})
		}
		return a, missing
	default: // e-mail
		targetType := "Team"
		if t.Email.TargetType == "member" {
			targetType = "Member"
		}
		return object{
			{"id", actionEmail},
			{"targetType", targetType},
			{"targetIdentifier", idOr(t.Email.TargetID, path("email.target_id"), &missing)},
			{"fallthroughType", "ActiveMembers"},
		}, missing
	}
}

// metricAction is a metric alert trigger action, per the trigger action
// fields of
// https://docs.sentry.io/api/alerts/create-a-metric-alert-rule-for-an-organization/
// (targetIdentifier "must be an integer for PagerDuty and Sentry apps, and a
// string for all others"; integrationId is required except for e-mail).
func metricAction(name string, t Target) (object, []string) {
	var missing []string
	path := func(f string) string { return "targets." + name + "." + f }
	switch {
	case t.PagerDuty != nil:
		return object{
			{"type", "pagerduty"},
			{"targetType", "specific"},
			{"targetIdentifier", idOr(t.PagerDuty.Service, path("pagerduty.service"), &missing)},
			{"integrationId", idOr(t.PagerDuty.Account, path("pagerduty.account"), &missing)},
			{"priority", orDefault(t.PagerDuty.Severity, "critical")},
		}, missing
	case t.Opsgenie != nil:
		return object{
			{"type", "opsgenie"},
			{"targetType", "specific"},
			{"targetIdentifier", strOr(t.Opsgenie.Team, path("opsgenie.team"), &missing)},
			{"integrationId", idOr(t.Opsgenie.Account, path("opsgenie.account"), &missing)},
			{"priority", orDefault(t.Opsgenie.Priority, "P1")},
		}, missing
	case t.Slack != nil:
		a := object{
			{"type", "slack"},
			{"targetType", "specific"},
			{"targetIdentifier", t.Slack.Channel},
			{"integrationId", idOr(t.Slack.Workspace, path("slack.workspace"), &missing)},
		}
		if t.Slack.ChannelID != "" {
			a = append(a, field{"inputChannelId", t.Slack.ChannelID})
		}
		return a, missing
	default: // e-mail
		targetType := "team"
		if t.Email.TargetType == "member" {
			targetType = "user"
		}
		var id any = Placeholder(path("email.target_id"))
		if t.Email.TargetID != 0 {
			id = strconv.FormatInt(t.Email.TargetID, 10)
		} else {
			missing = append(missing, path("email.target_id"))
		}
		return object{{"type", "email"}, {"targetType", targetType}, {"targetIdentifier", id}}, missing
	}
}

// String is how plan and errors name a resource.
func (r Resource) String() string { return fmt.Sprintf("%s %q", r.Type, r.Name) }

// object is a JSON object that keeps its keys in the order written, so a
// rendered payload reads like the examples in Sentry's documentation.
type object []field

type field struct {
	key   string
	value any
}

// MarshalJSON writes the fields in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		enc := json.NewEncoder(&b)
		// Placeholders read "<unset: …>", not "\u003cunset: …\u003e".
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f.key); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		if err := enc.Encode(f.value); err != nil {
			return nil, fmt.Errorf("field %q: %w", f.key, err)
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// JSON is a resource payload as indented JSON with a final newline, the form
// plan prints and golden files hold. Placeholders are not HTML-escaped.
func JSON(payload any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(payload); err != nil {
		return []byte(fmt.Sprintf("<payload does not marshal: %v>\n", err))
	}
	return b.Bytes()
}
