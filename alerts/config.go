package alerts

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is alerts.yaml: the rules and the notification targets they name.
type Config struct {
	// Environment is the Sentry environment every rule watches unless the
	// rule sets its own; empty means all environments.
	Environment string `yaml:"environment"`
	// Targets maps a name (what a rule's Notify says) to where alerts go.
	Targets map[string]Target `yaml:"targets"`
	// Rules are the alerts, each rendered to one Sentry object (two for cron).
	Rules []Rule `yaml:"rules"`
}

// Target is one notification destination. Exactly one field is set. IDs are
// organization-specific (Sentry → Settings → Integrations); a zero ID is
// "not configured yet": Render puts a placeholder there and Apply refuses.
type Target struct {
	PagerDuty *PagerDutyTarget `yaml:"pagerduty"`
	Opsgenie  *OpsgenieTarget  `yaml:"opsgenie"`
	Slack     *SlackTarget     `yaml:"slack"`
	Email     *EmailTarget     `yaml:"email"`
}

// PagerDutyTarget is a service of Sentry's PagerDuty integration.
type PagerDutyTarget struct {
	Account  int64  `yaml:"account"`  // integration ID
	Service  int64  `yaml:"service"`  // PagerDuty service ID within the integration
	Severity string `yaml:"severity"` // default "critical"
}

// OpsgenieTarget is a team of Sentry's Opsgenie integration.
type OpsgenieTarget struct {
	Account  int64  `yaml:"account"`  // integration ID
	Team     string `yaml:"team"`     // Opsgenie team ID
	Priority string `yaml:"priority"` // default "P1"
}

// SlackTarget is a channel of Sentry's Slack integration.
type SlackTarget struct {
	Workspace int64  `yaml:"workspace"`  // integration ID
	Channel   string `yaml:"channel"`    // e.g. "#alerts"
	ChannelID string `yaml:"channel_id"` // optional; spares Sentry the name lookup
}

// EmailTarget is Sentry's own e-mail notification to a team or a member.
type EmailTarget struct {
	TargetType string `yaml:"target_type"` // "team" or "member"
	TargetID   int64  `yaml:"target_id"`   // Sentry team or user ID
}

// Kind is what a rule renders to.
type Kind string

// The rule kinds.
const (
	KindIssue  Kind = "issue"
	KindMetric Kind = "metric"
	KindCron   Kind = "cron"
)

// Rule is one alert.
type Rule struct {
	// Name is the rule's name in Sentry, and the key apply matches on.
	Name string `yaml:"name"`
	Kind Kind   `yaml:"kind"`
	// Notify is a key of Config.Targets.
	Notify string `yaml:"notify"`
	// Environment, when set, replaces Config.Environment for this rule;
	// "all" means every environment.
	Environment string `yaml:"environment"`
	// Prometheus names the equivalent alert in collector/alerts.rules.yaml.
	Prometheus string `yaml:"prometheus"`

	Issue  *IssueRule  `yaml:"issue"`
	Metric *MetricRule `yaml:"metric"`
	Cron   *CronRule   `yaml:"cron"`
}

// IssueRule fires when an issue is seen more than EventsMoreThan times
// within Interval, among events matching every tag filter. Sentry counts per
// issue, not per project: that is what an issue alert is.
type IssueRule struct {
	EventsMoreThan int `yaml:"events_more_than"`
	// Interval is one of Sentry's windows: 1m, 5m, 15m, 1h, 1d, 1w, 30d.
	Interval string      `yaml:"interval"`
	Tags     []TagFilter `yaml:"tags"`
	// FrequencyMinutes is how often Sentry may repeat the actions for one
	// issue (5..43200); default 30.
	FrequencyMinutes int `yaml:"frequency_minutes"`
}

// TagFilter keeps events whose tag Key compares to Value by Match (Sentry's
// operators: eq, ne, sw, ew, co, nc, is, ns; default eq).
type TagFilter struct {
	Key   string `yaml:"key"`
	Match string `yaml:"match"`
	Value string `yaml:"value"`
}

// MetricRule fires when Aggregate over TimeWindowMinutes goes above Above.
type MetricRule struct {
	Aggregate string `yaml:"aggregate"` // e.g. count(), p95(transaction.duration)
	// Dataset is events, transactions or generic_metrics (Sentry's names).
	Dataset    string   `yaml:"dataset"`
	EventTypes []string `yaml:"event_types"`
	Query      string   `yaml:"query"`
	// TimeWindowMinutes is one of 1, 5, 10, 15, 30, 60, 120, 240, 1440.
	TimeWindowMinutes int     `yaml:"time_window_minutes"`
	Above             float64 `yaml:"above"`
}

