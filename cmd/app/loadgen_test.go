package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/app"
)

// startLoadTarget runs the real service on a test server, fast: small
// latencies and short timeouts, so faults resolve quickly.
func startLoadTarget(t *testing.T) *httptest.Server {
	t.Helper()
	svc, err := app.New(app.Config{
		Environment:       "test",
		Logger:            slog.New(slog.DiscardHandler),
		LatencyScale:      0.05,
		AgentTimeout:      200 * time.Millisecond,
		CheckTimeout:      time.Second,
		FaultLatency:      20 * time.Millisecond,
		SchedulerInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc.Start(ctx)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := svc.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

func TestLoadgenAgainstTheService(t *testing.T) {
	srv := startLoadTarget(t)
	var stdout, stderr bytes.Buffer
	code := runLoadgen([]string{"-url", srv.URL, "-rps", "150", "-duration", "1500ms", "-concurrency", "32",
		"-fault-share", "0.3", "-pii-share", "0.3", "-seed", "7", "-json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	var s summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout.String())
	}
	if s.Sent == 0 || s.Completed != s.Sent || s.Sent+s.Shed > 226 {
		t.Errorf("requests: sent %d, completed %d, shed %d (budget 225)", s.Sent, s.Completed, s.Shed)
	}
	if s.Errors["transport"] != 0 || s.Errors["timeout"] != 0 {
		t.Errorf("transport errors against a healthy service: %v", s.Errors)
	}
	// Organic check failures (an alert the simulated webhook refused, a gap
	// in a series) are 502s without a fault: worth seeing, not a failure.
	t.Logf("unexpected errors: %d of %d (%v)", s.Unexpected, s.Completed, s.Errors)
	for _, o := range []op{opAnalyze, opMonitorCreate, opMonitorGet, opMonitorCheck} {
		if s.ByOp[string(o)] == 0 {
			t.Errorf("no %s in the mix: %v", o, s.ByOp)
		}
	}
	if s.ByOp[string(opAnalyzeInvalid)] > 0 && s.Errors["http_400"] == 0 {
		t.Errorf("invalid input should show as 400s: %v", s.Errors)
	}
	if s.Faults["panic"] > 0 && s.Errors["http_500"] == 0 {
		t.Errorf("panic faults should show as 500s: %v", s.Errors)
	}
	if len(s.Faults) == 0 || s.PII == 0 {
		t.Errorf("faults %v, pii %d", s.Faults, s.PII)
	}
	if !(s.LatencyMS.P50 > 0 && s.LatencyMS.P50 <= s.LatencyMS.P95 && s.LatencyMS.P95 <= s.LatencyMS.P99 && s.LatencyMS.P99 <= s.LatencyMS.Max) {
		t.Errorf("latency percentiles out of order: %+v", s.LatencyMS)
	}
	if s.AchievedRPS <= 0 {
		t.Errorf("achieved rps %v", s.AchievedRPS)
	}
	if !strings.Contains(stderr.String(), "loadgen: ") || !strings.Contains(stderr.String(), "rps=") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}
}

func TestLoadgenTextSummaryAndRequestBound(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code := runLoadgen([]string{"-url", srv.URL, "-rps", "1000", "-duration", "10s", "-requests", "25"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if n := hits.Load(); n != 25 {
		t.Errorf("%d requests reached the server, want exactly -requests 25", n)
	}
	for _, want := range []string{"requests   25 sent", "latency    p50", "achieved"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestLoadgenNeverFollowsRedirects(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.RedirectHandler(other.URL, http.StatusFound))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	runLoadgen([]string{"-url", srv.URL, "-rps", "1000", "-duration", "1s", "-requests", "10", "-json"}, &stdout, &stderr)
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d requests followed a redirect to another host", n)
	}
}

func TestLoadgenUnreachableExits1(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	var stdout, stderr bytes.Buffer
	if code := runLoadgen([]string{"-url", url, "-rps", "100", "-duration", "1s", "-requests", "3"}, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
}

func TestLoadgenFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "ftp://127.0.0.1"},
		{"-url", "http://"},
		{"-rps", "0"},
		{"-duration", "-1s"},
		{"-concurrency", "0"},
		{"-fault-share", "2"},
		{"-pii-share", "-0.1"},
		{"-requests", "-5"},
		{"surplus"},
	} {
		var stdout, stderr bytes.Buffer
		if code := runLoadgen(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
