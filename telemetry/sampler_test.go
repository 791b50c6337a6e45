package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/sampling"
)

func TestSamplingPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name        string
		env         map[string]string
		opts        []Option
		rate        string
		parentBased bool
	}{
		{"development", nil, nil, "1", true},
		{"test", map[string]string{"SENTRY_ENVIRONMENT": "test"}, nil, "1", true},
		{"staging", map[string]string{"SENTRY_ENVIRONMENT": "staging"}, nil, "0.3", true},
		{"production", map[string]string{"SENTRY_ENVIRONMENT": "production"}, nil, "0.1", true},
		{"OTEL over environment", map[string]string{"SENTRY_ENVIRONMENT": "production", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5"}, nil, "0.5", false},
		{"parentbased_traceidratio", map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}, nil, "0.25", true},
		{"ratio without arg", map[string]string{"OTEL_TRACES_SAMPLER": "TraceIdRatio"}, nil, "1", false},
		{"always_on", map[string]string{"SENTRY_ENVIRONMENT": "production", "OTEL_TRACES_SAMPLER": "always_on"}, nil, "1", false},
		{"always_off", map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, nil, "0", false},
		{"parentbased_always_on", map[string]string{"SENTRY_ENVIRONMENT": "production", "OTEL_TRACES_SAMPLER": "parentbased_always_on"}, nil, "1", true},
		{"parentbased_always_off", map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_always_off"}, nil, "0", true},
		{"SENTRY over OTEL", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "0.2", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5"}, nil, "0.2", true},
		{"option over all", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "0.2", "OTEL_TRACES_SAMPLER": "always_on"}, []Option{WithSampleRate(0.05)}, "0.05", true},
		{"WithParentBased over OTEL", map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_always_on"}, []Option{WithParentBased(false)}, "1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := resolved(t, tc.env, tc.opts...)
			if got := c.sampling.describe(); got != tc.rate {
				t.Errorf("rate %s, want %s", got, tc.rate)
			}
			if *c.sampling.parentBased != tc.parentBased {
				t.Errorf("parent-based %v, want %v", *c.sampling.parentBased, tc.parentBased)
			}
			want := "otelsentry.Sampler{rate:" + tc.rate
			if d := c.sampling.sampler().Description(); !strings.HasPrefix(d, want) {
				t.Errorf("sampler %s, want %s…", d, want)
			}
		})
	}
}

func TestSamplingBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(bad, []byte("rules:\n  - route: GET /healthz\n    rate: 0\n  - name: checkout\n    rat: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		env      map[string]string
		opts     []Option
		mentions []string
	}{
		{"unknown sampler", map[string]string{"OTEL_TRACES_SAMPLER": "xray"}, nil, []string{"OTEL_TRACES_SAMPLER", "xray"}},
		{"ratio arg not a number", map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}, nil, []string{"OTEL_TRACES_SAMPLER_ARG", "half"}},
		{"ratio arg above 1", map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "3"}, nil, []string{"OTEL_TRACES_SAMPLER_ARG", "3"}},
		// Overridden values are still checked.
		{"overridden OTEL sampler", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "0.5", "OTEL_TRACES_SAMPLER": "nope"}, nil, []string{"OTEL_TRACES_SAMPLER", "nope"}},
		{"overridden SENTRY rate", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "x"}, []Option{WithSampleRate(1)}, []string{"SENTRY_TRACES_SAMPLE_RATE", "x"}},
		{"latency", nil, []Option{WithTailLatency(0)}, []string{"WithTailLatency", "positive"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := resolveErr(tc.env, tc.opts...)
			if err == nil {
				t.Fatal("resolve succeeded, want an error")
			}
			for _, m := range tc.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			var ce *configError
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *configError", err)
			}
		})
	}
	for _, tc := range []struct {
		name     string
		env      map[string]string
		opts     []Option
		mentions []string
	}{
		{"rules file", map[string]string{"OTELSENTRY_SAMPLING_CONFIG": bad}, nil, []string{"OTELSENTRY_SAMPLING_CONFIG", bad, "line 5", "rule 2", `"rat"`}},
		{"rules file option", nil, []Option{WithSamplingRulesFile(bad)}, []string{"WithSamplingRulesFile", bad, "line 5", "rule 2"}},
		{"missing rules file", map[string]string{"OTELSENTRY_SAMPLING_CONFIG": filepath.Join(dir, "nope.yaml")}, nil, []string{"OTELSENTRY_SAMPLING_CONFIG", "nope.yaml", "no such file"}},
		{"bad rule option", nil, []Option{WithSamplingRules(sampling.Rule{Name: "a", Rate: 7})}, []string{"rule 1", `name "a"`, "rate 7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := resolveErr(tc.env, tc.opts...)
			if err == nil {
				t.Fatal("resolve succeeded, want an error")
			}
			for _, m := range tc.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func resolveErr(env map[string]string, opts ...Option) error {
	c := &config{}
	for _, o := range append([]Option{withGetenv(envMap(env)), WithLogger(slog.New(slog.DiscardHandler))}, opts...) {
		o(c)
	}
	return c.resolve()
}

func TestSamplingUnknownEnvironmentWarnsOnce(t *testing.T) {
	var log syncBuffer
	c := resolved(t, map[string]string{"SENTRY_ENVIRONMENT": "qa"}, WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	if c.sampling.describe() != "0.1" {
		t.Fatalf("unknown environment sampled at %s, want production's 0.1", c.sampling.describe())
	}
	out := log.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "level=WARN") || !strings.Contains(out, "environment=qa") {
		t.Fatalf("want one warning line naming the environment, got %q", out)
	}
	// A rate given explicitly needs no warning.
	log = syncBuffer{}
	resolved(t, map[string]string{"SENTRY_ENVIRONMENT": "qa", "SENTRY_TRACES_SAMPLE_RATE": "1"}, WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	if log.String() != "" {
		t.Fatalf("warned although the rate was set: %q", log.String())
	}
}

func TestSamplingRulesFromOptionsAndFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sampling.yaml")
	if err := os.WriteFile(file, []byte("rules:\n  - route: GET /healthz\n    rate: 0\n  - name: POST /api/checkout\n    rate: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := resolved(t, map[string]string{"SENTRY_ENVIRONMENT": "production", "OTELSENTRY_SAMPLING_CONFIG": file},
		WithSamplingRules(sampling.Rule{Name: "POST /api/checkout", Rate: 0}))
	if len(c.sampling.rules) != 3 {
		t.Fatalf("rules %v, want the option's then the file's", c.sampling.rules)
	}
	s := c.sampling.sampler()
	n := 0
	for i := range 200 {
		id := trace.TraceID{1, byte(i), 3, 4, 5, 6, 7, 8, byte(i), byte(i * 7), byte(i * 13), 1, 2, 3, 4, 5}
		p := sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: id, Name: "POST /api/checkout"}
		if s.ShouldSample(p).Decision == sdktrace.RecordAndSample {
			n++
		}
		p.Name = "GET /healthz"
		p.Attributes = []attribute.KeyValue{attribute.String("http.request.method", "GET"), attribute.String("http.route", "/healthz")}
		if s.ShouldSample(p).Decision == sdktrace.RecordAndSample {
			n++
		}
	}
	if n != 0 {
		t.Fatalf("%d spans sampled; the option's rule must shadow the file's, and /healthz is at 0", n)
	}
}

// Setup wires the sampler and the keep stage: in production, failing traces
// are exported whole whatever the head decision, healthy ones at the rate,
// and the tail-kept spans reach the exporter marked sampled.
func TestSetupKeepsFailingTraces(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	var log syncBuffer
	p, err := Setup(context.Background(), testOptions(&log, withGetenv(envMap(map[string]string{"SENTRY_ENVIRONMENT": "production"})),
		WithExporters("none"), WithSpanExporter(exp))...)
	if err != nil {
		t.Fatal(err)
	}
	tr := p.TracerProvider().Tracer("test")
	failing := map[trace.TraceID]bool{}
	const n = 2000
	for i := range n {
		ctx, root := tr.Start(context.Background(), "GET /items")
		_, child := tr.Start(ctx, "db.query")
		if i%10 == 0 {
			child.SetStatus(codes.Error, "timeout")
			failing[root.SpanContext().TraceID()] = root.SpanContext().IsSampled()
		}
		child.End()
		root.End()
	}
	// Not Shutdown: the in-memory exporter forgets its spans on Shutdown.
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	perTrace := map[trace.TraceID]int{}
	for _, s := range exp.GetSpans() {
		perTrace[s.SpanContext.TraceID()]++
		if !s.SpanContext.IsSampled() {
			t.Fatalf("span %s exported unsampled", s.Name)
		}
	}
	for id, head := range failing {
		if perTrace[id] != 2 {
			t.Fatalf("failing trace %s (head-sampled %v): %d of 2 spans exported", id, head, perTrace[id])
		}
	}
	healthy := len(perTrace) - len(failing)
	if healthy < n*9/10*5/100 || healthy > n*9/10*15/100 {
		t.Fatalf("%d of %d healthy traces exported at rate 0.1", healthy, n*9/10)
	}
}

func TestSetupTailKeepOff(t *testing.T) {
	c := resolved(t, nil, WithSampleRate(0), WithTailKeep(false))
	if c.sampling.keepLink(c) != nil {
		t.Fatal("keep stage installed with tail keep off")
	}
	res := c.sampling.sampler().ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: trace.TraceID{1}})
	if res.Decision != sdktrace.Drop {
		t.Fatalf("tail keep off, rate 0: %v, want Drop", res.Decision)
	}
	// OTELSENTRY_TAIL_KEEP turns it off; an option wins over it.
	if c := resolved(t, map[string]string{"OTELSENTRY_TAIL_KEEP": "false"}); c.sampling.keepLink(c) != nil {
		t.Error("OTELSENTRY_TAIL_KEEP=false: keep stage installed")
	}
	if c := resolved(t, map[string]string{"OTELSENTRY_TAIL_KEEP": "false"}, WithTailKeep(true)); c.sampling.keepLink(c) == nil {
		t.Error("WithTailKeep(true) did not win over OTELSENTRY_TAIL_KEEP=false")
	}
	if c := resolved(t, map[string]string{"OTELSENTRY_TAIL_KEEP": "on"}); c.sampling.keepLink(c) == nil {
		t.Error("OTELSENTRY_TAIL_KEEP=on: no keep stage")
	}
	c = resolved(t, nil, WithTailLatency(500*time.Millisecond))
	if c.sampling.keepLink(c) == nil || c.sampling.keeper.Config().Latency != 500*time.Millisecond {
		t.Fatal("WithTailLatency not applied to the keep stage")
	}
}
