package telemetry

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/processors"
)

// Environment variables read by Setup. The OTEL_EXPORTER_OTLP_* family is
// read by the OpenTelemetry exporters themselves.
const (
	envSentryDSN         = "SENTRY_DSN"
	envSentryEnvironment = "SENTRY_ENVIRONMENT"
	envEnvironment       = "ENVIRONMENT"
	envSentryRelease     = "SENTRY_RELEASE"
	envSentryDebug       = "SENTRY_DEBUG"
	envServiceName       = "OTEL_SERVICE_NAME"
	envResourceAttrs     = "OTEL_RESOURCE_ATTRIBUTES"
	envTracesExporter    = "OTEL_TRACES_EXPORTER"
	envSDKDisabled       = "OTEL_SDK_DISABLED"
	envBSPQueueSize      = "OTEL_BSP_MAX_QUEUE_SIZE"
	envBSPBatchSize      = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
	envBSPDelay          = "OTEL_BSP_SCHEDULE_DELAY"
	envBSPExportTimeout  = "OTEL_BSP_EXPORT_TIMEOUT"
)

const (
	defaultServiceName = "app"
	defaultEnvironment = "development"
	// defaultQueueSize bounds each exporter's batch queue. The SDK default
	// (2048) drops spans under a hot loop; this is sized for bursts of a busy
	// service and is still a bound.
	defaultQueueSize = processors.DefaultQueueSize
	// defaultBatchSize is the most spans one export carries, the SDK's
	// default. Batches leave from 128 spans on (processors.BatchConfig) when
	// the exporter is free (processors.Batcher).
	defaultBatchSize = processors.DefaultMaxBatch
)

// Option configures Setup. Options win over environment variables.
type Option func(*config)

// config is everything Setup needs, resolved from options, then the
// environment, then defaults. Each stage owns a sub-struct in its own file.
type config struct {
	getenv func(string) string

	serviceName  string
	environment  string
	envSource    string // which input chose environment, for the start-up log
	release      string
	dsn          string
	debug        *bool
	disabled     *bool
	exporters    []string
	extraExp     []sdktrace.SpanExporter
	consoleOut   io.Writer
	logger       *slog.Logger
	resAttrs     []attribute.KeyValue
	queueSize    int
	batchSize    int
	batchDelay   time.Duration // OTEL_BSP_SCHEDULE_DELAY
	exportTO     time.Duration // OTEL_BSP_EXPORT_TIMEOUT
	globals      *bool         // install global TracerProvider, propagator and Sentry hub
	sentryOpts   sentryConfig
	spool        spoolConfig
	sampling     samplingConfig
	redaction    redactionConfig
	errorsBridge errorsConfig
	crons        cronsConfig
}

// WithServiceName sets service.name (default: OTEL_SERVICE_NAME, then "app").
func WithServiceName(name string) Option { return func(c *config) { c.serviceName = name } }

// WithEnvironment sets the deployment environment (default: SENTRY_ENVIRONMENT,
// ENVIRONMENT, deployment.environment.name in OTEL_RESOURCE_ATTRIBUTES, then
// "development").
func WithEnvironment(env string) Option {
	return func(c *config) { c.environment, c.envSource = env, "option" }
}

// WithRelease sets the release (default: SENTRY_RELEASE, the binary's VCS
// revision, `git rev-parse --short HEAD`, then "unknown").
func WithRelease(release string) Option { return func(c *config) { c.release = release } }

// WithDSN sets the Sentry DSN (default: SENTRY_DSN). An empty DSN turns
// Sentry off.
func WithDSN(dsn string) Option { return func(c *config) { c.dsn = dsn } }

// WithDebug turns on the Sentry SDK's verbose logging (default: SENTRY_DEBUG).
func WithDebug(on bool) Option { return func(c *config) { c.debug = &on } }

// WithDisabled gives a no-op pipeline when true (default: OTEL_SDK_DISABLED).
func WithDisabled(disabled bool) Option { return func(c *config) { c.disabled = &disabled } }

// WithExporters names the trace exporters: "sentry", "otlp", "console",
// "none" (default: OTEL_TRACES_EXPORTER, then "sentry" when a DSN is set,
// else "console"). Each exporter gets its own batch processor.
func WithExporters(names ...string) Option {
	return func(c *config) { c.exporters = append([]string(nil), names...) }
}

// WithSpanExporter adds an exporter of the caller's own, behind the same
// chain (so it only ever sees redacted spans), beside the named ones. If e
// keeps nothing of a batch once ExportSpans returns, it can say so: see
// [RetainingExporter].
func WithSpanExporter(e sdktrace.SpanExporter) Option {
	return func(c *config) { c.extraExp = append(c.extraExp, e) }
}

