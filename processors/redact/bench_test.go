package redact

import (
	"strconv"
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/internal/regexpscrub"
)

// cleanLines are realistic telemetry strings with nothing to redact: what
// the engine sees almost all the time, and so what its speed is judged on.
var cleanLines = []string{
	`GET /api/v1/analyses/{analysis_id}/reports 200 OK in 12.4ms`,
	`POST /v1/monitors/8f14e45f-ceea-467f-a0e6-1f3b3c1a2b9d/alerts 201 Created`,
	`SELECT a.id, a.status, a.created_at FROM analyses a WHERE a.tenant_id = $1 AND a.id = $2 LIMIT 50`,
	`INSERT INTO audit_log (actor_id, action, target) VALUES ($1, $2, $3) RETURNING id`,
	`Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36`,
	`traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`,
	`context deadline exceeded while calling intelligence.Monitor/Evaluate (retry 2 of 3)`,
	`panic: runtime error: index out of range [3] with length 3`,
	`goroutine 42 [running]:`,
	`github.com/otelsentry/otelsentry/app.(*Server).handleAnalysis(0xc0001a2000, {0x9a3c40, 0xc000214000})`,
	`	/src/app/server.go:214 +0x1c5`,
	`analysis 7731 for tenant acme-consulting finished: 14 findings, 3 critical, took 2.31s`,
	`agent research-agent-v2 produced 1834 tokens (prompt 912, completion 922) model=gpt-4o-mini`,
	`cache miss for key analyses:tenant:4412:page:3, falling back to primary`,
	`deployed 5d0a827 to production in 4m12s (image sha256:9b2f0c1e2d3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e)`,
	`kafka consumer group monitor-alerts rebalanced: partitions [0 1 2 3] assigned to worker-3`,
	`dial tcp: lookup orders-db.c9x2lm.eu-west-1.rds.amazonaws.com: no such host`,
	`request_id=0a80702d-b929-46c6-b783-1ffdb28c340d tenant_id=15b2bfba-0b3e-4a93-8fcd-98041451726c status=ok`,
	`monitor "Competitor pricing - DACH" evaluated 212 sources; 5 changes above threshold 0.75`,
	`Acme Consulting GmbH upgraded plan from team to enterprise (seats 25 -> 120)`,
	`http: TLS handshake error from remote: EOF`,
	`rate limit exceeded for route /api/v1/search: 429 Too Many Requests, retry-after 30s`,
	`worker pool resized: min=4 max=32 queue_depth=118 p99=842ms`,
	`upgrading github.com/getsentry/sentry-go from v0.48.0 to v0.49.0`,
}

var cleanText = strings.Join(cleanLines, "\n")

// span8 is one clean span's worth of attribute values, as the span
// processor will hand them over.
var span8 = [8][2]string{
	{"http.route", "/api/v1/analyses/{analysis_id}"},
	{"url.path", "/api/v1/analyses/7731"},
	{"http.request.method", "GET"},
	{"user_agent.original", "acme-intel-sdk/2.4.1 (go1.26; linux/amd64)"},
	{"server.address", "api.acme-intel.example"},
	{"app.request_id", "0a80702d-b929-46c6-b783-1ffdb28c340d"},
	{"enduser.company", "Acme Consulting GmbH"},
	{"db.statement", "SELECT id, status FROM analyses WHERE tenant_id = $1 AND id = $2"},
}

var twoPII = [2][2]string{
	{"exception.message", "checkout failed for mia_schmidt@example.org: card 4111 1111 1111 1111 declined"},
	{"user.email", "mia_schmidt@example.org"},
}

type impl struct {
	name string
	attr func(key, v string) string
}

func impls() []impl {
	e := Default()
	re := regexpscrub.New()
	return []impl{
		{"engine", func(k, v string) string { out, _ := e.Attr(k, v); return out }},
		{"regexp", func(k, v string) string { out, _ := re.Attr(k, v); return out }},
	}
}

