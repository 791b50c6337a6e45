package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// createMonitor creates a monitor through the API and returns its ID.
func (h *harness) createMonitor(company string) string {
	h.t.Helper()
	w := h.do("POST", "/api/monitors", fmt.Sprintf(`{"company": %q, "industry": "Automotive", "interval": "1h"}`, company))
	if w.Code != http.StatusCreated {
		h.t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	return decode[monitorView](h.t, w).ID
}

// companyWhose finds a company whose first check's series satisfies pred, so
// tests get an alert or a data-quality failure deterministically.
func companyWhose(t *testing.T, pred func([]float64) bool) string {
	t.Helper()
	for i := range 5000 {
		c := fmt.Sprintf("Company %d", i)
		if pred(genCandles(seeded(c, epFinnhubCandles, 1), query{}).Series) {
			return c
		}
	}
	t.Fatal("no company found")
	return ""
}

func withAlert(s []float64) bool {
	found, err := defaultDetector().detect(s)
	return err == nil && len(alertsFor(Monitor{}, found, time.Time{})) > 0
}

func withGap(s []float64) bool {
	for _, v := range s {
		if math.IsNaN(v) {
			return true
		}
	}
	return false
}

func TestMonitorCRUD(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.createMonitor("Tesla")

	w := h.do("GET", "/api/monitors/"+id, "")
	m := decode[monitorView](t, w)
	if w.Code != http.StatusOK || m.ID != id || m.Status != "active" || m.IntervalSeconds != 3600 || m.PauseThreshold != 5 {
		t.Errorf("get: %d %+v", w.Code, m)
	}
	h.createMonitor("Rivian")
	w = h.do("GET", "/api/monitors?limit=1", "")
	list := decode[struct {
		Monitors []monitorView `json:"monitors"`
		Count    int           `json:"count"`
		Total    int           `json:"total"`
	}](t, w)
	if w.Code != http.StatusOK || list.Count != 1 || list.Total != 2 || list.Monitors[0].Company != "Rivian" {
		t.Errorf("list: %d %+v", w.Code, list)
	}
	srv := serverSpan(t, h.rec.Ended(), "GET /api/monitors/{id}")
	wantAttr(t, srv, "http.route", "/api/monitors/{id}")
	wantAttr(t, srv, "monitor.id", id)

	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/monitors/mon_nope", 404},
		{"GET", "/api/monitors?limit=0", 400},
		{"GET", "/api/monitors?limit=many", 400},
		{"POST", "/api/monitors/mon_nope/check", 404},
		{"POST", "/api/monitors/mon_nope/resume", 404},
	} {
		if w := h.do(tt.method, tt.path, ""); w.Code != tt.status {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, w.Code, tt.status)
		}
	}
}

func TestCreateMonitorBadInput(t *testing.T) {
	h := newHarness(t, Config{MaxMonitors: 1})
	for body, field := range map[string]string{
		`{"industry": "Automotive"}`:                                                      "company",
		`{"company": "Tesla"}`:                                                            "industry",
		`{"company": "Tesla", "industry": "A", "interval": "soon"}`:                       "interval",
		`{"company": "Tesla", "industry": "A", "interval": "10ms"}`:                       "interval",
		`{"company": "Tesla", "industry": "A", "interval": "48h"}`:                        "interval",
		`{"company": "Tesla", "industry": "A", "interval_seconds": 0}`:                    "interval_seconds",
		`{"company": "Tesla", "industry": "A", "interval_seconds": "60"}`:                 "interval_seconds",
		`{"company": "Tesla", "industry": "A", "interval": "1m", "interval_seconds": 60}`: "interval",
		`{"company": "Tesla", "industry": "A", "owner": "x"}`:                             "owner",
	} {
		w := h.do("POST", "/api/monitors", body)
		if e := decode[errorBody](t, w); w.Code != http.StatusBadRequest || e.Field != field {
			t.Errorf("%s: %d %+v, want 400 on %s", body, w.Code, e, field)
		}
	}
	h.createMonitor("Tesla")
	if w := h.do("POST", "/api/monitors", `{"company": "Ford", "industry": "A"}`); w.Code != http.StatusConflict {
		t.Errorf("over the store's bound: %d", w.Code)
	}
}