// RetainingExporter may be implemented by an exporter given to
// [WithSpanExporter]. RetainsSpans returning false promises that the
// exporter keeps nothing of a batch — no span, no slice a span returned —
// once ExportSpans has returned, as exporters that serialise the batch
// before returning do (the OTLP and stdout exporters; not
// tracetest.InMemoryExporter, which keeps the spans). Setup then builds
// each batch's export-time attributes in the memory of the previous batch
// instead of allocating them (see processors.Annotations.Reuse). The
// exporters Setup builds by name are treated so; an exporter that does not
// implement the interface is assumed to keep spans.
type RetainingExporter interface {
	RetainsSpans() bool
}

// retains reports whether exp may keep spans after ExportSpans returns.
func retains(exp sdktrace.SpanExporter) bool {
	r, ok := exp.(RetainingExporter)
	return !ok || r.RetainsSpans()
}

// WithConsoleWriter sets where the console exporter writes (default stderr).
func WithConsoleWriter(w io.Writer) Option { return func(c *config) { c.consoleOut = w } }

// WithLogger sets the logger for the start-up line and pipeline warnings
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithResourceAttributes adds resource attributes; they win over
// OTEL_RESOURCE_ATTRIBUTES.
func WithResourceAttributes(kvs ...attribute.KeyValue) Option {
	return func(c *config) { c.resAttrs = append(c.resAttrs, kvs...) }
}

// WithQueueSize bounds each exporter's batch queue (default
// OTEL_BSP_MAX_QUEUE_SIZE, else 8192 spans).
func WithQueueSize(n int) Option { return func(c *config) { c.queueSize = n } }

// WithBatchSize sets the most spans one export carries (default
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE, else 512). It must not exceed the queue
// size. A batch leaves before it is full when the exporter is free: see
// processors.Batcher.
func WithBatchSize(n int) Option { return func(c *config) { c.batchSize = n } }

// WithGlobals controls whether Setup installs the global TracerProvider and
// propagator (otel.SetTracerProvider, otel.SetTextMapPropagator) and binds the
// Sentry client to sentry-go's current hub, so that libraries calling
// sentry-go directly are captured (and scrubbed) too. Default true; tests
// that run several pipelines turn it off.
func WithGlobals(on bool) Option { return func(c *config) { c.globals = &on } }

// withGetenv replaces os.Getenv, for tests.
func withGetenv(f func(string) string) Option { return func(c *config) { c.getenv = f } }

// configError names the input that was wrong. Values that may hold secrets
// are passed through a scrubber before they get here.
type configError struct {
	name, value, problem string
}

func (e *configError) Error() string {
	return fmt.Sprintf("telemetry: %s=%q: %s", e.name, e.value, e.problem)
}

func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, &configError{name, v, "not a boolean (want true or false)"}
}

// resolveBool sets *opt, when no option did, from the variable name, else
// to def. The variable is parsed even when an option wins: a malformed value
// is an error wherever it is.
func resolveBool(c *config, name string, opt **bool, def bool) error {
	v := c.getenv(name)
	if strings.TrimSpace(v) != "" {
		on, err := parseBool(name, v)
		if err != nil {
			return err
		}
		def = on
	}
	if *opt == nil {
		*opt = &def
	}
	return nil
}

// parseRate parses a sample rate in [0, 1].
func parseRate(name, v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, &configError{name, v, "not a number"}
	}
	if f < 0 || f > 1 || f != f {
		return 0, &configError{name, v, "sample rate must be between 0 and 1"}
	}
	return f, nil
}

