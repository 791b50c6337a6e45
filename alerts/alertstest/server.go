// Package alertstest is an in-memory fake of the parts of Sentry's REST API
// that package alerts uses — issue alert rules, metric alert rules and Crons
// monitors — for tests that talk real HTTP on the loopback interface.
//
// The fake checks the bearer token, validates bodies against the fields the
// API documentation marks required (answering 400 with Sentry's
// {"field": ["message"]} shape), paginates lists with Sentry's Link header,
// and, like Sentry, adds fields of its own to what it stores (IDs, dates,
// condition labels, action UUIDs) so that comparisons must ignore them.
package alertstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Request is one request the fake answered.
type Request struct {
	Method string
	Path   string
	Status int
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	token string

	mu          sync.Mutex
	nextID      int
	issueRules  map[string][]map[string]any // by "org/project"
	metricRules map[string][]map[string]any // by org
	monitors    map[string]map[string]any   // by "org/slug"
	requests    []Request
	throttle    int
	retryAfter  string
	pageSize    int
	echoAuth    bool
}

// NewServer starts a fake Sentry that accepts only "Bearer "+token. Close it
// when done.
func NewServer(token string) *Server {
	s := &Server{
		token:       token,
		issueRules:  map[string][]map[string]any{},
		metricRules: map[string][]map[string]any{},
		monitors:    map[string]map[string]any{},
		pageSize:    2,
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Throttle makes the next n requests answer 429 with the given Retry-After.
func (s *Server) Throttle(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle, s.retryAfter = n, retryAfter
}

// EchoAuthorization makes error answers quote the request's Authorization
// header, as a careless server might; clients must not repeat it.
func (s *Server) EchoAuthorization(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.echoAuth = on
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Writes counts the POST, PUT and DELETE requests received so far.
func (s *Server) Writes() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// IssueRules returns the stored issue alert rules of a project.
func (s *Server) IssueRules(org, project string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.issueRules[org+"/"+project])
}

// MetricRules returns the stored metric alert rules of an organization.
func (s *Server) MetricRules(org string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.metricRules[org])
}

// Monitor returns a stored monitor, or nil.
func (s *Server) Monitor(org, slug string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.monitors[org+"/"+slug]
	if !ok {
		return nil
	}
	return clone([]map[string]any{m})[0]
}

// Edit changes a stored object in place, as someone clicking in Sentry's UI
// would: kind is "issue", "metric" or "monitor"; name is the rule name or
// the monitor slug. It reports whether the object was found.
func (s *Server) Edit(kind, name string, fn func(map[string]any)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pools [][]map[string]any
	switch kind {
	case "issue":
		for _, p := range s.issueRules {
			pools = append(pools, p)
		}
	case "metric":
		for _, p := range s.metricRules {
			pools = append(pools, p)
		}
	case "monitor":
		for _, m := range s.monitors {
			if m["slug"] == name {
				fn(m)
				return true
			}
		}
	}
	for _, p := range pools {
		for _, m := range p {
			if m["name"] == name {
				fn(m)
				return true
			}
		}
	}
	return false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	status := s.handle(w, r)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: status})
	s.mu.Unlock()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle > 0 {
		s.throttle--
		w.Header().Set("Retry-After", s.retryAfter)
		return s.answer(w, r, http.StatusTooManyRequests, map[string]any{"detail": "Too many requests"})
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		return s.answer(w, r, http.StatusUnauthorized, map[string]any{"detail": "Invalid token"})
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 5 || parts[0] != "api" || parts[1] != "0" {
		return s.answer(w, r, http.StatusNotFound, map[string]any{"detail": "Not found"})
	}
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return s.answer(w, r, http.StatusBadRequest, map[string]any{"detail": "Malformed JSON: " + err.Error()})
		}
	}
	switch {
	case parts[2] == "projects" && len(parts) >= 6 && parts[5] == "rules":
		return s.issueRulesEndpoint(w, r, parts[3]+"/"+parts[4], parts[6:], body)
	case parts[2] == "organizations" && parts[4] == "alert-rules":
		return s.metricRulesEndpoint(w, r, parts[3], parts[5:], body)
	case parts[2] == "organizations" && parts[4] == "monitors":
		return s.monitorsEndpoint(w, r, parts[3], parts[5:], body)
	}
	return s.answer(w, r, http.StatusNotFound, map[string]any{"detail": "Not found"})
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, status int, v any) int {
	if status >= 400 && s.echoAuth {
		if m, ok := v.(map[string]any); ok {
			m["authorization_received"] = r.Header.Get("Authorization")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
	return status
}

func (s *Server) id() string {
	s.nextID++
	return strconv.Itoa(s.nextID)
}

// list answers one page of items, with Sentry's Link header.
func (s *Server) list(w http.ResponseWriter, r *http.Request, items []map[string]any) int {
	offset, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	offset = max(0, min(offset, len(items)))
	end := min(offset+s.pageSize, len(items))
	link := func(rel string, cursor int, results bool) string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		q := u.Query()
		q.Set("cursor", strconv.Itoa(cursor))
		u.RawQuery = q.Encode()
		return fmt.Sprintf(`<%s>; rel="%s"; results="%t"; cursor="%d"`, u.String(), rel, results, cursor)
	}
	w.Header().Set("Link", link("previous", max(0, offset-s.pageSize), offset > 0)+", "+link("next", end, end < len(items)))
	return s.answer(w, r, http.StatusOK, items[offset:end])
}

func (s *Server) issueRulesEndpoint(w http.ResponseWriter, r *http.Request, key string, rest []string, body map[string]any) int {
	rules := s.issueRules[key]
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		return s.list(w, r, rules)
	case len(rest) == 0 && r.Method == http.MethodPost:
		if errs := validateIssueRule(body); len(errs) > 0 {
			return s.answer(w, r, http.StatusBadRequest, errs)
		}
		stored := storeIssueRule(body, s.id())
		s.issueRules[key] = append(rules, stored)
		return s.answer(w, r, http.StatusCreated, stored)
	case len(rest) == 1 && r.Method == http.MethodPut:
		for i, m := range rules {
			if m["id"] == rest[0] {
				if errs := validateIssueRule(body); len(errs) > 0 {
					return s.answer(w, r, http.StatusBadRequest, errs)
				}
				rules[i] = storeIssueRule(body, rest[0])
				return s.answer(w, r, http.StatusOK, rules[i])
			}
		}
	}
	return s.answer(w, r, http.StatusNotFound, map[string]any{"detail": "Not found"})
}

