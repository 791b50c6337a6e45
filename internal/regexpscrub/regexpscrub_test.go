package regexpscrub

import (
	"regexp"
	"strings"
	"testing"
)

// TestStringRules keeps the baseline honest — a benchmark against a
// scrubber that redacts nothing would prove nothing — and its validators
// honest too: a few positives and negatives per rule.
func TestStringRules(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"private_key", "k=-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- end", "k=[PRIVATE_KEY_REDACTED] end"},
		{"private_key truncated", "-----BEGIN PRIVATE KEY-----\nMIIEvQ", "[PRIVATE_KEY_REDACTED]"},
		{"public key kept", "-----BEGIN PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----"},
		{"jwt", "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "jwt [API_KEY_REDACTED]"},
		{"github", "token ghp_P8DCV3JB0njkzkvkRGA3BNNbqqt9nC0lLwxD leaked", "token [API_KEY_REDACTED] leaked"},
		{"aws key id", "AKIAIOSFODNN7EXAMPLE", "[API_KEY_REDACTED]"},
		{"short prefix kept", "ghp_short", "ghp_short"},
		{"aws secret", "aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key [API_KEY_REDACTED]"},
		{"bearer", "Authorization: Bearer abcdef0123456789", "Authorization: Bearer [REDACTED]"},
		{"bearer challenge kept", `WWW-Authenticate: Bearer realm="api"`, `WWW-Authenticate: Bearer realm="api"`},
		{"token word kept", "Token budget exceeded", "Token budget exceeded"},
		{"cookie", "Cookie: sid=abc123; theme=dark", "Cookie: sid=[REDACTED]; theme=[REDACTED]"},
		{"set-cookie attrs kept", "Set-Cookie: sid=abc123; Path=/; SameSite=Lax", "Set-Cookie: sid=[REDACTED]; Path=/; SameSite=Lax"},
		{"url password", "postgres://app:s3cr3t@db:5432/x", "postgres://app:[REDACTED]@db:5432/x"},
		{"url token userinfo", "https://0123456789abcdef0123@o1.ingest.sentry.io/1", "https://[REDACTED]@o1.ingest.sentry.io/1"},
		{"url without password kept", "https://example.com/a:b", "https://example.com/a:b"},
		{"query secret", "/cb?code=abc123&state=x", "/cb?code=[REDACTED]&state=x"},
		{"query kept", "/search?q=shoes&page=2", "/search?q=shoes&page=2"},
		{"inline secret", "login password=hunter2 ok", "login password=[REDACTED] ok"},
		{"inline json", `{"api_key": "abc"}`, `{"api_key": "[REDACTED]"}`},
		{"sql password", "ALTER USER app IDENTIFIED BY 'pw1'", "ALTER USER app IDENTIFIED BY '[REDACTED]'"},
		{"redis auth", "AUTH hunter2", "AUTH [REDACTED]"},
		{"email", "user alice@example.com failed", "user [EMAIL_REDACTED] failed"},
		{"email encoded", "/verify?email=alice%40example.com", "/verify?email=[EMAIL_REDACTED]"},
		{"no tld kept", "postgres@localhost", "postgres@localhost"},
		{"card", "card 4111 1111 1111 1111 declined", "card [CREDIT_CARD_REDACTED] declined"},
		{"card dashes", "5555-5555-5555-4444", "[CREDIT_CARD_REDACTED]"},
		{"luhn failing kept", "order 4111 1111 1111 1112", "order 4111 1111 1111 1112"},
		{"timestamp kept", "ts=1753739583295", "ts=1753739583295"},
		{"iban", "pay to DE89 3704 0044 0532 0130 00 today", "pay to [IBAN_REDACTED] today"},
		{"iban compact", "GB82WEST12345698765432", "[IBAN_REDACTED]"},
		{"iban bad check kept", "DE89370400440532013001", "DE89370400440532013001"},
		{"ssn", "ssn on file 123-45-6789", "ssn on file [SSN_REDACTED]"},
		{"ssn never assigned kept", "ref 666-12-3456", "ref 666-12-3456"},
		{"ipv4", "from 203.0.113.7", "from [IP_REDACTED]"},
		{"ipv6", "peer 2001:db8::1 closed", "peer [IP_REDACTED] closed"},
		{"not an ip kept", "from 203.0.113", "from 203.0.113"},
		{"phone", "call +49 30 1234567 now", "call [PHONE_REDACTED] now"},
		{"phone us", "call (312) 555-0193", "call [PHONE_REDACTED]"},
		{"uuid kept", "id 0a80702d-b929-46c6-b783-1ffdb28c340d", "id 0a80702d-b929-46c6-b783-1ffdb28c340d"},
		{"route kept", "GET /api/monitors/{id}", "GET /api/monitors/{id}"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := New().String(tc.in)
			if got != tc.want {
				t.Errorf("String(%q)\n got: %q\nwant: %q", tc.in, got, tc.want)
			}
			if changed != (tc.in != tc.want) {
				t.Errorf("String(%q) changed=%v", tc.in, changed)
			}
			if again, ch := New().String(got); again != got || ch {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestAttr(t *testing.T) {
	sc := New()
	for _, tc := range []struct{ key, in, want string }{
		{"db.password", "hunter2", "[REDACTED]"},
		{"http.request.header.authorization", "Basic dXNlcjpwdw==", "[REDACTED]"},
		{"http.request.header.x-api-key", "k-123", "[REDACTED]"},
		{"app.session", "s-1", "[REDACTED]"},
		{"set-cookie", "a=b", "[REDACTED]"},
		{"user.email", "not an address", "[EMAIL_REDACTED]"},
		{"customer.email_address", "a", "[EMAIL_REDACTED]"},
		{"db.password", "[REDACTED]", "[REDACTED]"},
		{"db.password", "", ""},
		{"password_changed_at", "2026-01-02", "2026-01-02"},
		{"gen_ai.usage.input_tokens", "812", "812"},
		{"token.type", "bearer", "bearer"},
		{"api_key.id", "42", "42"},
		{"email_verified", "true", "true"},
		{"note", "paid with 4111 1111 1111 1111", "paid with [CREDIT_CARD_REDACTED]"},
		{"company", "Tesla", "Tesla"},
	} {
		got, changed := sc.Attr(tc.key, tc.in)
		if got != tc.want || changed != (tc.in != tc.want) {
			t.Errorf("Attr(%q, %q) = %q, %v; want %q", tc.key, tc.in, got, changed, tc.want)
		}
	}
}

// TestPatterns: the exported patterns compile on their own (the bench
// module hands them to the Collector) and the key patterns also work on
// whole keys.
func TestPatterns(t *testing.T) {
	for _, r := range Rules() {
		if _, err := regexp.Compile(r.Pattern); err != nil {
			t.Errorf("rule %s: %v", r.Name, err)
		}
	}
	secret := regexp.MustCompile(SecretKeyPattern)
	for key, want := range map[string]bool{
		"db.password": true, "x-api-key": true, "http.request.header.cookie": true,
		"password_changed_at": false, "gen_ai.usage.input_tokens": false, "token.type": false,
	} {
		if secret.MatchString(key) != want {
			t.Errorf("SecretKeyPattern on %q: want %v", key, want)
		}
	}
	if !regexp.MustCompile(EmailKeyPattern).MatchString("enduser.email") {
		t.Error("EmailKeyPattern misses enduser.email")
	}
}

func TestCleanStringDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items); .ci/run runs the allocation tests again without -race")
	}
	sc := New()
	in := strings.Repeat("GET /api/monitors/{id} 200 OK ", 4)
	if n := testing.AllocsPerRun(20, func() { sc.String(in) }); n != 0 {
		t.Errorf("clean string: %v allocations, want 0", n)
	}
}