func TestMonitorCheckSpans(t *testing.T) {
	h := newHarness(t, Config{})
	company := companyWhose(t, withAlert)
	id := h.createMonitor(company)
	w := h.do("POST", "/api/monitors/"+id+"/check", "", "X-User-ID", "u-7")
	if w.Code != http.StatusOK {
		t.Fatalf("check: %d %s", w.Code, w.Body)
	}
	cv := decode[checkView](t, w)
	if cv.ChangesDetected == 0 || cv.AlertsGenerated == 0 || cv.Monitor.Checks != 1 || len(cv.Monitor.RecentAlerts) != cv.AlertsGenerated {
		t.Errorf("check result %+v", cv)
	}

	spans := h.rec.Ended()
	srv := serverSpan(t, spans, "POST /api/monitors/{id}/check")
	checks := named(spans, "monitor.check")
	if len(checks) != 1 || checks[0].Parent().SpanID() != srv.SpanContext().SpanID() {
		t.Fatalf("want one monitor.check under the server span:\n%s", dump(spans))
	}
	c := checks[0]
	wantAttr(t, c, "monitor.id", id)
	wantAttr(t, c, "company", company)
	wantAttr(t, c, "industry", "Automotive")
	wantAttr(t, c, "monitor.error_count", 0)
	wantAttr(t, c, "changes_detected", cv.ChangesDetected)
	wantAttr(t, c, "alerts_generated", cv.AlertsGenerated)
	wantAttr(t, c, "monitor.trigger", "api")
	wantAttr(t, c, "user.id", "u-7")

	kids := childrenOf(spans, c)
	names := map[string]int{}
	for _, k := range kids {
		names[k.Name()]++
		wantAttr(t, k, "monitor.id", id) // inherited through the context
	}
	if names["GET /api/v1/stock/candle"] != 1 || names["monitor.detect_anomalies"] != 1 || names["alert.deliver"] != cv.AlertsGenerated {
		t.Errorf("check children %v", names)
	}
}

// failingSink refuses every alert.
type failingSink struct{}

func (failingSink) Deliver(context.Context, Alert) error { return errors.New("webhook refused") }

func TestAlertDeliveryFailureIsRecordedOnItsSpan(t *testing.T) {
	h := newHarness(t, Config{AlertSink: failingSink{}})
	id := h.createMonitor(companyWhose(t, withAlert))
	w := h.do("POST", "/api/monitors/"+id+"/check", "")
	cv := decode[checkView](t, w)
	if w.Code != http.StatusBadGateway || cv.AlertsFailed == 0 || cv.Monitor.ErrorCount != 1 || cv.Error == "" {
		t.Fatalf("check: %d %+v", w.Code, cv)
	}
	spans := h.rec.Ended()
	for _, d := range named(spans, "alert.deliver") {
		if d.Status().Code != codes.Error || countEvents(d, "exception") != 1 || d.SpanKind() != trace.SpanKindClient {
			t.Errorf("alert.deliver: %v, %d exceptions, kind %v", d.Status(), countEvents(d, "exception"), d.SpanKind())
		}
	}
	c := named(spans, "monitor.check")[0]
	if c.Status().Code != codes.Error || countEvents(c, "exception") != 0 {
		t.Errorf("monitor.check: %v, %d exceptions; want Error and none (recorded on the delivery)", c.Status(), countEvents(c, "exception"))
	}
	wantAttr(t, c, "monitor.error_count", 1)
}

func TestAnomalyDetectionFailureIsRecordedOnItsSpan(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.createMonitor(companyWhose(t, withGap))
	if w := h.do("POST", "/api/monitors/"+id+"/check", ""); w.Code != http.StatusBadGateway {
		t.Fatalf("check: %d %s", w.Code, w.Body)
	}
	d := named(h.rec.Ended(), "monitor.detect_anomalies")[0]
	ex, ok := event(d, "exception")
	if !ok || d.Status().Code != codes.Error {
		t.Fatalf("detect span: %v %+v", d.Status(), d.Events())
	}
	if msg := eventAttr(ex, "exception.message"); !strings.Contains(msg, errDataQuality.Error()) {
		t.Errorf("exception.message %q", msg)
	}
}

func TestMonitorPausesAfterThreshold(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.createMonitor("Tesla")
	for i := 1; i <= 5; i++ {
		w := h.do("POST", "/api/monitors/"+id+"/check", "", "X-Fault", "error")
		cv := decode[checkView](t, w)
		if w.Code != http.StatusBadGateway || cv.Monitor.ErrorCount != i || cv.Paused != (i == 5) {
			t.Fatalf("failed check %d: %d %+v", i, w.Code, cv)
		}
	}
	checks := named(h.rec.Ended(), "monitor.check")
	for i, c := range checks {
		wantAttr(t, c, "monitor.error_count", i+1)
		_, paused := event(c, "monitor.paused")
		if paused != (i == 4) {
			t.Errorf("check %d: monitor.paused event %v", i+1, paused)
		}
		if c.Status().Code != codes.Error {
			t.Errorf("check %d: status %v", i+1, c.Status())
		}
	}
	ev, _ := event(checks[4], "monitor.paused")
	if eventAttr(ev, "monitor.pause_threshold") != "5" {
		t.Errorf("monitor.paused attributes %v", ev.Attributes)
	}
	wantAttr(t, checks[4], "monitor.status", "paused")

	if m := decode[monitorView](t, h.do("GET", "/api/monitors/"+id, "")); m.Status != "paused" || m.ErrorCount != 5 || m.LastError == "" {
		t.Errorf("monitor after threshold: %+v", m)
	}
	if w := h.do("POST", "/api/monitors/"+id+"/check", ""); w.Code != http.StatusConflict {
		t.Errorf("check of a paused monitor: %d", w.Code)
	}
	if m := decode[monitorView](t, h.do("POST", "/api/monitors/"+id+"/resume", "")); m.Status != "active" || m.ErrorCount != 0 {
		t.Errorf("after resume: %+v", m)
	}
	if w := h.do("POST", "/api/monitors/"+id+"/check", ""); w.Code != http.StatusOK {
		t.Errorf("check after resume: %d %s", w.Code, w.Body)
	}
}