func (s *Server) metricRulesEndpoint(w http.ResponseWriter, r *http.Request, org string, rest []string, body map[string]any) int {
	rules := s.metricRules[org]
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		return s.list(w, r, rules)
	case len(rest) == 0 && r.Method == http.MethodPost:
		if errs := validateMetricRule(body); len(errs) > 0 {
			return s.answer(w, r, http.StatusBadRequest, errs)
		}
		stored := s.storeMetricRule(body, s.id())
		s.metricRules[org] = append(rules, stored)
		return s.answer(w, r, http.StatusCreated, stored)
	case len(rest) == 1 && r.Method == http.MethodPut:
		for i, m := range rules {
			if m["id"] == rest[0] {
				if errs := validateMetricRule(body); len(errs) > 0 {
					return s.answer(w, r, http.StatusBadRequest, errs)
				}
				rules[i] = s.storeMetricRule(body, rest[0])
				return s.answer(w, r, http.StatusOK, rules[i])
			}
		}
	}
	return s.answer(w, r, http.StatusNotFound, map[string]any{"detail": "Not found"})
}

func (s *Server) monitorsEndpoint(w http.ResponseWriter, r *http.Request, org string, rest []string, body map[string]any) int {
	switch {
	case len(rest) == 0 && r.Method == http.MethodPost:
		if errs := validateMonitor(body, false); len(errs) > 0 {
			return s.answer(w, r, http.StatusBadRequest, errs)
		}
		slug, _ := body["slug"].(string)
		if _, ok := s.monitors[org+"/"+slug]; ok {
			return s.answer(w, r, http.StatusBadRequest, map[string]any{"slug": []string{fmt.Sprintf("The slug %q is already in use.", slug)}})
		}
		m := storeMonitor(nil, body, s.id())
		s.monitors[org+"/"+slug] = m
		return s.answer(w, r, http.StatusCreated, m)
	case len(rest) == 1:
		m, ok := s.monitors[org+"/"+rest[0]]
		if !ok {
			return s.answer(w, r, http.StatusNotFound, map[string]any{"detail": "The requested resource does not exist"})
		}
		switch r.Method {
		case http.MethodGet:
			return s.answer(w, r, http.StatusOK, m)
		case http.MethodPut:
			if errs := validateMonitor(body, true); len(errs) > 0 {
				return s.answer(w, r, http.StatusBadRequest, errs)
			}
			m = storeMonitor(m, body, "")
			s.monitors[org+"/"+rest[0]] = m
			return s.answer(w, r, http.StatusOK, m)
		}
	}
	return s.answer(w, r, http.StatusNotFound, map[string]any{"detail": "Not found"})
}

