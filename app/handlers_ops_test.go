package app

import (
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
)

func TestTestErrorOutsideProduction(t *testing.T) {
	h := newHarness(t, Config{Environment: "development"})
	w := h.do("POST", "/api/test-error", "")
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	srv := serverSpan(t, h.rec.Ended(), "POST /api/test-error")
	ex, ok := event(srv, "exception")
	if !ok || !strings.Contains(eventAttr(ex, "exception.message"), "test error") || eventAttr(ex, "exception.stacktrace") == "" {
		t.Errorf("no handled error with a stack on the server span: %+v", srv.Events())
	}
	if srv.Status().Code != codes.Error {
		t.Errorf("status %v", srv.Status())
	}
}

func TestTestErrorIs404InProduction(t *testing.T) {
	h := newHarness(t, Config{Environment: "production"})
	w := h.do("POST", "/api/test-error", "")
	if w.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404: %s", w.Code, w.Body)
	}
	if e := decode[errorBody](t, w); e.Error != "not found" {
		t.Errorf("body %+v", e)
	}
	if countEvents(serverSpan(t, h.rec.Ended(), "POST /api/test-error"), "exception") != 0 {
		t.Error("production recorded a test error")
	}
}

func TestFaultsAreOffInProduction(t *testing.T) {
	if _, err := New(Config{Environment: "production", FaultRate: 0.1}); err == nil || !strings.Contains(err.Error(), "FaultRate") {
		t.Errorf("New accepted a fault rate in production: %v", err)
	}
	h := newHarness(t, Config{Environment: "Production"})
	if w := h.do("POST", "/api/analyze", teslaBody, "X-Fault", "panic"); w.Code != http.StatusOK {
		t.Errorf("X-Fault honoured in production: %d", w.Code)
	}
}

func TestPanicFaultIsRecoveredOnTheServerSpan(t *testing.T) {
	h := newHarness(t, Config{})
	w := h.do("POST", "/api/analyze", teslaBody, "X-Fault", "panic", "X-Request-ID", "req-p")
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if e := decode[errorBody](t, w); e.Error != "internal error" || e.RequestID != "req-p" {
		t.Errorf("body %+v", e)
	}
	srv := serverSpan(t, h.rec.Ended(), "POST /api/analyze")
	ex, ok := event(srv, "exception")
	if !ok || eventAttr(ex, "exception.type") != "panic" || !strings.Contains(eventAttr(ex, "exception.stacktrace"), "goroutine") {
		t.Errorf("panic not on the server span: %+v", srv.Events())
	}
	if srv.Status().Code != codes.Error {
		t.Errorf("status %v", srv.Status())
	}
	wantAttr(t, srv, "fault.injected", "panic")
}

func TestUnknownFaultIs400(t *testing.T) {
	h := newHarness(t, Config{})
	w := h.do("POST", "/api/analyze", teslaBody, "X-Fault", "meteor")
	if e := decode[errorBody](t, w); w.Code != http.StatusBadRequest || e.Field != "X-Fault" {
		t.Errorf("status %d, body %+v", w.Code, e)
	}
}

func TestSlowFault(t *testing.T) {
	h := newHarness(t, Config{FaultLatency: 1})
	if w := h.do("POST", "/api/analyze", teslaBody, "X-Fault", "slow"); w.Code != http.StatusOK {
		t.Errorf("status %d", w.Code)
	}
}

func TestUnmatchedPaths(t *testing.T) {
	h := newHarness(t, Config{})
	w := h.do("GET", "/wp-admin/login.php", "")
	if w.Code != http.StatusNotFound || decode[errorBody](t, w).Error != "not found" {
		t.Errorf("unknown path: %d %s", w.Code, w.Body)
	}
	w = h.do("DELETE", "/api/analyze", "")
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") == "" {
		t.Errorf("wrong method: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
	spans := h.rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want one server span per request:\n%s", len(spans), dump(spans))
	}
	for _, s := range spans {
		// A raw path must never become a span (transaction) name.
		if s.Name() != "GET" && s.Name() != "DELETE" {
			t.Errorf("unmatched request span named %q, want its method", s.Name())
		}
		if hasAttr(s, "http.route") {
			t.Errorf("unmatched request has http.route")
		}
		if !hasAttr(s, "request_id") {
			t.Errorf("unmatched request has no request_id")
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t, Config{})
	if w := h.do("GET", "/healthz", ""); w.Code != http.StatusOK {
		t.Errorf("healthz %d", w.Code)
	}
	if w := h.do("GET", "/readyz", ""); w.Code != http.StatusOK {
		t.Errorf("readyz %d", w.Code)
	}
	if err := h.svc.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w := h.do("GET", "/readyz", ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz after Close %d, want 503", w.Code)
	}
}

func TestUserContext(t *testing.T) {
	tests := []struct{ id, tier, wantID, wantTier string }{
		{"u-42", "pro", "u-42", "pro"},
		{"jane@example.com", "Enterprise", "", "enterprise"},
		{"10.1.2.3", "", "", ""},
		{"2001:db8::1", "", "", ""},
		{"u 42", "gold", "", ""},
	}
	for _, tt := range tests {
		h := newHarness(t, Config{})
		h.do("GET", "/healthz", "", "X-User-ID", tt.id, "X-User-Tier", tt.tier)
		srv := serverSpan(t, h.rec.Ended(), "GET /healthz")
		for key, want := range map[string]string{"user.id": tt.wantID, "user.tier": tt.wantTier} {
			v, ok := attr(srv, key)
			if want == "" && ok {
				t.Errorf("%q/%q: %s = %q, want none", tt.id, tt.tier, key, v.AsString())
			}
			if want != "" && v.AsString() != want {
				t.Errorf("%q/%q: %s = %q, want %q", tt.id, tt.tier, key, v.AsString(), want)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{LatencyScale: -1}, {AgentTimeout: -1}, {FaultRate: 1.5}, {FaultLatency: -1},
		{MaxMonitors: -1}, {PauseThreshold: -1}, {CheckTimeout: -1}, {SchedulerInterval: -1},
		{SchedulerWorkers: -1}, {MaxBodyBytes: -1}, {Environment: "production", FaultRate: 0.5},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
}