func TestCheckTimeout(t *testing.T) {
	h := newHarness(t, Config{CheckTimeout: 50 * time.Millisecond})
	id := h.createMonitor("Tesla")
	w := h.do("POST", "/api/monitors/"+id+"/check", "", "X-Fault", "timeout")
	if w.Code != http.StatusBadGateway {
		t.Fatalf("check: %d %s", w.Code, w.Body)
	}
	c := named(h.rec.Ended(), "monitor.check")[0]
	wantAttr(t, c, "error.type", "timeout")
	if ex, ok := event(c, "exception"); !ok || eventAttr(ex, "exception.type") == "" {
		t.Errorf("the check's own deadline is recorded on it: %+v", c.Events())
	}
}

func TestSchedulerRunsChecksAsRootSpans(t *testing.T) {
	h := newHarness(t, Config{SchedulerInterval: 5 * time.Millisecond, SchedulerWorkers: 2})
	ids := map[string]bool{h.createMonitor("Tesla"): true, h.createMonitor("Rivian"): true}
	h.svc.Start(t.Context())
	spans := h.waitSpans(func(spans []sdktrace.ReadOnlySpan) bool {
		seen := map[string]bool{}
		for _, s := range named(spans, "monitor.check") {
			v, _ := attr(s, "monitor.id")
			seen[v.AsString()] = true
		}
		return len(seen) == len(ids)
	})
	for _, c := range named(spans, "monitor.check") {
		if c.Parent().IsValid() {
			t.Errorf("scheduled check has a parent %v", c.Parent())
		}
		wantAttr(t, c, "monitor.trigger", "scheduler")
		if hasAttr(c, "request_id") {
			t.Error("a background check carries a request's attributes")
		}
		if len(childrenOf(spans, c)) == 0 {
			t.Error("scheduled check has no child spans")
		}
	}
	if w := h.do("GET", "/readyz", ""); decode[map[string]string](t, w)["scheduler"] != "running" {
		t.Errorf("readyz %s", w.Body)
	}
	if err := h.svc.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := h.svc.sched.state(); got != "stopped" {
		t.Errorf("scheduler %s after Close", got)
	}
}

// blockingSink holds every delivery until its context is done.
type blockingSink struct{ entered, exited chan struct{} }

func (s blockingSink) Deliver(ctx context.Context, _ Alert) error {
	s.entered <- struct{}{}
	<-ctx.Done()
	s.exited <- struct{}{}
	return ctx.Err()
}

func TestCloseRespectsItsContextAndStopsChecks(t *testing.T) {
	sink := blockingSink{entered: make(chan struct{}, 10), exited: make(chan struct{}, 10)}
	h := newHarness(t, Config{SchedulerInterval: 5 * time.Millisecond, AlertSink: sink, CheckTimeout: time.Hour})
	h.createMonitor(companyWhose(t, withAlert))
	h.svc.Start(t.Context())
	<-sink.entered // a check is in flight, stuck in delivery

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := h.svc.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want its context's deadline", err)
	}
	<-sink.exited // Close cancelled the check it could not wait for
	spans := h.waitSpans(countNamed("monitor.check", 1))
	c := named(spans, "monitor.check")[0]
	wantAttr(t, c, "error.type", "canceled")
	for _, s := range spans {
		if countEvents(s, "exception") != 0 {
			t.Errorf("%s: a check abandoned at shutdown is not an error event", s.Name())
		}
	}
	id, _ := attr(c, "monitor.id")
	m, _ := h.svc.store.Monitor(t.Context(), id.AsString())
	if m.ErrorCount != 0 {
		t.Errorf("an abandoned check counted as a failure: %+v", m)
	}
}

func TestSimulatedWebhook(t *testing.T) {
	a := Alert{ID: "alt_1"}
	if err := (simulatedWebhook{refuseRate: 1}).Deliver(t.Context(), a); err == nil {
		t.Fatal("a webhook refusing every delivery delivered")
	} else if ue := (*upstreamError)(nil); !errors.As(err, &ue) || ue.Status != 503 || !strings.Contains(err.Error(), "alt_1") {
		t.Errorf("refusal %v, want a 503 from alerts-webhook naming the alert", err)
	}
	if err := (simulatedWebhook{}).Deliver(t.Context(), a); err != nil {
		t.Errorf("a webhook that never refuses: %v", err)
	}
	if w, ok := newSimulatedWebhook(0).(simulatedWebhook); !ok || w.refuseRate != webhookRefuseRate {
		t.Errorf("the service's default sink %+v, want refuse rate %v", w, webhookRefuseRate)
	}
}