func storeIssueRule(body map[string]any, id string) map[string]any {
	m := clone([]map[string]any{body})[0]
	m["id"] = id
	m["dateCreated"] = "2026-01-01T00:00:00.000000Z"
	m["createdBy"] = map[string]any{"id": 1, "name": "ci@example.com"}
	m["projects"] = []any{"ignored"}
	m["status"] = "active"
	m["snooze"] = false
	if _, ok := m["filters"]; !ok {
		m["filters"] = []any{}
	}
	for _, c := range asList(m["conditions"]) {
		c["name"] = "label for " + fmt.Sprint(c["id"])
	}
	for i, a := range asList(m["actions"]) {
		a["uuid"] = fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		a["name"] = "label for " + fmt.Sprint(a["id"])
	}
	return m
}

func (s *Server) storeMetricRule(body map[string]any, id string) map[string]any {
	m := clone([]map[string]any{body})[0]
	m["id"] = id
	m["organizationId"] = "1"
	m["resolveThreshold"] = nil
	m["dateCreated"] = "2026-01-01T00:00:00.000000Z"
	if tw, ok := m["timeWindow"].(float64); ok {
		m["timeWindow"] = tw + 0.0 // Sentry answers minutes as a float
	}
	for _, t := range asList(m["triggers"]) {
		t["id"] = s.id()
		t["alertRuleId"] = id
		t["thresholdType"] = m["thresholdType"]
		t["resolveThreshold"] = nil
		for _, a := range asList(t["actions"]) {
			a["id"] = s.id()
			a["alertRuleTriggerId"] = t["id"]
			a["sentryAppId"] = nil
			if a["type"] == "slack" {
				// Sentry looks the channel up and stores its ID.
				if ch, ok := a["inputChannelId"]; ok {
					a["targetIdentifier"] = ch
				}
			}
		}
	}
	return m
}

func storeMonitor(old, body map[string]any, id string) map[string]any {
	m := map[string]any{}
	if old != nil {
		m = clone([]map[string]any{old})[0]
	} else {
		m["id"] = "guid-" + id
		m["status"] = "active"
		m["isMuted"] = false
		m["dateCreated"] = "2026-01-01T00:00:00.000000Z"
	}
	for k, v := range clone([]map[string]any{body})[0] {
		switch k {
		case "project":
			m["project"] = map[string]any{"slug": v, "id": "1"}
		case "config":
			cfg := v.(map[string]any)
			cfg["timezone"] = "UTC"
			cfg["alert_rule_id"] = nil
			m["config"] = cfg
		default:
			m[k] = v
		}
	}
	return m
}

var (
	issueConditions = map[string]bool{
		"sentry.rules.conditions.first_seen_event.FirstSeenEventCondition":                        true,
		"sentry.rules.conditions.regression_event.RegressionEventCondition":                       true,
		"sentry.rules.conditions.event_frequency.EventFrequencyCondition":                         true,
		"sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition":               true,
		"sentry.rules.conditions.event_frequency.EventFrequencyPercentCondition":                  true,
		"sentry.rules.conditions.reappeared_event.ReappearedEventCondition":                       true,
		"sentry.rules.conditions.high_priority_issue.NewHighPriorityIssueCondition":               true,
		"sentry.rules.conditions.existing_high_priority_issue.ExistingHighPriorityIssueCondition": true,
	}
	issueActions = map[string][]string{
		"sentry.mail.actions.NotifyEmailAction":                                    {"targetType"},
		"sentry.integrations.slack.notify_action.SlackNotifyServiceAction":         {"workspace", "channel"},
		"sentry.integrations.pagerduty.notify_action.PagerDutyNotifyServiceAction": {"account", "service"},
		"sentry.integrations.opsgenie.notify_action.OpsgenieNotifyTeamAction":      {"account", "team"},
		"sentry.rules.actions.notify_event.NotifyEventAction":                      nil,
		"sentry.rules.actions.notify_event_service.NotifyEventServiceAction":       {"service"},
		"sentry.integrations.msteams.notify_action.MsTeamsNotifyServiceAction":     {"team", "channel"},
		"sentry.integrations.discord.notify_action.DiscordNotifyServiceAction":     {"server", "channel_id"},
	}
	intervals    = []string{"1m", "5m", "15m", "1h", "1d", "1w", "30d"}
	matches      = []string{"eq", "ne", "sw", "ew", "co", "nc", "is", "ns"}
	oneOf3       = []string{"all", "any", "none"}
	timeWindows  = []float64{1, 5, 10, 15, 30, 60, 120, 240, 1440}
	actionTypes  = []string{"email", "slack", "msteams", "pagerduty", "sentry_app", "sentry_notification", "opsgenie", "discord"}
	targetTypes  = []string{"specific", "user", "team", "sentry_app"}
	intervalUnit = []string{"year", "month", "week", "day", "hour", "minute"}
)

