package processors

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getsentry/sentry-go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// An EventSink receives the events the errors stage builds. *sentry.Client
// is one. The stage calls CaptureEvent with a nil scope: sentry-go v0.49's
// Scope.ApplyToEvent would overwrite contexts.trace — the link to the OTel
// trace — with the scope's own propagation context.
type EventSink interface {
	CaptureEvent(event *sentry.Event, hint *sentry.EventHint, scope sentry.EventModifier) *sentry.EventID
	// FlushWithContext waits until the sink's own queue has been sent. The
	// stage calls it every FlushEvery events, so that a burst of errors
	// waits in the stage's bounded, counted queue instead of overflowing
	// sentry-go's (which drops silently, oldest first).
	FlushWithContext(ctx context.Context) bool
}

// ErrorsConfig configures the errors stage. Start from
// [DefaultErrorsConfig]; [NewErrors] validates it.
type ErrorsConfig struct {
	// Environment and Release are set on every event, as fields and tags.
	Environment, Release string
	// SampleRate is the fraction of traces whose errors are sent, in [0, 1].
	// The decision is made on the trace ID, the way the OpenTelemetry ratio
	// sampler makes it, so all errors of a trace go or stay together, and a
	// trace kept by head sampling at a lower rate keeps its errors.
	SampleRate float64
	// InAppPrefixes are the import-path prefixes of the application's own
	// code; stack frames under them (and package main) are marked in_app.
	// Default: the main module's path, from the binary's build information.
	InAppPrefixes []string
	// FingerprintRules group events into issues; see [FingerprintRule].
	// Default: [DefaultFingerprintRules]. None leaves all grouping to Sentry.
	FingerprintRules []FingerprintRule
	// MaxTraces bounds the local traces held at once, each waiting for its
	// local root to end. When full, the oldest is sent early (TracesEvicted).
	MaxTraces int
	// MaxSpansPerTrace bounds the spans held for one local trace, exception
	// spans and breadcrumb sources each (SpansDropped).
	MaxSpansPerTrace int
	// MaxAge bounds how long a local trace is held: a trace whose root has
	// not ended by then (a goroutine outliving its request) is sent as it is
	// (TracesExpired).
	MaxAge time.Duration
	// HistorySize, when positive, is how many recently ended spans of all
	// traces are remembered so that the spans that ended before an error's
	// first exception (its children, earlier siblings) become breadcrumbs
	// too. It costs one uncontended lock per span; see errors_history.go.
	// Default 0: off.
	HistorySize int
	// QueueSize bounds the local traces waiting for the worker that builds
	// and sends events (QueueDropped counts the exceptions lost).
	QueueSize int
	// MaxBreadcrumbs bounds the breadcrumbs of one event; the most recent
	// are kept (BreadcrumbsDropped).
	MaxBreadcrumbs int
	// FlushEvery is the number of events after which the worker waits for
	// the sink's queue to drain: sentry-go's own buffer holds 100 errors and
	// drops the oldest silently, so a slow Sentry must back up into the
	// stage's queue, where drops are counted. Each wait lasts at most
	// FlushTimeout (FlushTimeouts counts those that ran out) and is retried
	// until the sink has drained or Shutdown's deadline has passed. 0 never
	// waits: for a sink that never drops silently (the pipeline's spooling
	// transport), waiting would only let a hung backend back up into this
	// stage and drop errors here.
	FlushEvery   int
	FlushTimeout time.Duration
}

// DefaultErrorsConfig returns the defaults: every error sent (SampleRate 1),
// the default fingerprint rules, 1 024 held traces of at most 512 spans for
// at most one minute, no history, a queue of 1 024 traces, 100 breadcrumbs
// an event, a flush wait every 50 events of at most 5 s.
func DefaultErrorsConfig() ErrorsConfig {
	return ErrorsConfig{
		SampleRate:       1,
		InAppPrefixes:    mainModulePrefixes(),
		FingerprintRules: DefaultFingerprintRules(),
		MaxTraces:        1024,
		MaxSpansPerTrace: 512,
		MaxAge:           time.Minute,
		QueueSize:        1024,
		MaxBreadcrumbs:   100,
		FlushEvery:       50,
		FlushTimeout:     5 * time.Second,
	}
}

