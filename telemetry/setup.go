package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/otelsentry/otelsentry/processors"
	"github.com/otelsentry/otelsentry/processors/redact"
	"github.com/otelsentry/otelsentry/sampling"
)

// defaultShutdownTimeout bounds Shutdown and ForceFlush when the caller's
// context has no deadline, so a hung backend cannot hang the process's exit.
const defaultShutdownTimeout = 5 * time.Second

// Pipeline is the installed tracing pipeline. Its methods are safe for
// concurrent use.
type Pipeline struct {
	tp       *sdktrace.TracerProvider // nil when disabled
	provider trace.TracerProvider
	light    *processors.LightProvider // nil without light recording
	sentry   *sentry.Client            // nil without a DSN
	batchers []*processors.Batcher
	keeper   *sampling.Keeper // nil without tail keep
	engine   *redact.Engine
	errors   *processors.Errors // nil without a DSN
	crons    *processors.Crons  // nil without a DSN or with crons off

	batcherNames   []string // exporter name of each batcher
	started        *atomic.Uint64
	meters         *sdkmetric.MeterProvider
	metricsHandler http.Handler
	logger         *slog.Logger

	environment, release string
	exporters            []string

	shutdownOnce sync.Once
	shutdownErr  error
}

// Setup builds the pipeline from options and the environment, installs it
// as the global TracerProvider and propagator (unless WithGlobals(false)),
// and logs one start-up line. A malformed configuration value is an error
// naming the variable or option and the value; nothing is installed then.
//
// The caller must call Shutdown before exiting, or spans still queued are
// lost.
func Setup(ctx context.Context, opts ...Option) (*Pipeline, error) {
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	if err := c.resolve(); err != nil {
		return nil, err
	}
	if *c.disabled {
		c.logger.Info("Telemetry disabled (" + envSDKDisabled + "=true): no-op pipeline")
		return &Pipeline{provider: noop.NewTracerProvider(), environment: c.environment, release: c.release}, nil
	}

	res, err := c.buildResource()
	if err != nil {
		return nil, fmt.Errorf("telemetry: building the resource: %w", err)
	}
	prop, err := c.propagator()
	if err != nil {
		return nil, err
	}

	var client *sentry.Client
	if c.dsn != "" {
		if client, err = c.newSentryClient(c.errorsBridge.beforeSend(c)); err != nil {
			return nil, err
		}
	}

	var batchers []*processors.Batcher
	var batcherNames []string
	cleanup := func() {
		for _, b := range batchers {
			_ = b.Shutdown(context.Background())
		}
		if client != nil {
			client.Close() // stops the transport's worker
		}
	}
	limits := spanLimits()
	var static []attribute.KeyValue
	if contains(c.exporters, ExporterSentry) {
		// Sentry's OTLP endpoint reads these from span attributes only.
		static = c.redaction.redactStatic([]attribute.KeyValue{
			attribute.String("sentry.environment", c.environment),
			attribute.String("sentry.release", c.release)})
	}
	// Added to spans as they are exported, not while they are live: see
	// processors.AnnotateExports.
	annotate := func(exp sdktrace.SpanExporter, reuse bool) sdktrace.SpanExporter {
		return processors.AnnotateExports(exp, processors.Annotations{
			Static: static, Head: c.sampling.built.HeadAttributes, Limit: limits.AttributeCountLimit,
			Reuse: reuse})
	}
	var (
		exps  []sdktrace.SpanExporter
		reuse []bool // the exporter keeps nothing of a batch after ExportSpans
	)
	for _, name := range c.exporters {
		exp, err := c.newExporter(ctx, name)
		if err != nil {
			for _, built := range exps {
				_ = built.Shutdown(context.Background())
			}
			cleanup()
			return nil, err
		}
		if exp != nil {
			// All serialise the batch before ExportSpans returns.
			exps, reuse = append(exps, exp), append(reuse, true)
			batcherNames = append(batcherNames, name)
		}
	}
	for i, exp := range c.extraExp {
		exps, reuse = append(exps, exp), append(reuse, !retains(exp))
		batcherNames = append(batcherNames, fmt.Sprintf("custom%d", i+1))
	}
	// Redaction runs once per span: with one exporter on its export
	// goroutine, off the goroutine that ends the span; with several, in the
	// chain before the fan-out (see docs/ARCHITECTURE.md).
	redactLink := c.redaction.link(c)
	for i, exp := range exps {
		exp = annotate(exp, reuse[i])
		if len(exps) == 1 {
			exp = processors.RedactExports(exp, c.redaction.engine)
			redactLink = nil
		}
		batchers = append(batchers, c.newBatcher(exp))
	}

	ends := make([]sdktrace.SpanProcessor, len(batchers))
	for i, b := range batchers {
		ends[i] = b
	}
	started := new(atomic.Uint64)
	chain := processors.NewChain(processors.Fanout(ends...),
		processors.EnrichDeferred(started, limits),
		c.errorsBridge.link(c, client),
		c.crons.link(c, client),
		c.sampling.keepLink(c),
		redactLink,
	)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanLimits(limits),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(c.sampling.sampler()),
		sdktrace.WithSpanProcessor(chain),
	)
	var provider trace.TracerProvider = tp
	var light *processors.LightProvider
	if *c.sampling.light {
		// The same sampler, chain, resource and limits as tp, which still
		// owns the chain's ForceFlush and Shutdown.
		light = processors.NewLightProvider(processors.LightConfig{
			Sampler: c.sampling.sampler(), Processor: chain, Resource: res, Limits: limits})
		provider = light
	}
	if *c.globals {
		otel.SetTracerProvider(provider)
		otel.SetTextMapPropagator(prop)
		if client != nil {
			sentry.CurrentHub().BindClient(client)
		}
	}

	p := &Pipeline{
		tp: tp, provider: provider, light: light, sentry: client, batchers: batchers, batcherNames: batcherNames, started: started, logger: c.logger,
		keeper: c.sampling.keeper, engine: c.redaction.engine, errors: c.errorsBridge.stage, crons: c.crons.stage,
		environment: c.environment, release: c.release, exporters: c.exporters,
	}
	mp, h, err := newSelfMetrics(p, res)
	if err != nil {
		_ = tp.Shutdown(context.Background())
		if client != nil {
			client.Close()
		}
		return nil, err
	}
	p.meters, p.metricsHandler = mp, h
	c.logStart()
	return p, nil
}

