package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/telemetry"
)

const instrumentationName = "github.com/otelsentry/otelsentry/app"

// Config configures the service. The zero value is a working development
// service; every zero field takes the default named in its comment.
type Config struct {
	// Environment is the deployment environment. "production" answers 404 on
	// the test-error endpoint and refuses fault injection.
	Environment string
	// Logger receives the service's own logs; nil means slog.Default().
	Logger *slog.Logger
	// TracerProvider is used for the service's spans, otelhttp's included;
	// nil means the global one.
	TracerProvider trace.TracerProvider

	// LatencyScale multiplies every simulated latency (data sources, alert
	// delivery); 0 means 1. Tests use a small value to run fast. It does not
	// scale timeouts.
	LatencyScale float64
	// AgentTimeout, when positive, replaces every agent's own timeout
	// (FinancialAgent 2s, MarketAgent 1.5s, ResearchAgent 2.5s).
	AgentTimeout time.Duration

	// FaultRate is the share (0..1) of /api requests and scheduled checks
	// that get a random injected fault, as if they carried an X-Fault
	// header. It must be 0 in production.
	FaultRate float64
	// FaultLatency is the delay the "slow" fault adds; 0 means 1s.
	FaultLatency time.Duration

	// Store holds monitors; nil means a new in-memory store of MaxMonitors.
	Store Store
	// MaxMonitors bounds the default in-memory store; 0 means 10000.
	MaxMonitors int
	// AlertSink delivers monitor alerts; nil means a simulated webhook that
	// fails now and then.
	AlertSink AlertSink
	// PauseThreshold is how many consecutive failed checks pause a monitor;
	// 0 means 5.
	PauseThreshold int
	// CheckTimeout bounds one monitor check; 0 means 3s.
	CheckTimeout time.Duration
	// SchedulerInterval is how often the scheduler looks for due checks; 0
	// means 1s.
	SchedulerInterval time.Duration
	// SchedulerWorkers bounds concurrent scheduled checks; 0 means 4.
	SchedulerWorkers int

	// MaxBodyBytes caps request bodies; 0 means 64 KiB.
	MaxBodyBytes int64
}

// Validate reports the first invalid field, by name.
func (c Config) Validate() error {
	switch {
	case c.LatencyScale < 0:
		return fmt.Errorf("app config: LatencyScale %v must not be negative", c.LatencyScale)
	case c.AgentTimeout < 0:
		return fmt.Errorf("app config: AgentTimeout %v must not be negative", c.AgentTimeout)
	case c.FaultRate < 0 || c.FaultRate > 1:
		return fmt.Errorf("app config: FaultRate %v must be within [0, 1]", c.FaultRate)
	case c.FaultRate > 0 && isProduction(c.Environment):
		return fmt.Errorf("app config: FaultRate %v: fault injection is off in production", c.FaultRate)
	case c.FaultLatency < 0:
		return fmt.Errorf("app config: FaultLatency %v must not be negative", c.FaultLatency)
	case c.MaxMonitors < 0:
		return fmt.Errorf("app config: MaxMonitors %d must not be negative", c.MaxMonitors)
	case c.PauseThreshold < 0:
		return fmt.Errorf("app config: PauseThreshold %d must not be negative", c.PauseThreshold)
	case c.CheckTimeout < 0:
		return fmt.Errorf("app config: CheckTimeout %v must not be negative", c.CheckTimeout)
	case c.SchedulerInterval < 0:
		return fmt.Errorf("app config: SchedulerInterval %v must not be negative", c.SchedulerInterval)
	case c.SchedulerWorkers < 0:
		return fmt.Errorf("app config: SchedulerWorkers %d must not be negative", c.SchedulerWorkers)
	case c.MaxBodyBytes < 0:
		return fmt.Errorf("app config: MaxBodyBytes %d must not be negative", c.MaxBodyBytes)
	}
	return nil
}

// withDefaults keeps every default in one place.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.TracerProvider == nil {
		c.TracerProvider = otel.GetTracerProvider()
	}
	if c.LatencyScale == 0 {
		c.LatencyScale = 1
	}
	if c.FaultLatency == 0 {
		c.FaultLatency = time.Second
	}
	if c.MaxMonitors == 0 {
		c.MaxMonitors = 10000
	}
	if c.PauseThreshold == 0 {
		c.PauseThreshold = 5
	}
	if c.CheckTimeout == 0 {
		c.CheckTimeout = 3 * time.Second
	}
	if c.SchedulerInterval == 0 {
		c.SchedulerInterval = time.Second
	}
	if c.SchedulerWorkers == 0 {
		c.SchedulerWorkers = 4
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 10
	}
	return c
}

func isProduction(env string) bool { return strings.EqualFold(strings.TrimSpace(env), "production") }

