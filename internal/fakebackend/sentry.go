package fakebackend

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Sentry is one Sentry project on 127.0.0.1, both of its ingestion
// endpoints: OTLP traces at /api/42/integration/otlp/v1/traces/ (gzip
// protobuf, decoded by fakebackend.OTLP) and envelopes at /api/42/envelope/
// (parsed item by item). It keeps every body, decompressed, for secret greps.
// Anything else it is sent fails the test.
type Sentry struct {
	*httptest.Server
	t    testing.TB
	otlp *OTLP // the OTLP decoder; its own listener is unused

	mu        sync.Mutex
	envelopes []Envelope
	raw       [][]byte
}

const sentryProject = "42"

// Envelope is one envelope: its header and its items.
type Envelope struct {
	Header map[string]any
	Items  []EnvelopeItem
}

// EnvelopeItem is one envelope item: its header (type, optional length, …)
// and its payload bytes.
type EnvelopeItem struct {
	Header  map[string]any
	Type    string
	Payload []byte
}

// NewSentry starts a fake Sentry project that is closed when the test ends.
func NewSentry(t testing.TB) *Sentry {
	t.Helper()
	f := &Sentry{t: t, otlp: NewOTLP(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/"+sentryProject+"/integration/otlp/v1/traces/", f.otlp.ServeHTTP)
	mux.HandleFunc("POST /api/"+sentryProject+"/envelope/", f.serveEnvelope)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake Sentry: unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// DSN is the project's DSN.
func (f *Sentry) DSN() string {
	return "http://public@" + strings.TrimPrefix(f.URL, "http://") + "/" + sentryProject
}

func (f *Sentry) serveEnvelope(w http.ResponseWriter, r *http.Request) {
	body, err := ReadBody(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	env, err := ParseEnvelope(body)
	if err != nil {
		f.t.Errorf("fake Sentry: malformed envelope: %v\n%s", err, body)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.envelopes = append(f.envelopes, env)
	f.raw = append(f.raw, body)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"id":%q}`, env.Header["event_id"])
}

// ParseEnvelope reads Sentry's envelope format: a header line of JSON, then
// items, each an item header line of JSON and a payload — of exactly
// "length" bytes when the header gives one, else up to the next newline.
func ParseEnvelope(b []byte) (Envelope, error) {
	var env Envelope
	rd := bufio.NewReader(bytes.NewReader(b))
	line, err := readLine(rd)
	if err != nil {
		return env, fmt.Errorf("envelope header: %w", err)
	}
	if err := json.Unmarshal(line, &env.Header); err != nil {
		return env, fmt.Errorf("envelope header: %w", err)
	}
	for {
		line, err := readLine(rd)
		if err == io.EOF {
			return env, nil
		}
		if err != nil {
			return env, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var it EnvelopeItem
		if err := json.Unmarshal(line, &it.Header); err != nil {
			return env, fmt.Errorf("item header %q: %w", line, err)
		}
		it.Type, _ = it.Header["type"].(string)
		if it.Type == "" {
			return env, fmt.Errorf("item header %q: no type", line)
		}
		if n, ok := it.Header["length"].(float64); ok {
			it.Payload = make([]byte, int(n))
			if _, err := io.ReadFull(rd, it.Payload); err != nil {
				return env, fmt.Errorf("%s payload of %d bytes: %w", it.Type, int(n), err)
			}
			if c, err := rd.ReadByte(); err == nil && c != '\n' {
				return env, fmt.Errorf("%s payload longer than its length %d", it.Type, int(n))
			}
		} else if it.Payload, err = readLine(rd); err != nil && err != io.EOF {
			return env, err
		}
		env.Items = append(env.Items, it)
	}
}

// readLine returns the next line without its newline; io.EOF only when
// nothing is left.
func readLine(rd *bufio.Reader) ([]byte, error) {
	line, err := rd.ReadBytes('\n')
	if err == io.EOF && len(line) > 0 {
		return line, nil
	}
	return bytes.TrimSuffix(line, []byte("\n")), err
}

// Event is the part of an error event the tests read.
// Event is the part of a Sentry error event the tests assert on.
type Event struct {
	EventID     string                    `json:"event_id"`
	Level       string                    `json:"level"`
	Transaction string                    `json:"transaction"`
	Environment string                    `json:"environment"`
	Release     string                    `json:"release"`
	Timestamp   string                    `json:"timestamp"`
	Tags        map[string]string         `json:"tags"`
	Fingerprint []string                  `json:"fingerprint"`
	Contexts    map[string]map[string]any `json:"contexts"`
	User        map[string]any            `json:"user"`
	Request     map[string]any            `json:"request"`
	Exception   valuesList[struct {
		Type       string         `json:"type"`
		Value      string         `json:"value"`
		Mechanism  map[string]any `json:"mechanism"`
		Stacktrace struct {
			Frames []struct {
				Function string `json:"function"`
				Module   string `json:"module"`
				Filename string `json:"filename"`
				AbsPath  string `json:"abs_path"`
				Lineno   int    `json:"lineno"`
				InApp    bool   `json:"in_app"`
			} `json:"frames"`
		} `json:"stacktrace"`
	}] `json:"exception"`
	Breadcrumbs valuesList[struct {
		Type      string         `json:"type"`
		Category  string         `json:"category"`
		Message   string         `json:"message"`
		Level     string         `json:"level"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}] `json:"breadcrumbs"`

	raw []byte
}

// Raw is the event's payload as received.
func (e Event) Raw() []byte { return e.raw }

// valuesList reads the two forms the event protocol allows for exception
// and breadcrumbs: a bare array (what sentry-go sends) or {"values": [...]}.
type valuesList[T any] struct{ Values []T }

func (v *valuesList[T]) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		return json.Unmarshal(b, &v.Values)
	}
	var obj struct {
		Values []T `json:"values"`
	}
	err := json.Unmarshal(b, &obj)
	v.Values = obj.Values
	return err
}