// resolve fills every field that options left unset from the environment and
// defaults, and validates what it can without building anything.
func (c *config) resolve() error {
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.consoleOut == nil {
		c.consoleOut = os.Stderr
	}
	if c.globals == nil {
		t := true
		c.globals = &t
	}
	if c.disabled == nil {
		v := c.getenv(envSDKDisabled)
		d := false
		if v != "" {
			var err error
			if d, err = parseBool(envSDKDisabled, v); err != nil {
				return err
			}
		}
		c.disabled = &d
	}
	if *c.disabled {
		// No pipeline, but the service still asks which environment it
		// runs in (production refuses fault injection): resolve it, and the
		// release, the same way. A malformed OTEL_RESOURCE_ATTRIBUTES is
		// not an error here — the SDK is off — it only cannot name the
		// environment.
		resAttrs, _ := parseResourceAttributes(c.getenv(envResourceAttrs))
		c.resolveEnvironment(resAttrs)
		c.resolveRelease()
		return nil
	}
	if c.debug == nil {
		d := false
		if v := c.getenv(envSentryDebug); v != "" {
			var err error
			if d, err = parseBool(envSentryDebug, v); err != nil {
				return err
			}
		}
		c.debug = &d
	}
	if c.serviceName == "" {
		c.serviceName = c.getenv(envServiceName)
	}
	resAttrs, err := parseResourceAttributes(c.getenv(envResourceAttrs))
	if err != nil {
		return err
	}
	if c.serviceName == "" {
		if v, ok := lookup(resAttrs, "service.name"); ok {
			c.serviceName = v
		} else {
			c.serviceName = defaultServiceName
		}
	}
	c.resolveEnvironment(resAttrs)
	// Environment-derived resource attributes come first so that options
	// (appended later) win when both set a key.
	c.resAttrs = append(resAttrs, c.resAttrs...)
	c.resolveRelease()
	if c.dsn == "" {
		c.dsn = strings.TrimSpace(c.getenv(envSentryDSN))
	}
	if c.dsn != "" {
		if err := validateDSN(c.dsn); err != nil {
			return err
		}
	}
	if err := c.spool.resolve(c.getenv); err != nil {
		return err
	}
	if err := c.resolveBatching(); err != nil {
		return err
	}
	if err := c.resolveExporters(); err != nil {
		return err
	}
	if err := c.sampling.resolve(c); err != nil {
		return err
	}
	if err := c.redaction.resolve(c); err != nil {
		return err
	}
	if err := c.errorsBridge.resolve(c); err != nil {
		return err
	}
	return c.crons.resolve(c)
}

// resolveBatching sets each exporter's queue and batch sizes: options,
// then the specification's OTEL_BSP_* variables, then defaults; a default
// batch larger than the queue shrinks to it, a batch size asked for larger
// than the queue is an error. OTEL_BSP_SCHEDULE_DELAY and
// OTEL_BSP_EXPORT_TIMEOUT are milliseconds, as the specification says.
func (c *config) resolveBatching() error {
	var queueFrom, batchFrom string // what set each: an option, a variable, "" for the default
	var err error
	if c.queueSize, queueFrom, err = c.size(c.queueSize, "WithQueueSize", envBSPQueueSize, defaultQueueSize); err != nil {
		return err
	}
	if c.batchSize, batchFrom, err = c.size(c.batchSize, "WithBatchSize", envBSPBatchSize, defaultBatchSize); err != nil {
		return err
	}
	delay, err := c.envCount(envBSPDelay, "milliseconds")
	if err != nil {
		return err
	}
	timeout, err := c.envCount(envBSPExportTimeout, "milliseconds")
	if err != nil {
		return err
	}
	c.batchDelay, c.exportTO = time.Duration(delay)*time.Millisecond, time.Duration(timeout)*time.Millisecond
	if c.batchSize > c.queueSize {
		if batchFrom == "" {
			c.batchSize = c.queueSize
			return nil
		}
		if queueFrom == "" {
			queueFrom = "the default"
		}
		return &configError{batchFrom, strconv.Itoa(c.batchSize),
			fmt.Sprintf("the export batch exceeds the queue (%d spans, %s)", c.queueSize, queueFrom)}
	}
	return nil
}

// size is opt's value n when positive, else variable name's, else def,
// with what set it (opt, name, or "" for def).
func (c *config) size(n int, opt, name string, def int) (int, string, error) {
	if n > 0 {
		return n, opt, nil
	}
	v, err := c.envCount(name, "spans")
	switch {
	case err != nil:
		return 0, "", err
	case v > 0:
		return v, name, nil
	}
	return def, "", nil
}

// envCount reads variable name as a positive count of unit: 0 when unset.
func (c *config) envCount(name, unit string) (int, error) {
	v := strings.TrimSpace(c.getenv(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, &configError{name, v, "not a positive number of " + unit}
	}
	return n, nil
}

func (c *config) resolveRelease() {
	if c.release == "" {
		c.release = c.getenv(envSentryRelease)
	}
	if c.release == "" {
		c.release = processRelease()
	}
}

func (c *config) resolveEnvironment(resAttrs []attribute.KeyValue) {
	if c.environment != "" {
		return
	}
	for _, name := range []string{envSentryEnvironment, envEnvironment} {
		if v := strings.TrimSpace(c.getenv(name)); v != "" {
			c.environment, c.envSource = v, name
			return
		}
	}
	if v, ok := lookup(resAttrs, "deployment.environment.name"); ok && v != "" {
		c.environment, c.envSource = v, envResourceAttrs
		return
	}
	c.environment, c.envSource = defaultEnvironment, "default"
}

func lookup(kvs []attribute.KeyValue, key attribute.Key) (string, bool) {
	for i := len(kvs) - 1; i >= 0; i-- {
		if kvs[i].Key == key {
			return kvs[i].Value.Emit(), true
		}
	}
	return "", false
}