var sink string

func BenchmarkCleanText(b *testing.B) {
	for _, im := range impls() {
		b.Run("impl="+im.name, func(b *testing.B) {
			b.SetBytes(int64(len(cleanText)))
			b.ReportAllocs()
			for b.Loop() {
				sink = im.attr("", cleanText)
			}
		})
	}
}

func BenchmarkSpan8Clean(b *testing.B) {
	n := 0
	for _, kv := range span8 {
		n += len(kv[1])
	}
	for _, im := range impls() {
		b.Run("impl="+im.name, func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				for _, kv := range span8 {
					sink = im.attr(kv[0], kv[1])
				}
			}
		})
	}
}

// BenchmarkSpan8Unique is BenchmarkSpan8Clean with the url.path and
// app.request_id of every op new, as they are per request: IDs never come
// back, so neither the identity set nor the memo can answer for them, and
// keys that carry them should not make the engine pay for asking. The
// values are made before the timer starts, uniqueRing of each, and taken in
// turn: a value comes back only after 2×uniqueRing others have gone
// through the engine's probation tables (1024 slots each), which have
// forgotten it by then — so every op sees two values the engine cannot
// tell from new ones, and the loop allocates nothing of its own.
func BenchmarkSpan8Unique(b *testing.B) {
	const uniqueRing = 1 << 13
	paths, ids := make([]string, uniqueRing), make([]string, uniqueRing)
	for i := range paths {
		x := uint64(i+1) * 0x9E3779B97F4A7C15 // spread the digits, as real IDs are
		paths[i] = "/api/v1/analyses/" + strconv.FormatUint(x|1<<63, 16)
		ids[i] = "0a80702d-b929-46c6-b783-" + strconv.FormatUint(x>>16|1<<47, 16)
	}
	for _, im := range impls() {
		b.Run("impl="+im.name, func(b *testing.B) {
			attrs := span8
			n := 0
			for _, kv := range attrs {
				n += len(kv[1])
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			seq := 0
			for b.Loop() {
				attrs[1][1], attrs[5][1] = paths[seq], ids[seq]
				seq = (seq + 1) % uniqueRing
				for _, kv := range attrs {
					sink = im.attr(kv[0], kv[1])
				}
			}
		})
	}
}

func BenchmarkTwoPII(b *testing.B) {
	for _, im := range impls() {
		b.Run("impl="+im.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, kv := range twoPII {
					sink = im.attr(kv[0], kv[1])
				}
			}
		})
	}
}

// BenchmarkStringClean is the engine alone on the span's free-text values,
// without key handling: the floor of the per-string cost.
func BenchmarkStringClean(b *testing.B) {
	e := Default()
	b.ReportAllocs()
	for b.Loop() {
		for _, kv := range span8 {
			sink, _ = e.String(kv[1])
		}
	}
}

func BenchmarkInt(b *testing.B) {
	e := Default()
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = e.Int("http.response.body.size", 1753739583295)
		sink, _ = e.Int("payment.amount", 4111111111111111)
	}
}

// TestCleanInputsDoNotAllocate pins the contract the benchmarks measure: a
// clean value costs no allocation and comes back as the same string.
func TestCleanInputsDoNotAllocate(t *testing.T) {
	e := Default()
	inputs := append([]string{cleanText}, cleanLines...)
	for _, kv := range span8 {
		inputs = append(inputs, kv[1])
	}
	for _, in := range inputs {
		out, changed := e.String(in)
		if changed || out != in {
			t.Errorf("clean input changed:\n  in:  %q\n  out: %q", in, out)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, in := range inputs {
			sink, _ = e.String(in)
		}
		for _, kv := range span8 {
			sink, _ = e.Attr(kv[0], kv[1])
		}
		sink, _ = e.Int("order.id", 5554944084278513)
	})
	if allocs != 0 {
		t.Errorf("clean inputs: %v allocations per run, want 0", allocs)
	}
}
