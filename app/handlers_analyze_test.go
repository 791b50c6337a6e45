package app

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

const teslaBody = `{"company": "Tesla", "industry": "Automotive", "frameworks": ["porter", "swot"]}`

var agentSources = map[string][]string{
	"FinancialAgent": {"yfinance", "finnhub"},
	"MarketAgent":    {"market_data", "finnhub"},
	"ResearchAgent":  {"news", "sec_edgar"},
}

func TestAnalyzeSpanTree(t *testing.T) {
	h := newHarness(t, Config{})
	w := h.do("POST", "/api/analyze", teslaBody, "X-Request-ID", "req-123", "X-User-ID", "u-42", "X-User-Tier", "pro")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if got := w.Header().Get("X-Request-ID"); got != "req-123" {
		t.Errorf("X-Request-ID echoed as %q", got)
	}
	rep := decode[analysisReport](t, w)
	if rep.Status != analysisComplete || len(rep.Results) != 3 || len(rep.FailedAgents)+len(rep.TimedOutAgents) != 0 {
		t.Errorf("report: status %s, %d results, failed %v, timed out %v", rep.Status, len(rep.Results), rep.FailedAgents, rep.TimedOutAgents)
	}
	if _, ok := rep.Results["MarketAgent"]["frameworks"].(map[string]any)["porter"]; !ok {
		t.Errorf("MarketAgent did not apply porter: %v", rep.Results["MarketAgent"])
	}

	spans := h.waitSpans(countNamed("agent.execute", 3))
	srv := serverSpan(t, spans, "POST /api/analyze")
	wantAttr(t, srv, "http.route", "/api/analyze")
	wantAttr(t, srv, "request_id", "req-123")
	wantAttr(t, srv, "user.id", "u-42")
	wantAttr(t, srv, "user.tier", "pro")
	wantAttr(t, srv, "company", "Tesla")
	wantAttr(t, srv, "analysis.status", analysisComplete)

	agents := childrenOf(spans, srv)
	if len(agents) != 3 {
		t.Fatalf("server span has %d children, want 3 agent spans:\n%s", len(agents), dump(spans))
	}
	for _, a := range agents {
		if a.Name() != "agent.execute" {
			t.Errorf("child of the server span named %q", a.Name())
			continue
		}
		name, _ := attr(a, "agent.name")
		wantAttr(t, a, "agent.data_sources", agentSources[name.AsString()])
		for _, k := range []string{"agent.timeout", "execution_time"} {
			if !hasAttr(a, k) {
				t.Errorf("%s: no %s", name.AsString(), k)
			}
		}
		wantAttr(t, a, "agent.timed_out", false)
		// Inherited from the request through the context helpers.
		wantAttr(t, a, "user.id", "u-42")
		wantAttr(t, a, "request_id", "req-123")
		for _, ev := range []string{"agent.started", "agent.succeeded"} {
			if _, ok := event(a, ev); !ok {
				t.Errorf("%s: no %s event", name.AsString(), ev)
			}
		}
		if a.Status().Code == codes.Error {
			t.Errorf("%s: status Error", name.AsString())
		}

		calls := childrenOf(spans, a)
		if len(calls) != 2 {
			t.Errorf("%s has %d data-source spans, want 2", name.AsString(), len(calls))
		}
		for i, c := range calls {
			if c.SpanKind() != trace.SpanKindClient {
				t.Errorf("%s: %s is %v, want client", name.AsString(), c.Name(), c.SpanKind())
			}
			if !strings.HasPrefix(c.Name(), "GET /") {
				t.Errorf("data-source span named %q, want GET {url.template}", c.Name())
			}
			if i < len(agentSources[name.AsString()]) {
				wantAttr(t, c, "service.peer.name", agentSources[name.AsString()][i])
			}
			wantAttr(t, c, "http.request.method", "GET")
			wantAttr(t, c, "http.response.status_code", 200)
			for _, k := range []string{"server.address", "url.template"} {
				if !hasAttr(c, k) {
					t.Errorf("%s: no %s", c.Name(), k)
				}
			}
			wantAttr(t, c, "agent.name", name.AsString())
			wantAttr(t, c, "user.tier", "pro")
			wantAttr(t, c, "company", "Tesla")
		}
	}
}

// withTimeout gives one agent a short timeout, leaving the others theirs, so
// a slow test machine cannot time out the agents meant to succeed.
type withTimeout struct {
	agent
	d time.Duration
}

func (a withTimeout) Timeout() time.Duration { return a.d }