type fieldErrors map[string][]string

func (f fieldErrors) add(field, msg string) { f[field] = append(f[field], msg) }

// validateIssueRule checks what "Create an Issue Alert Rule for a Project"
// documents as required, and the documented shapes of the conditions,
// filters and actions this fake knows.
func validateIssueRule(b map[string]any) fieldErrors {
	errs := fieldErrors{}
	if s, _ := b["name"].(string); s == "" {
		errs.add("name", "This field is required.")
	}
	if f, ok := b["frequency"].(float64); !ok || f != float64(int(f)) || f < 5 || f > 43200 {
		errs.add("frequency", "An integer from 5 to 43200 is required.")
	}
	if s, _ := b["actionMatch"].(string); !slices.Contains(oneOf3, s) {
		errs.add("actionMatch", "One of all, any, none is required.")
	}
	conds, ok := b["conditions"].([]any)
	if !ok {
		errs.add("conditions", "This field is required.")
	}
	for _, c := range asList(conds) {
		id, _ := c["id"].(string)
		if !issueConditions[id] {
			errs.add("conditions", fmt.Sprintf("%q is not a valid condition", id))
			continue
		}
		if strings.HasPrefix(id, "sentry.rules.conditions.event_frequency.") {
			if v, ok := c["value"].(float64); !ok || v < 0 {
				errs.add("conditions", "value: a non-negative number is required")
			}
			if iv, _ := c["interval"].(string); !slices.Contains(intervals, iv) {
				errs.add("conditions", fmt.Sprintf("interval %q is not valid", iv))
			}
		}
	}
	filters, _ := b["filters"].([]any)
	if len(filters) > 0 {
		if s, _ := b["filterMatch"].(string); !slices.Contains(oneOf3, s) {
			errs.add("filterMatch", "Required when filters are given: one of all, any, none.")
		}
	}
	for _, f := range asList(filters) {
		switch f["id"] {
		case "sentry.rules.filters.tagged_event.TaggedEventFilter":
			m, _ := f["match"].(string)
			if k, _ := f["key"].(string); k == "" {
				errs.add("filters", "key is required")
			}
			if !slices.Contains(matches, m) {
				errs.add("filters", fmt.Sprintf("match %q is not valid", m))
			}
			if v, _ := f["value"].(string); v == "" && m != "is" && m != "ns" {
				errs.add("filters", "value is required")
			}
		case "sentry.rules.filters.issue_category.IssueCategoryFilter", "sentry.rules.filters.level.LevelFilter":
		default:
			errs.add("filters", fmt.Sprintf("%v is not a filter this fake knows", f["id"]))
		}
	}
	acts := asList(b["actions"])
	if len(acts) == 0 {
		errs.add("actions", "You must add an action for this alert to fire.")
	}
	for _, a := range acts {
		id, _ := a["id"].(string)
		required, known := issueActions[id]
		if !known {
			errs.add("actions", fmt.Sprintf("%q is not a valid action", id))
			continue
		}
		for _, k := range required {
			if v, ok := a[k]; !ok || v == nil || v == "" {
				errs.add("actions", fmt.Sprintf("%s: %s is required", id, k))
			}
		}
		for _, k := range []string{"account", "service", "workspace"} {
			if v, ok := a[k]; ok && !isInteger(v) {
				errs.add("actions", fmt.Sprintf("%s: %s must be an integration/service ID, got %v", id, k, v))
			}
		}
		if id == "sentry.mail.actions.NotifyEmailAction" {
			tt, _ := a["targetType"].(string)
			if !slices.Contains([]string{"IssueOwners", "Team", "Member"}, tt) {
				errs.add("actions", fmt.Sprintf("targetType %q is not valid", tt))
			}
			if tt != "IssueOwners" && !isInteger(a["targetIdentifier"]) {
				errs.add("actions", "targetIdentifier must be a team or member ID")
			}
		}
	}
	if env, ok := b["environment"]; ok && env != nil {
		if _, ok := env.(string); !ok {
			errs.add("environment", "A string or null is required.")
		}
	}
	return errs
}