// CronRule is a Sentry Crons monitor fed by check-ins: Sentry opens an issue
// after FailureIssueThreshold consecutive missed (or failed) check-ins. With
// an interval schedule of I minutes and a margin of M, the issue opens about
// I + M + (FailureIssueThreshold-1)·I minutes after the last check-in.
type CronRule struct {
	MonitorSlug string `yaml:"monitor_slug"`
	MonitorName string `yaml:"monitor_name"`
	// Every and Unit are the interval schedule: one check-in expected every
	// Every Units (minute, hour, day, week, month, year).
	Every                 int    `yaml:"every"`
	Unit                  string `yaml:"unit"`
	CheckinMargin         int    `yaml:"checkin_margin"` // minutes
	MaxRuntime            int    `yaml:"max_runtime"`    // minutes
	FailureIssueThreshold int    `yaml:"failure_issue_threshold"`
	RecoveryThreshold     int    `yaml:"recovery_threshold"`
}

// Load reads and validates an alerts file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading alerts file: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes and validates alerts YAML. Unknown fields are errors, so a
// misspelt key cannot silently drop a threshold.
func Parse(data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("decoding alerts YAML: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

var (
	issueIntervals     = []string{"1m", "5m", "15m", "1h", "1d", "1w", "30d"}
	tagMatches         = []string{"eq", "ne", "sw", "ew", "co", "nc", "is", "ns"}
	metricTimeWindows  = []int{1, 5, 10, 15, 30, 60, 120, 240, 1440}
	metricDatasets     = []string{"events", "transactions", "generic_metrics"}
	metricEventTypes   = []string{"error", "default", "transaction"}
	monitorUnits       = []string{"minute", "hour", "day", "week", "month", "year"}
	emailTargetTypes   = []string{"team", "member"}
	pagerDutySeverity  = []string{"", "default", "critical", "warning", "error", "info"}
	opsgeniePriorities = []string{"", "P1", "P2", "P3", "P4", "P5"}
)

// Validate reports every invalid field, each naming its rule or target.
func (c *Config) Validate() error {
	var errs []error
	for name, t := range c.Targets {
		if err := t.validate(); err != nil {
			errs = append(errs, fmt.Errorf("targets.%s: %w", name, err))
		}
	}
	seen := map[string]bool{}
	slugs := map[string]bool{}
	if len(c.Rules) == 0 {
		errs = append(errs, errors.New("rules: none defined"))
	}
	for i, r := range c.Rules {
		label := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			label = fmt.Sprintf("rule %q", r.Name)
		}
		if err := r.validate(c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("%s: name is used twice; apply matches Sentry rules by name", label))
		}
		seen[r.Name] = true
		if r.Cron != nil {
			if slugs[r.Cron.MonitorSlug] {
				errs = append(errs, fmt.Errorf("%s: cron.monitor_slug %q is used twice", label, r.Cron.MonitorSlug))
			}
			slugs[r.Cron.MonitorSlug] = true
		}
	}
	return errors.Join(errs...)
}

func (t Target) validate() error {
	set := 0
	for _, p := range []bool{t.PagerDuty != nil, t.Opsgenie != nil, t.Slack != nil, t.Email != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("set exactly one of pagerduty, opsgenie, slack, email (found %d)", set)
	}
	switch {
	case t.PagerDuty != nil && !slices.Contains(pagerDutySeverity, t.PagerDuty.Severity):
		return fmt.Errorf("pagerduty.severity %q is not one of %s", t.PagerDuty.Severity, strings.Join(pagerDutySeverity[1:], ", "))
	case t.Opsgenie != nil && !slices.Contains(opsgeniePriorities, t.Opsgenie.Priority):
		return fmt.Errorf("opsgenie.priority %q is not one of %s", t.Opsgenie.Priority, strings.Join(opsgeniePriorities[1:], ", "))
	case t.Slack != nil && t.Slack.Channel == "":
		return errors.New("slack.channel is required (e.g. \"#alerts\")")
	case t.Email != nil && !slices.Contains(emailTargetTypes, t.Email.TargetType):
		return fmt.Errorf("email.target_type %q is not one of team, member", t.Email.TargetType)
	}
	return nil
}

