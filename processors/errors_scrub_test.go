package processors

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/getsentry/sentry-go"

	"github.com/otelsentry/otelsentry/processors/redact"
)

// TestScrubEventReachesEveryString is BeforeSend's contract: an event built
// anywhere — here by hand, as a library calling sentry-go would — leaves with
// no secret in any field, identifiers intact.
func TestScrubEventReachesEveryString(t *testing.T) {
	const email = "jane.doe@example.com"
	const card = "4111111111111111"
	// An all-digit trace ID: a pattern rule must not touch it.
	const traceID = "55555555555544445555555555554444"
	type custom struct{ Owner string }
	ev := &sentry.Event{
		Message:     "mail " + email,
		Transaction: "GET /users/" + email,
		ServerName:  "host",
		Fingerprint: []string{"user:" + email},
		Tags:        map[string]string{"customer": email, "password": "hunter2hunter2"},
		User:        sentry.User{ID: "u1", Email: email, IPAddress: "203.0.113.7", Username: email, Data: map[string]string{"mail": email}},
		Request: &sentry.Request{URL: "https://x.test/?token=abcd1234abcd1234", QueryString: "email=" + email,
			Cookies: "session=secret", Headers: map[string]string{"Authorization": "Bearer abcdefghijklmnopqrstuvwxyz0123"}},
		Exception: []sentry.Exception{{Type: "E", Value: "card " + card + " for " + email,
			Stacktrace: &sentry.Stacktrace{Frames: []sentry.Frame{{Function: "f", AbsPath: "/home/" + email + "/x.go",
				Vars: map[string]any{"to": email}}}}}},
		Breadcrumbs: []*sentry.Breadcrumb{{Message: "login " + email, Data: map[string]any{"card": int64(4111111111111111), "n": 3}}},
		Contexts: map[string]sentry.Context{
			"trace":  {"trace_id": traceID, "span_id": "5555555555554444", "op": "op " + email},
			"custom": {"nested": map[string]any{"list": []any{email, 4111111111111111.0}}, "struct": custom{Owner: email}, "ss": []string{email}},
		},
		Attachments: []*sentry.Attachment{{Filename: "log.txt", ContentType: "text/plain", Payload: []byte(email)}},
	}
	out := ScrubEvent(redact.Default(), ev)
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw) + string(out.Attachments[0].Payload)
	for _, secret := range []string{email, card, "203.0.113.7", "hunter2hunter2", "abcd1234abcd1234", "session=secret", "abcdefghijklmnopqrstuvwxyz0123"} {
		if strings.Contains(s, secret) {
			t.Errorf("%q survived scrubbing:\n%s", secret, s)
		}
	}
	if out.Contexts["trace"]["trace_id"] != traceID || out.Contexts["trace"]["span_id"] != "5555555555554444" {
		t.Errorf("trace IDs were rewritten: %v", out.Contexts["trace"])
	}
	if out.User.ID != "u1" || out.Breadcrumbs[0].Data["n"] != int64(3) {
		t.Errorf("safe values changed: user %q, n %v", out.User.ID, out.Breadcrumbs[0].Data["n"])
	}
	if ScrubEvent(redact.Default(), nil) != nil {
		t.Error("nil event")
	}
}

// textOnly is a Scrubber without Int: integers are checked as text.
type textOnly struct{ e *redact.Engine }

func (s textOnly) String(v string) (string, bool)  { return s.e.String(v) }
func (s textOnly) Attr(k, v string) (string, bool) { return s.e.Attr(k, v) }

func TestScrubIntWithoutIntScrubber(t *testing.T) {
	if got := scrubInt(textOnly{redact.Default()}, "payment.card", 4111111111111111); got == int64(4111111111111111) {
		t.Error("a card number typed as an integer survived a text-only scrubber")
	}
	if got := scrubInt(textOnly{redact.Default()}, "count", 42); got != int64(42) {
		t.Errorf("42 → %v", got)
	}
}