func mainModulePrefixes() []string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Path != "" {
		return []string{info.Main.Path}
	}
	return nil
}

// Validate reports the first field that is out of range, by name.
func (c *ErrorsConfig) Validate() error {
	switch {
	case !(c.SampleRate >= 0 && c.SampleRate <= 1):
		return fmt.Errorf("errors stage: SampleRate %v: must be between 0 and 1", c.SampleRate)
	case c.MaxTraces <= 0:
		return fmt.Errorf("errors stage: MaxTraces %d: must be positive", c.MaxTraces)
	case c.MaxSpansPerTrace <= 0:
		return fmt.Errorf("errors stage: MaxSpansPerTrace %d: must be positive", c.MaxSpansPerTrace)
	case c.MaxAge <= 0:
		return fmt.Errorf("errors stage: MaxAge %v: must be positive", c.MaxAge)
	case c.HistorySize < 0:
		return fmt.Errorf("errors stage: HistorySize %d: must not be negative", c.HistorySize)
	case c.QueueSize <= 0:
		return fmt.Errorf("errors stage: QueueSize %d: must be positive", c.QueueSize)
	case c.MaxBreadcrumbs < 0:
		return fmt.Errorf("errors stage: MaxBreadcrumbs %d: must not be negative", c.MaxBreadcrumbs)
	case c.FlushEvery < 0:
		return fmt.Errorf("errors stage: FlushEvery %d: must be 0 (never wait) or positive", c.FlushEvery)
	case c.FlushTimeout <= 0:
		return fmt.Errorf("errors stage: FlushTimeout %v: must be positive", c.FlushTimeout)
	}
	if _, err := compileFingerprintRules(c.FingerprintRules); err != nil {
		return fmt.Errorf("errors stage: %w", err)
	}
	return nil
}

// Errors is the errors stage: a tap beside the keep stage that turns every
// span with an exception event — head-sampled or not — into a Sentry error
// event linked to its trace. It passes every span on to the next stage
// unchanged.
//
// Work is split so that the goroutine ending a span pays almost nothing:
//   - a span without an exception, of a trace that is not held, costs a
//     scan of its events and a filter probe: no lock, no allocation;
//   - a span with an exception makes its local trace "held" (bounded by
//     MaxTraces): from then on the trace's spans are kept (bounded by
//     MaxSpansPerTrace) — its ancestors, for parent links, transaction
//     name and tags; later siblings, for breadcrumbs;
//   - when the local root ends (or the trace is evicted, or expires), the
//     held trace is queued for one worker goroutine, which collapses
//     duplicates, builds the events (stack, breadcrumbs, tags, contexts,
//     fingerprint — every string through the Scrubber) and captures them.
//
// The trade-off: spans that ended before the trace's first exception are
// not known (unless HistorySize turns the history on), so they are missing
// from the breadcrumbs; everything recorded on the failing span and its
// ancestors is there, since those end later.
//
// The worker is started by the processor [Errors.Link] builds and stopped by
// its Shutdown, which first sends everything held and queued, within the
// context's deadline. After Shutdown, spans are passed on and otherwise
// ignored. All methods are safe for concurrent use.
type Errors struct {
	cfg   ErrorsConfig
	sink  EventSink
	scrub Scrubber
	fp    fingerprinter
	inApp inAppFunc

	hist   *spanHistory
	traces *traceTable
	queue  chan job

	next      sdktrace.SpanProcessor
	linked    atomic.Bool
	lifecycle sync.RWMutex // held for reading by every path that queues
	closed    bool         // under lifecycle
	stop      chan struct{}
	done      chan struct{}
	workCtx   context.Context
	cancel    context.CancelFunc
	stopOnce  sync.Once
	stopErr   error

	stats errorsCounters
}