// Events decodes every "event" item received so far.
func (f *Sentry) Events() []Event {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Event
	for _, env := range f.envelopes {
		for _, it := range env.Items {
			if it.Type != "event" {
				continue
			}
			var ev Event
			if err := json.Unmarshal(it.Payload, &ev); err != nil {
				f.t.Errorf("fake Sentry: event payload: %v", err)
				continue
			}
			if id, _ := env.Header["event_id"].(string); id != ev.EventID {
				f.t.Errorf("envelope header event_id %q != event's %q", id, ev.EventID)
			}
			ev.raw = it.Payload
			out = append(out, ev)
		}
	}
	return out
}

// Spans returns every span received over OTLP.
func (f *Sentry) Spans() []*tracepb.Span { return f.otlp.Spans() }

// RawEnvelopes is every envelope body received, joined.
func (f *Sentry) RawEnvelopes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Join(f.raw, []byte("\n"))
}

// RawOTLP is every OTLP body received, decompressed, joined.
func (f *Sentry) RawOTLP() []byte { return f.otlp.RawBytes() }

// OTLPRequests is how many OTLP export requests arrived.
func (f *Sentry) OTLPRequests() int { return len(f.otlp.Requests()) }

// CheckIn is a Sentry Crons check-in ("check_in" envelope item) as received.
type CheckIn struct {
	CheckInID     string         `json:"check_in_id"`
	MonitorSlug   string         `json:"monitor_slug"`
	Status        string         `json:"status"`
	Duration      float64        `json:"duration"` // seconds; 0 when absent
	Environment   string         `json:"environment"`
	Release       string         `json:"release"`
	MonitorConfig *MonitorConfig `json:"monitor_config"`

	raw []byte
}

// MonitorConfig is the monitor configuration a check-in carries, which
// Sentry creates or updates the monitor from.
type MonitorConfig struct {
	Schedule struct {
		Type  string `json:"type"`
		Value any    `json:"value"` // a number (interval) or a crontab string
		Unit  string `json:"unit"`
	} `json:"schedule"`
	CheckInMargin         int64  `json:"checkin_margin"`
	MaxRuntime            int64  `json:"max_runtime"`
	Timezone              string `json:"timezone"`
	FailureIssueThreshold int64  `json:"failure_issue_threshold"`
	RecoveryThreshold     int64  `json:"recovery_threshold"`
}

// Raw is the check-in's payload as received.
func (c CheckIn) Raw() []byte { return c.raw }

// CheckIns decodes every "check_in" item received so far, in arrival order.
func (f *Sentry) CheckIns() []CheckIn {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []CheckIn
	for _, env := range f.envelopes {
		for _, it := range env.Items {
			if it.Type != "check_in" {
				continue
			}
			var ci CheckIn
			if err := json.Unmarshal(it.Payload, &ci); err != nil {
				f.t.Errorf("fake Sentry: check_in payload: %v", err)
				continue
			}
			ci.raw = it.Payload
			out = append(out, ci)
		}
	}
	return out
}
