package app

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelsentry/otelsentry/telemetry"
)

// Monitor interval bounds and default.
const (
	minInterval     = time.Second
	maxInterval     = 24 * time.Hour
	defaultInterval = time.Minute
	defaultPageSize = 100
	maxPageSize     = 1000
)

type createMonitorBody struct {
	Company  string `json:"company"`
	Industry string `json:"industry"`
	// Interval is a Go duration ("30s", "5m"); IntervalSeconds is the same in
	// seconds. At most one may be given.
	Interval        string `json:"interval"`
	IntervalSeconds *int   `json:"interval_seconds"`
}

// monitorView is a Monitor as the API shows it.
type monitorView struct {
	ID              string    `json:"id"`
	Company         string    `json:"company"`
	Industry        string    `json:"industry"`
	Interval        string    `json:"interval"`
	IntervalSeconds int64     `json:"interval_seconds"`
	Status          string    `json:"status"`
	ErrorCount      int       `json:"error_count"`
	PauseThreshold  int       `json:"pause_threshold"`
	Checks          int       `json:"checks"`
	ChangesDetected int       `json:"changes_detected"`
	AlertsGenerated int       `json:"alerts_generated"`
	LastError       string    `json:"last_error,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	LastCheckAt     time.Time `json:"last_check_at,omitzero"`
	NextCheckAt     time.Time `json:"next_check_at,omitzero"`
	PausedAt        time.Time `json:"paused_at,omitzero"`
	RecentAlerts    []Alert   `json:"recent_alerts"`
}

func (s *Service) view(m Monitor) monitorView {
	v := monitorView{
		ID: m.ID, Company: m.Company, Industry: m.Industry,
		Interval: m.Interval.String(), IntervalSeconds: int64(m.Interval.Seconds()),
		Status: string(m.Status), ErrorCount: m.ErrorCount, PauseThreshold: s.cfg.PauseThreshold,
		Checks: m.Checks, ChangesDetected: m.ChangesDetected, AlertsGenerated: m.AlertsGenerated,
		LastError: m.LastError, CreatedAt: m.CreatedAt, LastCheckAt: m.LastCheckAt, PausedAt: m.PausedAt,
		RecentAlerts: m.RecentAlerts,
	}
	if m.Status == MonitorActive {
		v.NextCheckAt = m.NextCheckAt
	}
	if v.RecentAlerts == nil {
		v.RecentAlerts = []Alert{}
	}
	return v
}

// createMonitor handles POST /api/monitors: 201 with the monitor, whose first
// check is due at once.
func (s *Service) createMonitor(w http.ResponseWriter, r *http.Request) {
	var body createMonitorBody
	if e := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); e != nil {
		writeAPIError(w, e)
		return
	}
	company, e := validName("company", body.Company, maxCompanyLen)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	industry, e := validName("industry", body.Industry, maxIndustryLen)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	interval, e := parseInterval(body.Interval, body.IntervalSeconds)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	now := time.Now()
	m := Monitor{
		ID: newID("mon_"), Company: company, Industry: industry, Interval: interval,
		Status: MonitorActive, CreatedAt: now, NextCheckAt: now,
	}
	ctx := telemetry.WithAttributes(r.Context(), monitorAttrs(m)...)
	if err := s.store.CreateMonitor(ctx, m); err != nil {
		if errors.Is(err, ErrStoreFull) {
			writeError(w, http.StatusConflict, "monitor limit reached", "")
			return
		}
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/monitors/"+m.ID)
	writeJSON(w, http.StatusCreated, s.view(m))
}

func parseInterval(s string, secs *int) (time.Duration, *apiError) {
	var d time.Duration
	switch {
	case s != "" && secs != nil:
		return 0, badRequest("interval", "give interval or interval_seconds, not both")
	case secs != nil:
		if *secs <= 0 || *secs > int(maxInterval/time.Second) {
			return 0, badRequest("interval_seconds", "must be between %d and %d", int(minInterval/time.Second), int(maxInterval/time.Second))
		}
		d = time.Duration(*secs) * time.Second
	case s != "":
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, badRequest("interval", "must be a duration such as \"30s\" or \"5m\"")
		}
	default:
		return defaultInterval, nil
	}
	if d < minInterval || d > maxInterval {
		return 0, badRequest("interval", "must be between %s and %s", minInterval, maxInterval)
	}
	return d, nil
}

// listMonitors handles GET /api/monitors?limit=N (newest first).
func (s *Service) listMonitors(w http.ResponseWriter, r *http.Request) {
	limit := defaultPageSize
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			writeError(w, http.StatusBadRequest, "must be an integer between 1 and "+itoa(maxPageSize), "limit")
			return
		}
		limit = n
	}
	ms, total, err := s.store.Monitors(r.Context(), limit)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	views := make([]monitorView, len(ms))
	for i, m := range ms {
		views[i] = s.view(m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"monitors": views, "count": len(views), "total": total})
}

// monitorFor loads the monitor named by the {id} path value, recording
// monitor.id on the server span, or answers 404.
func (s *Service) monitorFor(w http.ResponseWriter, r *http.Request) (Monitor, *http.Request, bool) {
	id := r.PathValue("id")
	m, err := s.store.Monitor(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, "monitor not found", "id")
		return Monitor{}, r, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return Monitor{}, r, false
	}
	return m, r.WithContext(telemetry.WithAttributes(r.Context(), monitorAttrs(m)...)), true
}

// getMonitor handles GET /api/monitors/{id}.
func (s *Service) getMonitor(w http.ResponseWriter, r *http.Request) {
	if m, _, ok := s.monitorFor(w, r); ok {
		writeJSON(w, http.StatusOK, s.view(m))
	}
}

type checkView struct {
	Monitor         monitorView `json:"monitor"`
	Status          string      `json:"status"` // ok | failed
	ChangesDetected int         `json:"changes_detected"`
	AlertsGenerated int         `json:"alerts_generated"`
	AlertsFailed    int         `json:"alerts_failed"`
	Anomalies       []anomaly   `json:"anomalies"`
	Paused          bool        `json:"paused"`
	Error           string      `json:"error,omitempty"`
	RequestID       string      `json:"request_id,omitempty"`
}

// checkMonitor handles POST /api/monitors/{id}/check: runs one check now, as
// a child of the request's span. 200 when it succeeded, 502 when it failed
// (the body says whether it paused the monitor), 409 for a paused monitor.
func (s *Service) checkMonitor(w http.ResponseWriter, r *http.Request) {
	m, r, ok := s.monitorFor(w, r)
	if !ok {
		return
	}
	if m.Status == MonitorPaused {
		writeError(w, http.StatusConflict, "monitor is paused: resume it first", "id")
		return
	}
	res := s.checker.run(r.Context(), m, triggerAPI)
	if res.Aborted {
		writeError(w, http.StatusServiceUnavailable, "check abandoned", "")
		return
	}
	v := checkView{
		Monitor: s.view(res.Monitor), Status: "ok", ChangesDetected: res.ChangesDetected,
		AlertsGenerated: len(res.Alerts), AlertsFailed: res.AlertsFailed, Anomalies: res.Anomalies, Paused: res.Paused,
	}
	if v.Anomalies == nil {
		v.Anomalies = []anomaly{}
	}
	status := http.StatusOK
	if res.Err != nil {
		status, v.Status, v.Error = http.StatusBadGateway, "failed", res.Err.Error()
		v.RequestID = w.Header().Get(requestIDHeader)
	}
	writeJSON(w, status, v)
}

// resumeMonitor handles POST /api/monitors/{id}/resume: a paused monitor
// becomes active with its failure count reset and its next check due at
// once. Resuming an active monitor changes nothing.
func (s *Service) resumeMonitor(w http.ResponseWriter, r *http.Request) {
	m, r, ok := s.monitorFor(w, r)
	if !ok {
		return
	}
	resumed := false
	m, err := s.store.UpdateMonitor(r.Context(), m.ID, func(mm *Monitor) error {
		resumed = mm.Status == MonitorPaused
		if resumed {
			mm.Status, mm.ErrorCount, mm.PausedAt, mm.NextCheckAt = MonitorActive, 0, time.Time{}, time.Now()
		}
		return nil
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if resumed {
		spanEvent(r.Context(), "monitor.resumed", attribute.String("monitor.id", m.ID))
	}
	writeJSON(w, http.StatusOK, s.view(m))
}