// NewErrors returns the errors stage. sink and scrub are required: no event
// may leave unredacted.
func NewErrors(sink EventSink, scrub Scrubber, cfg ErrorsConfig) (*Errors, error) {
	if sink == nil {
		return nil, errors.New("errors stage: no event sink (Sentry client)")
	}
	if scrub == nil {
		return nil, errors.New("errors stage: no scrubber: events must be redacted")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fp, _ := compileFingerprintRules(cfg.FingerprintRules) // checked by Validate
	cfg.InAppPrefixes = append([]string(nil), cfg.InAppPrefixes...)
	ctx, cancel := context.WithCancel(context.Background())
	return &Errors{
		cfg:     cfg,
		sink:    sink,
		scrub:   scrub,
		fp:      fp,
		inApp:   inAppPrefixes(cfg.InAppPrefixes),
		hist:    newSpanHistory(cfg.HistorySize),
		traces:  newTraceTable(cfg.MaxTraces),
		queue:   make(chan job, cfg.QueueSize),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		workCtx: ctx,
		cancel:  cancel,
	}, nil
}

// Link returns the stage as a link of the chain. It may be used once: the
// processor it builds owns the worker goroutine, which its Shutdown stops.
func (e *Errors) Link() Link {
	return func(next sdktrace.SpanProcessor) sdktrace.SpanProcessor {
		if !e.linked.CompareAndSwap(false, true) {
			panic("processors: Errors.Link used twice")
		}
		e.next = next
		go e.run()
		return errorsLink{e}
	}
}

// errorsLink is the stage's place in the chain. Keeping the SpanProcessor
// methods off Errors means the stage cannot be registered without Link, which
// would leave it without a next stage or a worker.
type errorsLink struct{ e *Errors }

// OnStart passes s on; the stage has nothing to do when a span starts.
func (l errorsLink) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) { l.e.next.OnStart(ctx, s) }

// OnEnd observes s and passes it on unchanged.
func (l errorsLink) OnEnd(s sdktrace.ReadOnlySpan) {
	l.e.observe(s)
	l.e.next.OnEnd(s)
}

// ForceFlush: see Errors.forceFlush.
func (l errorsLink) ForceFlush(ctx context.Context) error { return l.e.forceFlush(ctx) }

// Shutdown: see Errors.shutdown.
func (l errorsLink) Shutdown(ctx context.Context) error { return l.e.shutdown(ctx) }

// observe is the hot path. A span without an exception event costs a scan
// of its events and, while any trace is held, one filter probe — atomic loads
// only, no lock, no allocation — unless the history is on (HistorySize),
// which adds one uncontended lock. The scan is inlined; the rare paths are
// calls.
func (e *Errors) observe(s sdktrace.ReadOnlySpan) {
	if hasException(s.Events()) {
		e.onException(s)
	} else if e.hist != nil || e.traces.held.Load() != 0 {
		e.observeHeld(s)
	}
}

func hasException(evs []sdktrace.Event) bool {
	for i := range evs {
		if evs[i].Name == exceptionEvent {
			return true
		}
	}
	return false
}

// observeHeld handles a span without an exception while the history is on
// or some trace is held.
func (e *Errors) observeHeld(s sdktrace.ReadOnlySpan) {
	tid := s.SpanContext().TraceID()
	if e.hist != nil {
		e.hist.add(tid, s)
	}
	if e.traces.mayHold(tid) {
		e.onHeldSpan(s, tid)
	}
}

const exceptionEvent = "exception"

// isLocalRoot: the span's parent is in another process, or there is none.
func isLocalRoot(parent trace.SpanContext) bool { return !parent.IsValid() || parent.IsRemote() }

func (e *Errors) onException(s sdktrace.ReadOnlySpan) {
	e.lifecycle.RLock()
	defer e.lifecycle.RUnlock()
	if e.closed {
		return
	}
	tid := s.SpanContext().TraceID()
	s = freeze(s)
	var earlier []sdktrace.ReadOnlySpan
	if e.hist != nil {
		// Copy what the history remembers of this trace now: the spans
		// that ended before this one (its children, earlier siblings)
		// may be overwritten by other traces before the local root ends.
		earlier = e.hist.collect(tid, nil)
	}
	ready, evicted := e.traces.addException(tid, s, earlier, isLocalRoot(s.Parent()), e.cfg.MaxTraces, e.cfg.MaxSpansPerTrace, &e.stats)
	if evicted != nil {
		e.stats.tracesEvicted.Add(1)
		e.enqueue(job{trace: evicted})
	}
	if ready != nil {
		e.enqueue(job{trace: ready})
	}
}