func (r Rule) validate(c *Config) error {
	if strings.TrimSpace(r.Name) == "" {
		return errors.New("name is required")
	}
	if len(r.Name) > 64 {
		// Sentry allows 256 for metric alerts but issue alert names show
		// truncated past 64; one limit keeps kinds interchangeable.
		return fmt.Errorf("name is %d characters; keep it within 64", len(r.Name))
	}
	if r.Notify == "" {
		return errors.New("notify is required (a key of targets)")
	}
	if _, ok := c.Targets[r.Notify]; !ok {
		return fmt.Errorf("notify %q is not a key of targets", r.Notify)
	}
	bodies := 0
	for _, p := range []bool{r.Issue != nil, r.Metric != nil, r.Cron != nil} {
		if p {
			bodies++
		}
	}
	if bodies != 1 {
		return fmt.Errorf("set exactly the section its kind names (issue, metric or cron), found %d", bodies)
	}
	switch r.Kind {
	case KindIssue:
		if r.Issue == nil {
			return errors.New("kind issue needs an issue section")
		}
		return r.Issue.validate()
	case KindMetric:
		if r.Metric == nil {
			return errors.New("kind metric needs a metric section")
		}
		return r.Metric.validate()
	case KindCron:
		if r.Cron == nil {
			return errors.New("kind cron needs a cron section")
		}
		return r.Cron.validate()
	default:
		return fmt.Errorf("kind %q is not one of issue, metric, cron", r.Kind)
	}
}

func (ir *IssueRule) validate() error {
	if ir.EventsMoreThan < 0 {
		return fmt.Errorf("issue.events_more_than %d must not be negative", ir.EventsMoreThan)
	}
	if !slices.Contains(issueIntervals, ir.Interval) {
		return fmt.Errorf("issue.interval %q is not one of %s", ir.Interval, strings.Join(issueIntervals, ", "))
	}
	if f := ir.FrequencyMinutes; f != 0 && (f < 5 || f > 43200) {
		return fmt.Errorf("issue.frequency_minutes %d is outside 5..43200", f)
	}
	for i, t := range ir.Tags {
		if t.Key == "" {
			return fmt.Errorf("issue.tags[%d].key is required", i)
		}
		if t.Match != "" && !slices.Contains(tagMatches, t.Match) {
			return fmt.Errorf("issue.tags[%d].match %q is not one of %s", i, t.Match, strings.Join(tagMatches, ", "))
		}
		if t.Value == "" && t.Match != "is" && t.Match != "ns" {
			return fmt.Errorf("issue.tags[%d].value is required unless match is is or ns", i)
		}
	}
	return nil
}

func (mr *MetricRule) validate() error {
	if mr.Aggregate == "" {
		return errors.New("metric.aggregate is required")
	}
	if !slices.Contains(metricDatasets, mr.Dataset) {
		return fmt.Errorf("metric.dataset %q is not one of %s", mr.Dataset, strings.Join(metricDatasets, ", "))
	}
	for i, et := range mr.EventTypes {
		if !slices.Contains(metricEventTypes, et) {
			return fmt.Errorf("metric.event_types[%d] %q is not one of %s", i, et, strings.Join(metricEventTypes, ", "))
		}
	}
	if !slices.Contains(metricTimeWindows, mr.TimeWindowMinutes) {
		return fmt.Errorf("metric.time_window_minutes %d is not one of 1, 5, 10, 15, 30, 60, 120, 240, 1440", mr.TimeWindowMinutes)
	}
	if mr.Above <= 0 {
		return fmt.Errorf("metric.above %v must be positive", mr.Above)
	}
	return nil
}

func (cr *CronRule) validate() error {
	switch {
	case cr.MonitorSlug == "":
		return errors.New("cron.monitor_slug is required")
	case cr.MonitorName == "":
		return errors.New("cron.monitor_name is required")
	case cr.Every <= 0:
		return fmt.Errorf("cron.every %d must be positive", cr.Every)
	case !slices.Contains(monitorUnits, cr.Unit):
		return fmt.Errorf("cron.unit %q is not one of %s", cr.Unit, strings.Join(monitorUnits, ", "))
	case cr.CheckinMargin < 1:
		return fmt.Errorf("cron.checkin_margin %d must be at least 1 (minutes)", cr.CheckinMargin)
	case cr.MaxRuntime < 1 || cr.MaxRuntime > 10080:
		return fmt.Errorf("cron.max_runtime %d is outside 1..10080 (minutes)", cr.MaxRuntime)
	case cr.FailureIssueThreshold < 1:
		return fmt.Errorf("cron.failure_issue_threshold %d must be at least 1", cr.FailureIssueThreshold)
	case cr.RecoveryThreshold < 1:
		return fmt.Errorf("cron.recovery_threshold %d must be at least 1", cr.RecoveryThreshold)
	}
	return nil
}

// environment is the Sentry environment the rule watches; nil means all.
func (r Rule) environment(c *Config) *string {
	env := c.Environment
	if r.Environment != "" {
		env = r.Environment
	}
	if env == "" || env == "all" {
		return nil
	}
	return &env
}
