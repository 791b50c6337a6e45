package telemetry

import (
	"errors"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func resolved(t *testing.T, env map[string]string, opts ...Option) *config {
	t.Helper()
	c := &config{}
	for _, o := range append([]Option{withGetenv(envMap(env))}, opts...) {
		o(c)
	}
	if err := c.resolve(); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	return c
}

func TestPrecedenceEnvironment(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		opts []Option
		want string
	}{
		{"default", nil, nil, "development"},
		{"resource attribute", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=qa"}, nil, "qa"},
		{"ENVIRONMENT over resource", map[string]string{"ENVIRONMENT": "staging", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=qa"}, nil, "staging"},
		{"SENTRY_ENVIRONMENT over ENVIRONMENT", map[string]string{"SENTRY_ENVIRONMENT": "production", "ENVIRONMENT": "staging"}, nil, "production"},
		{"option over all", map[string]string{"SENTRY_ENVIRONMENT": "production", "ENVIRONMENT": "staging"}, []Option{WithEnvironment("test")}, "test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolved(t, tt.env, tt.opts...).environment; got != tt.want {
				t.Errorf("environment = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrecedenceServiceNameReleaseDSN(t *testing.T) {
	const dsn = "https://pub@o1.ingest.sentry.io/42"
	tests := []struct {
		name                     string
		env                      map[string]string
		opts                     []Option
		service, release, gotDSN string
	}{
		{"defaults", map[string]string{"SENTRY_RELEASE": "r0"}, nil, "app", "r0", ""},
		{"resource service.name", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-res", "SENTRY_RELEASE": "r0"}, nil, "from-res", "r0", ""},
		{"env", map[string]string{"OTEL_SERVICE_NAME": "svc", "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-res", "SENTRY_RELEASE": "r1", "SENTRY_DSN": dsn}, nil, "svc", "r1", dsn},
		{"options", map[string]string{"OTEL_SERVICE_NAME": "svc", "SENTRY_RELEASE": "r1", "SENTRY_DSN": dsn},
			[]Option{WithServiceName("opt"), WithRelease("r2"), WithDSN("https://other@example.com/7")}, "opt", "r2", "https://other@example.com/7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := resolved(t, tt.env, tt.opts...)
			if c.serviceName != tt.service || c.release != tt.release || c.dsn != tt.gotDSN {
				t.Errorf("got service=%q release=%q dsn=%q, want %q %q %q", c.serviceName, c.release, c.dsn, tt.service, tt.release, tt.gotDSN)
			}
		})
	}
}

func TestPrecedenceExportersAndRate(t *testing.T) {
	const dsn = "https://pub@o1.ingest.sentry.io/42"
	tests := []struct {
		name string
		env  map[string]string
		opts []Option
		exps string
		rate string
	}{
		{"console without DSN", nil, nil, "console", "1"},
		{"sentry with DSN", map[string]string{"SENTRY_DSN": dsn}, nil, "sentry", "1"},
		{"env list", map[string]string{"SENTRY_DSN": dsn, "OTEL_TRACES_EXPORTER": " OTLP, console ,otlp"}, nil, "otlp,console", "1"},
		{"option list", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, []Option{WithExporters("none")}, "none", "1"},
		{"production rate", map[string]string{"SENTRY_ENVIRONMENT": "production"}, nil, "console", "0.1"},
		{"staging rate", map[string]string{"SENTRY_ENVIRONMENT": "staging"}, nil, "console", "0.3"},
		{"env rate over environment", map[string]string{"SENTRY_ENVIRONMENT": "production", "SENTRY_TRACES_SAMPLE_RATE": "0.5"}, nil, "console", "0.5"},
		{"option rate over env", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "0.5"}, []Option{WithSampleRate(0.25)}, "console", "0.25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := resolved(t, tt.env, tt.opts...)
			if got := strings.Join(c.exporters, ","); got != tt.exps {
				t.Errorf("exporters = %q, want %q", got, tt.exps)
			}
			if got := c.sampling.describe(); got != tt.rate {
				t.Errorf("rate = %s, want %s", got, tt.rate)
			}
		})
	}
}

// TestBatchSizes: options win over OTEL_BSP_*, which win over the
// defaults; a default batch shrinks to a smaller queue.
func TestBatchSizes(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		opts         []Option
		queue, batch int
	}{
		{"defaults", nil, nil, 8192, 512},
		{"env", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": " 4096", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "512 "}, nil, 4096, 512},
		{"options over env", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "4096", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "512"},
			[]Option{WithQueueSize(1000), WithBatchSize(100)}, 1000, 100},
		{"default batch shrinks to a small queue", nil, []Option{WithQueueSize(64)}, 64, 64},
		{"batch equal to queue", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "256", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "256"}, nil, 256, 256},
	}
	c := resolved(t, map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_BSP_EXPORT_TIMEOUT": "1500"})
	if c.batchDelay != 250*time.Millisecond || c.exportTO != 1500*time.Millisecond {
		t.Errorf("delay, export timeout = %v, %v; want 250ms, 1.5s", c.batchDelay, c.exportTO)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := resolved(t, tt.env, tt.opts...)
			if c.queueSize != tt.queue || c.batchSize != tt.batch {
				t.Errorf("queue, batch = %d, %d; want %d, %d", c.queueSize, c.batchSize, tt.queue, tt.batch)
			}
		})
	}
}

// TestBadConfiguration checks that every malformed input is an error that
// names the input and the value, and that a DSN's key is never echoed.
func TestBadConfiguration(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		opts     []Option
		mentions []string
	}{
		{"DSN without project", map[string]string{"SENTRY_DSN": "https://secretkey123@o1.ingest.sentry.io"}, nil, []string{"SENTRY_DSN", "o1.ingest.sentry.io", "project"}},
		{"DSN bad scheme", map[string]string{"SENTRY_DSN": "ftp://secretkey123@host/1"}, nil, []string{"SENTRY_DSN", "scheme"}},
		{"DSN not a URL", map[string]string{"SENTRY_DSN": "http://secretkey123@ho st:x/1"}, nil, []string{"SENTRY_DSN"}},
		{"DSN no key", map[string]string{"SENTRY_DSN": "https://o1.ingest.sentry.io/42"}, nil, []string{"SENTRY_DSN"}},
		{"rate not a number", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "ten percent"}, nil, []string{"SENTRY_TRACES_SAMPLE_RATE", "ten percent", "not a number"}},
		{"rate above 1", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "1.5"}, nil, []string{"SENTRY_TRACES_SAMPLE_RATE", "1.5"}},
		{"rate negative", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "-0.1"}, nil, []string{"SENTRY_TRACES_SAMPLE_RATE", "-0.1"}},
		{"rate NaN", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "NaN"}, nil, []string{"SENTRY_TRACES_SAMPLE_RATE", "NaN"}},
		{"rate option", nil, []Option{WithSampleRate(2)}, []string{"WithSampleRate", "2"}},
		{"unknown exporter", map[string]string{"OTEL_TRACES_EXPORTER": "otlp,zipkin"}, nil, []string{"OTEL_TRACES_EXPORTER", "zipkin"}},
		{"unknown exporter option", nil, []Option{WithExporters("jaeger")}, []string{"WithExporters", "jaeger"}},
		{"sentry without DSN", map[string]string{"OTEL_TRACES_EXPORTER": "sentry"}, nil, []string{"OTEL_TRACES_EXPORTER", "SENTRY_DSN"}},
		{"none combined", map[string]string{"OTEL_TRACES_EXPORTER": "none,console"}, nil, []string{"OTEL_TRACES_EXPORTER", "none"}},
		{"resource attrs no =", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=core,oops"}, nil, []string{"OTEL_RESOURCE_ATTRIBUTES", "oops"}},
		{"resource attrs bad escape", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=%zz"}, nil, []string{"OTEL_RESOURCE_ATTRIBUTES", "team"}},
		{"disabled not bool", map[string]string{"OTEL_SDK_DISABLED": "maybe"}, nil, []string{"OTEL_SDK_DISABLED", "maybe"}},
		{"debug not bool", map[string]string{"SENTRY_DEBUG": "loud"}, nil, []string{"SENTRY_DEBUG", "loud"}},
		{"tail keep not bool", map[string]string{"OTELSENTRY_TAIL_KEEP": "sometimes"}, nil, []string{"OTELSENTRY_TAIL_KEEP", "sometimes"}},
		{"queue size not a number", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "lots"}, nil, []string{"OTEL_BSP_MAX_QUEUE_SIZE", "lots"}},
		{"batch size zero", map[string]string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "0"}, nil, []string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0", "positive"}},
		{"batch over queue", map[string]string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "600", "OTEL_BSP_MAX_QUEUE_SIZE": "500"}, nil, []string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "600", "500", "OTEL_BSP_MAX_QUEUE_SIZE"}},
		{"delay not milliseconds", map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "5s"}, nil, []string{"OTEL_BSP_SCHEDULE_DELAY", "5s", "milliseconds"}},
		{"export timeout negative", map[string]string{"OTEL_BSP_EXPORT_TIMEOUT": "-1"}, nil, []string{"OTEL_BSP_EXPORT_TIMEOUT", "-1"}},
		{"batch option over queue option", nil, []Option{WithBatchSize(64), WithQueueSize(32)}, []string{"WithBatchSize", "64", "32", "WithQueueSize"}},
		{"tail keep not bool under option", map[string]string{"OTELSENTRY_TAIL_KEEP": "sometimes"}, []Option{WithTailKeep(true)}, []string{"OTELSENTRY_TAIL_KEEP", "sometimes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &config{}
			for _, o := range append([]Option{withGetenv(envMap(tt.env))}, tt.opts...) {
				o(c)
			}
			err := c.resolve()
			if err == nil {
				t.Fatal("resolve succeeded, want an error")
			}
			msg := err.Error()
			for _, m := range tt.mentions {
				if !strings.Contains(msg, m) {
					t.Errorf("error %q does not mention %q", msg, m)
				}
			}
			if strings.Contains(msg, "secretkey123") {
				t.Errorf("error %q leaks the DSN key", msg)
			}
			var ce *configError
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *configError", err)
			}
		})
	}
}