// onHeldSpan records a span of a held trace — an ancestor of an exception,
// a later sibling — for parent links and breadcrumbs, and queues the trace
// when the span is its local root.
func (e *Errors) onHeldSpan(s sdktrace.ReadOnlySpan, tid trace.TraceID) {
	e.lifecycle.RLock()
	defer e.lifecycle.RUnlock()
	if e.closed {
		return
	}
	if ht := e.traces.addSpan(tid, s, e.cfg.MaxSpansPerTrace, &e.stats); ht != nil {
		e.enqueue(job{trace: ht})
	}
}

// enqueue never blocks the goroutine that ends a span: a full queue drops
// the trace's errors and counts them.
func (e *Errors) enqueue(j job) {
	select {
	case e.queue <- j:
	default:
		e.stats.queueDropped.Add(uint64(len(j.trace.errs)))
	}
}

// forceFlush waits until the worker has sent everything queued so far (not
// the traces still held for their local root, which may not have ended),
// then flushes the next stage.
func (e *Errors) forceFlush(ctx context.Context) error {
	var err error
	e.lifecycle.RLock()
	closed := e.closed
	e.lifecycle.RUnlock()
	if !closed {
		ack := make(chan struct{})
		select {
		case e.queue <- job{flushed: ack}:
			select {
			case <-ack:
			case <-e.done:
			case <-ctx.Done():
				err = fmt.Errorf("errors stage: flushing: %w", ctx.Err())
			}
		case <-e.done:
		case <-ctx.Done():
			err = fmt.Errorf("errors stage: flushing: %w", ctx.Err())
		}
	}
	return errors.Join(err, e.next.ForceFlush(ctx))
}

// shutdown stops taking new work, lets the worker send every held and
// queued trace, waits for it within ctx, then shuts the next stage down. If
// ctx ends first, the worker's remaining flush waits are cut short, the
// error says so, and the worker finishes in the background. Later calls
// return the first call's result.
func (e *Errors) shutdown(ctx context.Context) error {
	e.stopOnce.Do(func() {
		e.lifecycle.Lock()
		e.closed = true
		e.lifecycle.Unlock()
		close(e.stop)
		if e.linked.Load() {
			select {
			case <-e.done:
			case <-ctx.Done():
				e.cancel()
				e.stopErr = fmt.Errorf("errors stage: shutting down: events still being sent: %w", ctx.Err())
			}
		}
		e.cancel()
		if e.next != nil {
			e.stopErr = errors.Join(e.stopErr, e.next.Shutdown(ctx))
		}
	})
	return e.stopErr
}

// ErrorsStats are the errors stage's counters since it was created.
type ErrorsStats struct {
	Events             uint64 // events handed to the sink
	Duplicates         uint64 // exceptions collapsed into a deeper span's event
	SampledOut         uint64 // exceptions not sent because of SampleRate
	QueueDropped       uint64 // exceptions lost because the worker's queue was full
	TracesEvicted      uint64 // held traces sent early because MaxTraces was reached
	TracesExpired      uint64 // held traces sent after MaxAge without their local root
	SpansDropped       uint64 // spans not held because MaxSpansPerTrace was reached
	BreadcrumbsDropped uint64 // breadcrumbs cut by MaxBreadcrumbs
	FlushTimeouts      uint64 // waits on the sink that ended before it had drained
}

// Stats returns a snapshot of the counters.
func (e *Errors) Stats() ErrorsStats { return e.stats.snapshot() }

type errorsCounters struct {
	events, duplicates, sampledOut, queueDropped, tracesEvicted, tracesExpired,
	spansDropped, breadcrumbsDropped, flushTimeouts atomic.Uint64
}

func (c *errorsCounters) snapshot() ErrorsStats {
	return ErrorsStats{
		Events: c.events.Load(), Duplicates: c.duplicates.Load(), SampledOut: c.sampledOut.Load(),
		QueueDropped: c.queueDropped.Load(), TracesEvicted: c.tracesEvicted.Load(),
		TracesExpired: c.tracesExpired.Load(), SpansDropped: c.spansDropped.Load(),
		BreadcrumbsDropped: c.breadcrumbsDropped.Load(), FlushTimeouts: c.flushTimeouts.Load(),
	}
}
