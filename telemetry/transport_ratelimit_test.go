package telemetry

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/internal/fakebackend"
)

func TestTransportRateLimitParsing(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return now.Add(time.Duration(n) * time.Second) }
	cases := []struct {
		name    string
		status  int
		headers map[string]string
		want    rateLimits
	}{
		{"sentry limits per category", 429, map[string]string{"X-Sentry-Rate-Limits": "60:error:organization"},
			rateLimits{"error": sec(60)}},
		{"several limits and categories", 200, map[string]string{"X-Sentry-Rate-Limits": "60:error;transaction:key, 2700:default:organization:quota_exceeded"},
			rateLimits{"error": sec(60), "transaction": sec(60), "default": sec(2700)}},
		{"empty categories mean all", 429, map[string]string{"X-Sentry-Rate-Limits": "30::organization"},
			rateLimits{"": sec(30)}},
		{"fractions round up, malformed skipped", 429, map[string]string{"X-Sentry-Rate-Limits": "1.2:error, nope:transaction"},
			rateLimits{"error": sec(2)}},
		{"sentry limits win over Retry-After", 429, map[string]string{"X-Sentry-Rate-Limits": "5:error", "Retry-After": "100"},
			rateLimits{"error": sec(5)}},
		{"429 Retry-After seconds", 429, map[string]string{"Retry-After": "42"}, rateLimits{"": sec(42)}},
		{"429 Retry-After date", 429, map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, rateLimits{"": sec(90)}},
		{"429 without Retry-After: one minute", 429, nil, rateLimits{"": sec(60)}},
		{"429 with a bad Retry-After: one minute", 429, map[string]string{"Retry-After": "soon"}, rateLimits{"": sec(60)}},
		{"capped", 429, map[string]string{"X-Sentry-Rate-Limits": "999999999999:error"}, rateLimits{"error": now.Add(time.Hour)}},
		{"503 sets no category limit", 503, map[string]string{"Retry-After": "10"}, nil},
	}
	for _, tc := range cases {
		h := http.Header{}
		for k, v := range tc.headers {
			h.Set(k, v)
		}
		got := rateLimitsFromResponse(h, tc.status, now, time.Hour)
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			continue
		}
		for c, d := range tc.want {
			if !got[c].Equal(d) {
				t.Errorf("%s: %q until %v, want %v", tc.name, c, got[c], d)
			}
		}
	}

	l := rateLimits{"default": sec(10), "transaction": sec(20)}
	if !l.until("error").Equal(sec(10)) || !l.until("monitor").IsZero() || !l.next(now).Equal(sec(10)) {
		t.Errorf("until/next on %v wrong", l)
	}
	if d, ok := parseRetryAfter("-5", now); ok {
		t.Errorf("negative Retry-After accepted: %v", d)
	}
}

func TestTransportBackoffDelay(t *testing.T) {
	base, maxD := 100*time.Millisecond, 2*time.Second
	for attempt := 1; attempt <= 40; attempt++ {
		want := min(base<<min(attempt-1, 20), maxD)
		for range 20 {
			d := backoffDelay(attempt, base, maxD)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestTransportEnvelopeFormat(t *testing.T) {
	ev := testEvent("0123456789abcdef0123456789abcdef")
	env, err := newEnvelope(ev, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if env.category != "error" || env.eventID != string(ev.EventID) {
		t.Errorf("envelope = %+v", env)
	}
	stored := env.stored()
	if strings.Contains(string(stored), "sent_at") || strings.Contains(string(stored), `"dsn"`) {
		t.Errorf("stored envelope carries sent_at or dsn: %s", stored)
	}
	sentAt := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	parsed, err := fakebackend.ParseEnvelope(env.wire(sentAt))
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header["sent_at"] != "2026-01-02T03:04:05.000000006Z" || parsed.Header["event_id"] != string(ev.EventID) {
		t.Errorf("header = %v", parsed.Header)
	}
	var payload map[string]any
	if len(parsed.Items) != 1 || parsed.Items[0].Type != "event" || json.Unmarshal(parsed.Items[0].Payload, &payload) != nil {
		t.Fatalf("items = %+v", parsed.Items)
	}
	header, items, id, err := parseStoredEnvelope(stored)
	if err != nil || id != env.eventID || string(header) != string(env.header) || string(items) != string(env.items) {
		t.Errorf("stored envelope does not round-trip: %v", err)
	}
	for _, bad := range [][]byte{stored[:len(stored)/2], []byte("{}\n"), []byte("null\n{\"type\":\"event\"}\n{}\n"), []byte("{}")} {
		if _, _, _, err := parseStoredEnvelope(bad); err == nil {
			t.Errorf("parseStoredEnvelope accepted %q", bad)
		}
	}
	if got := (&envelope{header: []byte("{}")}).wire(sentAt); !strings.HasPrefix(string(got), `{"sent_at":"2026-01-02T03:04:05.000000006Z"}`+"\n") {
		t.Errorf("wire of an empty header = %q", got)
	}
}