func TestReleaseFromBuildInfo(t *testing.T) {
	info := func(kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{}
		for i := 0; i < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	tests := []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{info(), ""},
		{info("vcs.revision", "3f2a9c1d5e6f7a8b9c0d"), "3f2a9c1"},
		{info("vcs.revision", "3f2a9c1d5e6f7a8b9c0d", "vcs.modified", "true"), "3f2a9c1-dirty"},
		{info("vcs.revision", "abc", "vcs.modified", "false"), "abc"},
	}
	for _, tt := range tests {
		if got := releaseFromBuildInfo(tt.bi); got != tt.want {
			t.Errorf("releaseFromBuildInfo(%v) = %q, want %q", tt.bi.Settings, got, tt.want)
		}
	}
}

// TestReleaseFromGit runs in this repository's checkout, so git must name
// HEAD — the path `go run ./cmd/app` takes.
func TestReleaseFromGit(t *testing.T) {
	got := releaseFromGit()
	if len(got) < 4 || strings.ContainsAny(got, " \n") {
		t.Fatalf("releaseFromGit() = %q, want HEAD's short SHA", got)
	}
	if d := detectRelease(); d != got {
		t.Errorf("detectRelease() = %q, want the git revision %q (test binaries carry no VCS stamp)", d, got)
	}
}

type keepsNothing struct{ sdktrace.SpanExporter }

func (keepsNothing) RetainsSpans() bool { return false }

type saysItKeeps struct{ sdktrace.SpanExporter }

func (saysItKeeps) RetainsSpans() bool { return true }

func TestRetains(t *testing.T) {
	for _, tt := range []struct {
		exp  sdktrace.SpanExporter
		want bool
	}{
		{tracetest.NewInMemoryExporter(), true}, // says nothing: assumed to keep spans
		{keepsNothing{}, false},
		{saysItKeeps{}, true},
	} {
		if got := retains(tt.exp); got != tt.want {
			t.Errorf("retains(%T) = %v, want %v", tt.exp, got, tt.want)
		}
	}
}