func TestAnalyzeAgentTimeout(t *testing.T) {
	h := newHarness(t, Config{})
	for i, a := range h.svc.agents {
		if a.Name() == faultAgent {
			h.svc.agents[i] = withTimeout{a, 100 * time.Millisecond}
		}
	}
	w := h.do("POST", "/api/analyze", teslaBody, "X-Fault", "timeout")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	rep := decode[analysisReport](t, w)
	if rep.Status != analysisPartial || len(rep.TimedOutAgents) != 1 || rep.TimedOutAgents[0] != "ResearchAgent" || len(rep.Results) != 2 {
		t.Fatalf("report: status %s, timed out %v, results %d", rep.Status, rep.TimedOutAgents, len(rep.Results))
	}

	spans := h.waitSpans(countNamed("agent.execute", 3))
	agents := byAgent(spans)
	r := agents["ResearchAgent"]
	if r.Status().Code != codes.Error {
		t.Errorf("timed-out agent status %v", r.Status())
	}
	wantAttr(t, r, "agent.timed_out", true)
	wantAttr(t, r, "error.type", "timeout")
	ex, ok := event(r, "exception")
	if !ok {
		t.Fatalf("timed-out agent has no exception event")
	}
	if got := eventAttr(ex, "exception.type"); got != "context.deadlineExceededError" {
		t.Errorf("exception.type %q, want context.DeadlineExceeded's type", got)
	}
	if got := eventAttr(ex, "exception.message"); got != context.DeadlineExceeded.Error() {
		t.Errorf("exception.message %q", got)
	}
	if _, ok := event(r, "agent.failed"); !ok {
		t.Error("no agent.failed event")
	}
	for _, name := range []string{"FinancialAgent", "MarketAgent"} {
		a := agents[name]
		if a.Status().Code == codes.Error || countEvents(a, "exception") != 0 {
			t.Errorf("%s should have succeeded: %v", name, a.Status())
		}
		if _, ok := event(a, "agent.succeeded"); !ok {
			t.Errorf("%s: no agent.succeeded", name)
		}
		wantAttr(t, a, "agent.timed_out", false)
	}
}

func TestAnalyzeUpstreamErrorRecordedOnce(t *testing.T) {
	h := newHarness(t, Config{})
	w := h.do("POST", "/api/analyze", teslaBody, "X-Fault", "error")
	rep := decode[analysisReport](t, w)
	if w.Code != http.StatusOK || rep.Status != analysisPartial || len(rep.FailedAgents) != 1 || rep.FailedAgents[0] != "ResearchAgent" {
		t.Fatalf("status %d, report %+v", w.Code, rep)
	}
	spans := h.waitSpans(countNamed("agent.execute", 3))
	srv := serverSpan(t, spans, "POST /api/analyze")
	wantAttr(t, srv, "fault.injected", "error")
	r := byAgent(spans)["ResearchAgent"]
	calls := childrenOf(spans, r)
	if len(calls) != 1 {
		t.Fatalf("ResearchAgent made %d calls, want 1 (it stops at the first failure)", len(calls))
	}
	news := calls[0]
	wantAttr(t, news, "service.peer.name", "news")
	wantAttr(t, news, "http.response.status_code", 503)
	wantAttr(t, news, "error.type", "503")
	if news.Status().Code != codes.Error || countEvents(news, "exception") != 1 {
		t.Errorf("data-source span: status %v, %d exception events; want Error and 1", news.Status(), countEvents(news, "exception"))
	}
	if r.Status().Code != codes.Error || countEvents(r, "exception") != 0 {
		t.Errorf("agent span: status %v, %d exception events; want Error and 0 (recorded once, on the call)", r.Status(), countEvents(r, "exception"))
	}
	wantAttr(t, r, "error.type", "503")
	wantAttr(t, r, "agent.timed_out", false)
}

// panicAgent shows that baseAgent contains a panicking agent.
type panicAgent struct{}

func (panicAgent) Name() string           { return "PanicAgent" }
func (panicAgent) Timeout() time.Duration { return time.Second }
func (panicAgent) Endpoints() []string    { return nil }
func (panicAgent) Run(context.Context, fetchFunc, analysisRequest) (map[string]any, error) {
	panic("agent bug")
}

func TestAnalyzeAgentPanicIsAFailure(t *testing.T) {
	h := newHarness(t, Config{})
	h.svc.agents = append(h.svc.agents, panicAgent{})
	w := h.do("POST", "/api/analyze", teslaBody)
	rep := decode[analysisReport](t, w)
	if w.Code != http.StatusOK || rep.Status != analysisPartial || len(rep.FailedAgents) != 1 {
		t.Fatalf("status %d, report %+v", w.Code, rep)
	}
	p := byAgent(h.waitSpans(countNamed("agent.execute", 4)))["PanicAgent"]
	ex, ok := event(p, "exception")
	if !ok || eventAttr(ex, "exception.type") != "panic" || !strings.Contains(eventAttr(ex, "exception.stacktrace"), "goroutine") {
		t.Errorf("panic not recorded with type panic and a stack: %+v", p.Events())
	}
}