// maxAttributeValueLength bounds every string attribute (the SDK's default
// is unbounded): a request body or header copied into a span must not turn
// one span into megabytes held in queues. 16 KiB keeps a deep goroutine's
// full stack trace (exception.stacktrace) whole.
const maxAttributeValueLength = 16 << 10

// spanLimits are the SDK's limits (128 attributes, events and links per
// span, 128 attributes per event or link; OTEL_SPAN_*_LIMIT variables
// honoured) with string values bounded unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT
// or OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT says otherwise.
func spanLimits() sdktrace.SpanLimits {
	l := sdktrace.NewSpanLimits()
	if l.AttributeValueLengthLimit < 0 {
		l.AttributeValueLengthLimit = maxAttributeValueLength
	}
	return l
}

func (c *config) newBatcher(exp sdktrace.SpanExporter) *processors.Batcher {
	return processors.NewBatcher(exp, processors.BatchConfig{
		QueueSize: c.queueSize, MaxBatch: c.batchSize, Delay: c.batchDelay, ExportTimeout: c.exportTO})
}

// logStart writes the one start-up line. It never contains the DSN's key.
func (c *config) logStart() {
	exps := strings.Join(c.exporters, ",")
	if c.dsn == "" {
		c.logger.Info(fmt.Sprintf("Sentry disabled (%s not set); traces -> %s", envSentryDSN, exps),
			"environment", c.environment, "release", c.release,
			"traces_sample_rate", c.sampling.describe())
		return
	}
	c.logger.Info("Sentry initialized",
		"environment", c.environment, "release", c.release,
		"traces_sample_rate", c.sampling.describe(), "exporters", exps,
		"dsn_host", dsnHost(c.dsn))
}

func formatRate(r float64) string { return strconv.FormatFloat(r, 'g', -1, 64) }

// TracerProvider returns the pipeline's provider (a no-op one when the
// pipeline is disabled). Use it instead of the global when WithGlobals(false).
func (p *Pipeline) TracerProvider() trace.TracerProvider { return p.provider }

// Environment is the resolved deployment environment.
func (p *Pipeline) Environment() string { return p.environment }

// Release is the resolved release.
func (p *Pipeline) Release() string { return p.release }

// Exporters are the names of the configured exporters.
func (p *Pipeline) Exporters() []string { return append([]string(nil), p.exporters...) }

// ForceFlush exports every span that has ended and delivers every captured
// error, within ctx's deadline (5 s when ctx has none). It returns the joined
// errors of every stage.
func (p *Pipeline) ForceFlush(ctx context.Context) error {
	if p.tp == nil {
		return nil
	}
	ctx, cancel := withDefaultDeadline(ctx)
	defer cancel()
	err := p.tp.ForceFlush(ctx)
	if p.sentry != nil {
		dl, _ := ctx.Deadline()
		err = errors.Join(err, flushSentry(p.sentry, dl))
	}
	return err
}

// Shutdown flushes every stage of the chain, every exporter and the Sentry
// client within ctx's deadline (5 s when ctx has none), then stops them. It is
// idempotent: later calls return the first call's result. Spans started after
// Shutdown are not exported.
func (p *Pipeline) Shutdown(ctx context.Context) error {
	p.shutdownOnce.Do(func() {
		if p.tp == nil {
			return
		}
		ctx, cancel := withDefaultDeadline(ctx)
		defer cancel()
		if p.light != nil {
			p.light.Close()
		}
		err := p.tp.Shutdown(ctx)
		if p.sentry != nil {
			if st, ok := p.sentry.Transport.(*spoolingTransport); ok {
				// Delivered or spooled is safe; only lost events are an error.
				err = errors.Join(err, st.shutdown(ctx))
				p.sentry.Close()
			} else {
				dl, _ := ctx.Deadline()
				err = errors.Join(err, flushSentry(p.sentry, dl))
			}
		}
		p.logSummary(p.logger)
		if p.meters != nil {
			err = errors.Join(err, p.meters.Shutdown(ctx))
		}
		p.shutdownErr = err
	})
	return p.shutdownErr
}

func withDefaultDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, defaultShutdownTimeout)
}