// Service is the reference service. Its handler is safe for concurrent use;
// Start and Close each take effect once.
type Service struct {
	cfg Config
	// userTP is the caller's TracerProvider, nil when the global one is used,
	// so otelhttp follows the same choice.
	userTP  trace.TracerProvider
	log     *slog.Logger
	faults  faultInjector
	agents  []agent
	runner  *baseAgent
	store   Store
	checker *checker
	sched   *scheduler
	closing atomic.Bool
	startMu sync.Mutex
	started bool
}

// New returns a service ready to serve; call Start to run its background
// scheduler and Close to stop it.
func New(cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	userTP := cfg.TracerProvider
	cfg = cfg.withDefaults()
	tracer := cfg.TracerProvider.Tracer(instrumentationName)
	faults := faultInjector{enabled: !isProduction(cfg.Environment), rate: cfg.FaultRate, latency: cfg.FaultLatency}
	sources := newSourceClient(tracer, cfg.LatencyScale, faults)
	store := cfg.Store
	if store == nil {
		store = NewMemoryStore(cfg.MaxMonitors)
	}
	sink := cfg.AlertSink
	if sink == nil {
		sink = newSimulatedWebhook(cfg.LatencyScale)
	}
	chk := &checker{
		tracer:    tracer,
		sources:   sources,
		store:     store,
		sink:      sink,
		detector:  defaultDetector(),
		threshold: cfg.PauseThreshold,
		timeout:   cfg.CheckTimeout,
		log:       cfg.Logger,
	}
	s := &Service{
		cfg:     cfg,
		userTP:  userTP,
		log:     cfg.Logger,
		faults:  faults,
		agents:  builtinAgents(),
		runner:  &baseAgent{tracer: tracer, sources: sources, timeout: cfg.AgentTimeout},
		store:   store,
		checker: chk,
	}
	s.sched = newScheduler(store, chk, faults, cfg.SchedulerInterval, cfg.SchedulerWorkers, cfg.Logger)
	return s, nil
}

// Handler returns the service's HTTP handler: one otelhttp server span per
// request, named by route, with a request ID and the caller's user context on
// it and on every child span. Unmatched requests get a JSON 404 or 405.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	s.handle(mux, "GET /healthz", s.healthz)
	s.handle(mux, "GET /readyz", s.readyz)
	s.handle(mux, "POST /api/analyze", s.analyze)
	s.handle(mux, "POST /api/monitors", s.createMonitor)
	s.handle(mux, "GET /api/monitors", s.listMonitors)
	s.handle(mux, "GET /api/monitors/{id}", s.getMonitor)
	s.handle(mux, "POST /api/monitors/{id}/check", s.checkMonitor)
	s.handle(mux, "POST /api/monitors/{id}/resume", s.resumeMonitor)
	s.handle(mux, "POST /api/test-error", s.testError)

	unmatched := otelhttp.NewHandler(s.middleware(http.HandlerFunc(s.unmatched(mux))), "",
		append(s.otelhttpOptions(), otelhttp.WithSpanNameFormatter(unmatchedSpanName))...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Ask the mux first so that an unmatched request still gets a server
		// span (named by method only: its path is not a route and must not
		// become a transaction name) and a JSON answer rather than the mux's
		// plain-text one.
		if _, pattern := mux.Handler(r); pattern == "" {
			unmatched.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// handle registers h for pattern behind otelhttp and the service middleware.
// Routing happens before the server span starts, so otelhttp sees
// Request.Pattern and the span is born with its route as name and as
// http.route — which is what route-based sampling rules and Sentry's
// transaction names need.
func (s *Service) handle(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	mux.Handle(pattern, otelhttp.NewHandler(s.middleware(h), pattern, s.otelhttpOptions()...))
}

// middleware is what runs inside the server span, outermost first: request
// ID, user context, panic recovery (telemetry.Recover: inside the span so the
// panic is recorded on it, and after the request ID so the 500 answer can
// quote it), then fault injection.
func (s *Service) middleware(h http.Handler) http.Handler {
	return requestID(withUser(telemetry.Recover(s.faults.middleware(h))))
}

func (s *Service) otelhttpOptions() []otelhttp.Option {
	if s.userTP == nil {
		return nil
	}
	return []otelhttp.Option{otelhttp.WithTracerProvider(s.userTP)}
}

// Start runs the background scheduler until ctx is done or Close is called.
// It returns at once; calls after the first are no-ops.
func (s *Service) Start(ctx context.Context) {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.started || s.closing.Load() {
		return
	}
	s.started = true
	s.sched.start(ctx)
}

// Close marks the service not ready, stops the scheduler from starting
// checks and waits for the checks in flight, until ctx is done — then it
// cancels them and returns ctx's error. It is safe to call more than once.
func (s *Service) Close(ctx context.Context) error {
	s.startMu.Lock()
	s.closing.Store(true)
	s.startMu.Unlock()
	if err := s.sched.close(ctx); err != nil {
		return fmt.Errorf("stopping the monitor scheduler: %w", err)
	}
	return nil
}