func TestAnalyzeAllAgentsFailIs502(t *testing.T) {
	h := newHarness(t, Config{})
	h.svc.agents = []agent{researchAgent{}}
	w := h.do("POST", "/api/analyze", teslaBody, "X-Fault", "error")
	if w.Code != http.StatusBadGateway || decode[analysisReport](t, w).Status != analysisFailed {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	h := newHarness(t, Config{MaxBodyBytes: 1024})
	tests := []struct {
		name, body, contentType string
		status                  int
		field                   string
	}{
		{"empty body", "", "application/json", 400, "body"},
		{"not JSON", "{company", "application/json", 400, "body"},
		{"missing company", `{"industry": "Automotive"}`, "application/json", 400, "company"},
		{"blank company", `{"company": "  ", "industry": "Automotive"}`, "application/json", 400, "company"},
		{"missing industry", `{"company": "Tesla"}`, "application/json", 400, "industry"},
		{"company too long", `{"company": "` + strings.Repeat("x", 201) + `", "industry": "A"}`, "application/json", 400, "company"},
		{"control character", `{"company": "Tes\nla", "industry": "A"}`, "application/json", 400, "company"},
		{"wrong type", `{"company": 42, "industry": "A"}`, "application/json", 400, "company"},
		{"unknown field", `{"company": "Tesla", "industry": "A", "depth": 3}`, "application/json", 400, "depth"},
		{"unknown framework", `{"company": "Tesla", "industry": "A", "frameworks": ["swot", "magic"]}`, "application/json", 400, "frameworks[1]"},
		{"trailing data", `{"company": "Tesla", "industry": "A"} {}`, "application/json", 400, "body"},
		{"too large", `{"company": "` + strings.Repeat("x", 2000) + `"}`, "application/json", 413, "body"},
		{"not JSON content type", `{"company": "Tesla", "industry": "A"}`, "text/plain", 415, "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := h.do("POST", "/api/analyze", tt.body, "Content-Type", tt.contentType)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			e := decode[errorBody](t, w)
			if e.Error == "" || e.Field != tt.field || e.RequestID == "" {
				t.Errorf("error body %+v, want field %q, a message and the request ID", e, tt.field)
			}
		})
	}
	for _, s := range named(h.rec.Ended(), "POST /api/analyze") {
		if countEvents(s, "exception") != 0 || s.Status().Code == codes.Error {
			t.Errorf("a 4xx is the client's error, not the server's: %v", s.Status())
		}
	}
	if n := len(named(h.rec.Ended(), "agent.execute")); n != 0 {
		t.Errorf("%d agents ran for invalid input", n)
	}
}

func TestAnalyzeKeepsPIIForThePipeline(t *testing.T) {
	h := newHarness(t, Config{})
	w := h.do("POST", "/api/analyze", `{"company": "jane.doe@example.com", "industry": "Retail"}`, "X-User-ID", "jane.doe@example.com")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	srv := serverSpan(t, h.waitSpans(countNamed("agent.execute", 3)), "POST /api/analyze")
	// Redaction is the pipeline's job: the service passes the company on as
	// given, but never makes an email a user ID.
	wantAttr(t, srv, "company", "jane.doe@example.com")
	if hasAttr(srv, "user.id") {
		t.Error("an email address became user.id")
	}
}

func TestAgentReturnsAtItsTimeoutEvenIfItIgnoresContext(t *testing.T) {
	h := newHarness(t, Config{AgentTimeout: 50 * time.Millisecond})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	rep := h.svc.runner.execute(context.Background(), stubbornAgent{release}, analysisRequest{Company: "X"})
	if rep.Status != agentTimedOut {
		t.Fatalf("status %s, want %s", rep.Status, agentTimedOut)
	}
}

// stubbornAgent ignores its context until released.
type stubbornAgent struct{ release chan struct{} }

func (stubbornAgent) Name() string           { return "StubbornAgent" }
func (stubbornAgent) Timeout() time.Duration { return time.Hour }
func (stubbornAgent) Endpoints() []string    { return nil }
func (a stubbornAgent) Run(context.Context, fetchFunc, analysisRequest) (map[string]any, error) {
	<-a.release
	return nil, errors.New("released")
}