// validateMetricRule checks what "Create a Metric Alert Rule for an
// Organization" documents as required and the trigger action fields.
func validateMetricRule(b map[string]any) fieldErrors {
	errs := fieldErrors{}
	if s, _ := b["name"].(string); s == "" {
		errs.add("name", "This field is required.")
	}
	if s, _ := b["aggregate"].(string); s == "" {
		errs.add("aggregate", "This field is required.")
	}
	if tw, ok := b["timeWindow"].(float64); !ok || !slices.Contains(timeWindows, tw) {
		errs.add("timeWindow", "Not a valid choice.")
	}
	if ps := asAny(b["projects"]); len(ps) != 1 {
		errs.add("projects", "Metric alerts are limited to one project.")
	}
	if _, ok := b["query"].(string); !ok {
		errs.add("query", "This field is required (use an empty string for no filter).")
	}
	if tt, ok := b["thresholdType"].(float64); !ok || (tt != 0 && tt != 1) {
		errs.add("thresholdType", "One of 0 (above) or 1 (below) is required.")
	}
	if ds, ok := b["dataset"].(string); ok && !slices.Contains([]string{"events", "transactions", "metrics", "sessions", "generic_metrics", "events_analytics_platform"}, ds) {
		errs.add("dataset", fmt.Sprintf("%q is not a valid dataset", ds))
	}
	triggers := asList(b["triggers"])
	critical := false
	for _, t := range triggers {
		label, _ := t["label"].(string)
		if label == "critical" {
			critical = true
		} else if label != "warning" {
			errs.add("triggers", fmt.Sprintf("label %q is not one of critical, warning", label))
		}
		if _, ok := t["alertThreshold"].(float64); !ok {
			errs.add("triggers", "alertThreshold is required")
		}
		for _, a := range asList(t["actions"]) {
			typ, _ := a["type"].(string)
			if !slices.Contains(actionTypes, typ) {
				errs.add("triggers", fmt.Sprintf("action type %q is not valid", typ))
			}
			if tt, _ := a["targetType"].(string); !slices.Contains(targetTypes, tt) {
				errs.add("triggers", fmt.Sprintf("action targetType %q is not valid", tt))
			}
			if typ != "email" && typ != "sentry_app" && !isInteger(a["integrationId"]) {
				errs.add("triggers", fmt.Sprintf("%s action: integrationId is required", typ))
			}
			switch typ {
			case "pagerduty":
				if !isInteger(a["targetIdentifier"]) {
					errs.add("triggers", "pagerduty action: targetIdentifier must be an integer")
				}
			default:
				if s, ok := a["targetIdentifier"].(string); !ok || s == "" {
					if _, ok := a["inputChannelId"]; !(typ == "slack" && ok) {
						errs.add("triggers", fmt.Sprintf("%s action: targetIdentifier must be a string", typ))
					}
				}
			}
		}
	}
	if !critical {
		errs.add("triggers", "A critical trigger is always required.")
	}
	return errs
}

// validateMonitor checks "Create a Monitor" / "Update a Monitor" bodies.
func validateMonitor(b map[string]any, partial bool) fieldErrors {
	errs := fieldErrors{}
	if !partial {
		if s, _ := b["project"].(string); s == "" {
			errs.add("project", "This field is required.")
		}
		if s, _ := b["name"].(string); s == "" {
			errs.add("name", "This field is required.")
		}
	}
	cfg, ok := b["config"].(map[string]any)
	if !ok {
		if !partial {
			errs.add("config", "This field is required.")
		}
		return errs
	}
	st, _ := cfg["schedule_type"].(string)
	sched := asAny(cfg["schedule"])
	switch st {
	case "interval":
		if len(sched) != 2 || !isInteger(sched[0]) || !slices.Contains(intervalUnit, fmt.Sprint(sched[1])) {
			errs.add("config", "schedule: an interval is [count, unit]")
		}
	case "crontab":
		if _, ok := cfg["schedule"].(string); !ok {
			errs.add("config", "schedule: a crontab string is required")
		}
	default:
		errs.add("config", "schedule_type: Missing or invalid schedule type")
	}
	for _, k := range []string{"checkin_margin", "max_runtime", "failure_issue_threshold", "recovery_threshold"} {
		if v, ok := cfg[k]; ok && v != nil && (!isInteger(v) || v.(float64) < 1) {
			errs.add("config", k+": an integer of at least 1 is required")
		}
	}
	return errs
}

func isInteger(v any) bool {
	f, ok := v.(float64)
	return ok && f == float64(int64(f))
}

func asAny(v any) []any {
	l, _ := v.([]any)
	return l
}

func asList(v any) []map[string]any {
	var out []map[string]any
	for _, e := range asAny(v) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func clone(ms []map[string]any) []map[string]any {
	data, _ := json.Marshal(ms)
	var out []map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}
