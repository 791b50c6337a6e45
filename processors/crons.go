package processors

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Span attributes the crons stage reads. Application code sets them with the
// plain OpenTelemetry API, at span start (trace.WithAttributes), where the
// stage can see them.
const (
	// AttrMonitorSlug names the Sentry Crons monitor a span checks in to.
	// It wins over CronsConfig.Slug. Its value is scrubbed and turned into
	// a valid slug (lowercase letters, digits, '-' and '_', 50 at most).
	AttrMonitorSlug = attribute.Key("monitor.slug")
	// AttrMonitorID identifies the job a span runs; with
	// CronsConfig.PerMonitor it names a monitor of its own.
	AttrMonitorID = attribute.Key("monitor.id")
	// AttrMonitorInterval is the job's period in seconds (an integer or a
	// float; a string is read as a Go duration such as "5m"). It becomes
	// the schedule of a monitor named by AttrMonitorSlug or PerMonitor.
	AttrMonitorInterval = attribute.Key("monitor.interval")
)

// A CheckInSink sends Sentry Crons check-ins. *sentry.Client is one. The
// stage passes a nil scope: a check-in carries only its slug, status,
// duration and monitor configuration (the client adds environment and
// release), never scope data.
type CheckInSink interface {
	CaptureCheckIn(checkIn *sentry.CheckIn, monitorConfig *sentry.MonitorConfig, scope sentry.EventModifier) *sentry.EventID
}

// CronMonitor is the Sentry Crons monitor configuration sent with every
// check-in; Sentry creates the monitor from it, or updates it, so it must
// agree with any other place that manages the monitor (alerts.yaml).
// Durations are in minutes, as Sentry counts them.
type CronMonitor struct {
	// Every and Unit are the interval schedule: one run expected every
	// Every Units.
	Every int64
	Unit  sentry.MonitorScheduleUnit
	// CheckInMargin is how late a run may start before it counts as missed.
	CheckInMargin int64
	// MaxRuntime is how long a run may stay in progress before it counts
	// as timed out.
	MaxRuntime int64
	// FailureIssueThreshold is how many failed runs in a row (error,
	// missed or timed out) open an issue; RecoveryThreshold how many good
	// runs in a row resolve it.
	FailureIssueThreshold int64
	RecoveryThreshold     int64
}

// CronsConfig configures the crons stage. Start from [DefaultCronsConfig];
// [NewCrons] validates it.
type CronsConfig struct {
	// SpanNames are the names of the spans that are runs of a scheduled job
	// when they are local roots (no parent, or a remote one). They check in
	// when they start (in_progress) and when they end (ok or error). A span
	// of another name checks in only if it carries AttrMonitorSlug, and
	// then only when it ends: see [Crons].
	SpanNames []string
	// Slug is the monitor every run of SpanNames checks in to when the span
	// has no AttrMonitorSlug, with Monitor as its configuration. Empty: such
	// runs check in only through PerMonitor.
	Slug string
	// Monitor is the configuration sent for Slug, and the margin, runtime
	// and thresholds of the monitors PerMonitor and AttrMonitorSlug name.
	Monitor CronMonitor
	// PerMonitor, when set, also checks each run of SpanNames that has an
	// AttrMonitorID in to a monitor of its own, PerMonitorPrefix + the ID,
	// scheduled by the span's AttrMonitorInterval. Sentry bills per
	// monitor and creates one per slug it sees, hence off by default.
	PerMonitor       bool
	PerMonitorPrefix string
	// MinSpacing is the least time between two runs that check in to one
	// monitor; runs that start sooner are not reported (Throttled). A
	// scheduler running many jobs a minute would otherwise exceed what
	// Sentry accepts for one monitor, and one run per schedule period is
	// all a liveness monitor needs. Zero reports every run.
	MinSpacing time.Duration
	// MaxOpen bounds the runs in progress the stage remembers; a run that
	// starts when it is full is not reported (OpenDropped).
	MaxOpen int
	// QueueSize bounds the check-ins waiting for the worker that hands
	// them to the sink (QueueDropped).
	QueueSize int
}

// Defaults of the crons stage. The monitor's numbers are those of the
// "Monitor system down" rule in alerts.yaml: a run expected every minute, a
// 7-minute margin, at most 5 minutes a run, an issue after 3 failures, and
// resolved after 2 good runs.
const (
	DefaultCronSpanName = "monitor.check"
	DefaultCronSlug     = "intelligence-monitor-scheduler"
)

// DefaultCronsConfig returns the defaults: local-root monitor.check spans
// check in to intelligence-monitor-scheduler (every minute, 7-minute
// margin, 5-minute runtime, thresholds 3 and 2); no per-monitor slugs; at
// most one run reported every 20 s per monitor; 1 024 runs in progress; a
// queue of 1 024 check-ins.
func DefaultCronsConfig() CronsConfig {
	return CronsConfig{
		SpanNames: []string{DefaultCronSpanName},
		Slug:      DefaultCronSlug,
		Monitor: CronMonitor{
			Every: 1, Unit: sentry.MonitorScheduleUnitMinute,
			CheckInMargin: 7, MaxRuntime: 5,
			FailureIssueThreshold: 3, RecoveryThreshold: 2,
		},
		PerMonitorPrefix: "monitor-",
		MinSpacing:       20 * time.Second,
		MaxOpen:          1024,
		QueueSize:        1024,
	}
}

// maxSlugLen is Sentry's limit on a monitor slug.
const maxSlugLen = 50

var monitorUnits = []sentry.MonitorScheduleUnit{
	sentry.MonitorScheduleUnitMinute, sentry.MonitorScheduleUnitHour, sentry.MonitorScheduleUnitDay,
	sentry.MonitorScheduleUnitWeek, sentry.MonitorScheduleUnitMonth, sentry.MonitorScheduleUnitYear,
}

// Validate reports the first field that is out of range, by name.
func (c *CronsConfig) Validate() error {
	for i, n := range c.SpanNames {
		if n == "" {
			return fmt.Errorf("crons stage: SpanNames[%d] is empty", i)
		}
	}
	if c.Slug != "" && slugify(c.Slug) != c.Slug {
		return fmt.Errorf("crons stage: Slug %q: want lowercase letters, digits, '-' or '_', at most %d, not only digits", c.Slug, maxSlugLen)
	}
	if c.PerMonitor && (c.PerMonitorPrefix == "" || len(c.PerMonitorPrefix) >= maxSlugLen ||
		strings.TrimLeft(c.PerMonitorPrefix, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "") {
		return fmt.Errorf("crons stage: PerMonitorPrefix %q: want lowercase letters, digits, '-' or '_'", c.PerMonitorPrefix)
	}
	m := &c.Monitor
	switch {
	case m.Every <= 0:
		return fmt.Errorf("crons stage: Monitor.Every %d: must be positive", m.Every)
	case !unitKnown(m.Unit):
		return fmt.Errorf("crons stage: Monitor.Unit %q: not one of minute, hour, day, week, month, year", m.Unit)
	case m.CheckInMargin < 1:
		return fmt.Errorf("crons stage: Monitor.CheckInMargin %d: must be at least 1 (minutes)", m.CheckInMargin)
	case m.MaxRuntime < 1 || m.MaxRuntime > 10080:
		return fmt.Errorf("crons stage: Monitor.MaxRuntime %d: must be within 1..10080 (minutes)", m.MaxRuntime)
	case m.FailureIssueThreshold < 1:
		return fmt.Errorf("crons stage: Monitor.FailureIssueThreshold %d: must be at least 1", m.FailureIssueThreshold)
	case m.RecoveryThreshold < 1:
		return fmt.Errorf("crons stage: Monitor.RecoveryThreshold %d: must be at least 1", m.RecoveryThreshold)
	case c.MinSpacing < 0:
		return fmt.Errorf("crons stage: MinSpacing %v: must not be negative", c.MinSpacing)
	case c.MaxOpen <= 0:
		return fmt.Errorf("crons stage: MaxOpen %d: must be positive", c.MaxOpen)
	case c.QueueSize <= 0:
		return fmt.Errorf("crons stage: QueueSize %d: must be positive", c.QueueSize)
	}
	return nil
}

func unitKnown(u sentry.MonitorScheduleUnit) bool {
	for _, k := range monitorUnits {
		if u == k {
			return true
		}
	}
	return false
}

// Crons is the crons stage: it turns runs of scheduled jobs, seen as spans,
// into Sentry Crons check-ins, so that Sentry raises an issue when runs
// fail, run too long, or stop coming — the scheduler has died. It passes
// every span on unchanged, sampled or not; it belongs before the keep stage,
// which may hold or drop spans.
//
// Which spans are runs:
//   - a local root named in SpanNames: in_progress when it starts, then ok,
//     or error (status Error or an exception event), with its duration and
//     the same check-in ID, when it ends. Its monitor is AttrMonitorSlug if
//     set at start, else Slug (and, with PerMonitor, PerMonitorPrefix +
//     AttrMonitorID too). Only local roots count: a job run inside a
//     request (the reference service's POST /api/monitors/{id}/check) is
//     not the schedule at work, and counting it would hide a dead
//     scheduler;
//   - any other local root carrying AttrMonitorSlug: one check-in when it
//     ends (ok or error, with its duration). The stage cannot read a
//     span's attributes at start without making the SDK copy them, for
//     every span; so such a run has no in_progress check-in and Sentry
//     cannot time it out while it runs. Name the span in SpanNames to get
//     both.
//
// A check-in carries the slug, status, duration and monitor configuration;
// the sink adds environment and release. Slugs taken from attributes go
// through the Scrubber first.
//
// Cost on the goroutine that starts or ends a span that is no run: OnStart
// reads the name (the SDK takes the span's lock for it) and compares it;
// OnEnd makes one atomic load while runs are in progress, reads the parent,
// and for a local root scans its attributes for AttrMonitorSlug. No
// allocation. Check-ins are sent by one worker goroutine from a bounded
// queue, started by [Crons.Link] and stopped by Shutdown after it has
// handed every queued check-in to the sink (within the context's deadline).
// Runs still in progress at Shutdown are counted (Unfinished) and not
// reported: Sentry marks them timed out after MaxRuntime. All methods are
// safe for concurrent use.
type Crons struct {
	cfg     CronsConfig
	sink    CheckInSink
	scrub   Scrubber
	monitor *sentry.MonitorConfig // Slug's; shared, never modified

	// open holds the runs in progress by span ID. openN mirrors len(open)
	// and filter counts open span IDs per bucket, both read with atomic
	// loads, so a span that is not an open run is told apart without the
	// lock (see traceTable for the same scheme).
	mu       sync.Mutex
	open     map[trace.SpanID]openRun
	lastRun  map[string]time.Time // by slug, for MinSpacing
	openN    atomic.Int64
	filter   [256]atomic.Uint32
	names    []string
	queue    chan *cronJob // of pointers: a slot costs 8 bytes, not the job's 72
	next     sdktrace.SpanProcessor
	linked   atomic.Bool
	closed   bool // under mu
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	stopErr  error

	stats cronsCounters
}

// openRun is a run in progress: the check-ins it opened (one or two).
type openRun struct {
	refs [2]checkInRef
	n    int
}

// checkInRef is one monitor's side of a run.
type checkInRef struct {
	id   sentry.EventID
	slug string
	mon  *sentry.MonitorConfig // nil: the monitor's configuration in Sentry stands
}

// cronJob is one unit of the worker's queue: a check-in, or a ForceFlush
// marker acknowledged once everything queued before it is done.
type cronJob struct {
	ref      checkInRef
	status   sentry.CheckInStatus
	duration time.Duration
	flushed  chan struct{}
}

// maxSlugTimes bounds lastRun; when full it is cleared, which at worst lets
// one extra run per monitor through.
const maxSlugTimes = 4096

// NewCrons returns the crons stage. sink and scrub are required: slugs taken
// from span attributes leave the process, so they are redacted first.
func NewCrons(sink CheckInSink, scrub Scrubber, cfg CronsConfig) (*Crons, error) {
	if sink == nil {
		return nil, errors.New("crons stage: no check-in sink (Sentry client)")
	}
	if scrub == nil {
		return nil, errors.New("crons stage: no scrubber: slugs from attributes must be redacted")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.SpanNames = append([]string(nil), cfg.SpanNames...)
	return &Crons{
		cfg:     cfg,
		sink:    sink,
		scrub:   scrub,
		monitor: cfg.Monitor.config(sentry.IntervalSchedule(cfg.Monitor.Every, cfg.Monitor.Unit)),
		open:    make(map[trace.SpanID]openRun),
		lastRun: make(map[string]time.Time),
		names:   cfg.SpanNames,
		queue:   make(chan *cronJob, cfg.QueueSize),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}, nil
}

func (m CronMonitor) config(s sentry.MonitorSchedule) *sentry.MonitorConfig {
	return &sentry.MonitorConfig{
		Schedule:              s,
		CheckInMargin:         m.CheckInMargin,
		MaxRuntime:            m.MaxRuntime,
		FailureIssueThreshold: m.FailureIssueThreshold,
		RecoveryThreshold:     m.RecoveryThreshold,
	}
}

// Link returns the stage as a link of the chain. It may be used once: the
// processor it builds owns the worker goroutine, which its Shutdown stops.
func (c *Crons) Link() Link {
	return func(next sdktrace.SpanProcessor) sdktrace.SpanProcessor {
		if !c.linked.CompareAndSwap(false, true) {
			panic("processors: Crons.Link used twice")
		}
		c.next = next
		go c.run()
		return cronsLink{c}
	}
}

// cronsLink is the stage's place in the chain; see errorsLink for why the
// SpanProcessor methods are not on Crons itself.
type cronsLink struct{ c *Crons }

// OnStart opens a check-in for a run, then passes s on.
func (l cronsLink) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	if l.c.isRunName(s.Name()) {
		l.c.onRunStart(s, AttributesFromContext(ctx))
	}
	l.c.next.OnStart(ctx, s)
}

// OnEnd closes a run's check-ins, then passes s on unchanged.
func (l cronsLink) OnEnd(s sdktrace.ReadOnlySpan) {
	l.c.observeEnd(s)
	l.c.next.OnEnd(s)
}

// ForceFlush: see Crons.forceFlush.
func (l cronsLink) ForceFlush(ctx context.Context) error { return l.c.forceFlush(ctx) }

// Shutdown: see Crons.shutdown.
func (l cronsLink) Shutdown(ctx context.Context) error { return l.c.shutdown(ctx) }

func (c *Crons) isRunName(name string) bool {
	for _, n := range c.names {
		if name == n {
			return true
		}
	}
	return false
}

func (c *Crons) bucket(id trace.SpanID) *atomic.Uint32 {
	// Span IDs are random: any byte is a good enough hash.
	return &c.filter[id[7]]
}

// onRunStart handles a span named in SpanNames: if it is a local root, it
// opens its check-ins. Reading the attributes makes the SDK copy them on
// the span's next SetAttributes — acceptable for a run, not for every span.
// ctxAttrs are the context's attributes, which a deferring enrich stage has
// not set on s: s's own win, as they will at its end.
func (c *Crons) onRunStart(s sdktrace.ReadWriteSpan, ctxAttrs []attribute.KeyValue) {
	if !isLocalRoot(s.Parent()) {
		return
	}
	attrs := s.Attributes()
	if len(ctxAttrs) > 0 {
		attrs = appendContext(append([]attribute.KeyValue(nil), attrs...), attrs, ctxAttrs, 0)
	}
	var run openRun
	if v, ok := attrValue(attrs, AttrMonitorSlug); ok {
		if ref, ok := c.refFromAttr(v, attrs); ok {
			run.refs[run.n], run.n = ref, run.n+1
		}
	} else {
		if c.cfg.Slug != "" {
			run.refs[run.n], run.n = checkInRef{slug: c.cfg.Slug, mon: c.monitor}, run.n+1
		}
		if id, ok := attrValue(attrs, AttrMonitorID); ok && c.cfg.PerMonitor {
			if slug := c.attrSlug(AttrMonitorID, id, c.cfg.PerMonitorPrefix); slug != "" {
				run.refs[run.n], run.n = checkInRef{slug: slug, mon: c.intervalConfig(attrs)}, run.n+1
			} else {
				c.stats.badSlugs.Add(1)
			}
		}
	}
	if run.n == 0 {
		return
	}
	now := s.StartTime()
	sid := s.SpanContext().SpanID()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if len(c.open) >= c.cfg.MaxOpen {
		c.stats.openDropped.Add(1)
		return
	}
	var admitted openRun
	for i := 0; i < run.n; i++ {
		if ref := run.refs[i]; c.admitLocked(ref.slug, now) {
			ref.id = newCheckInID()
			admitted.refs[admitted.n], admitted.n = ref, admitted.n+1
		}
	}
	if run = admitted; run.n == 0 {
		return
	}
	c.open[sid] = run
	c.openN.Add(1)
	c.bucket(sid).Add(1)
	for i := 0; i < run.n; i++ {
		c.enqueueLocked(&cronJob{ref: run.refs[i], status: sentry.CheckInStatusInProgress})
	}
}

// admitLocked applies MinSpacing to one monitor and records the run.
func (c *Crons) admitLocked(slug string, now time.Time) bool {
	if c.cfg.MinSpacing > 0 {
		if last, ok := c.lastRun[slug]; ok && now.Sub(last) < c.cfg.MinSpacing {
			c.stats.throttled.Add(1)
			return false
		}
	}
	if len(c.lastRun) >= maxSlugTimes {
		clear(c.lastRun)
	}
	c.lastRun[slug] = now
	return true
}

// observeEnd is the hot path of OnEnd.
func (c *Crons) observeEnd(s sdktrace.ReadOnlySpan) {
	if c.openN.Load() != 0 {
		sid := s.SpanContext().SpanID()
		if c.bucket(sid).Load() != 0 && c.closeRun(s, sid) {
			return
		}
	}
	if isLocalRoot(s.Parent()) {
		if v, ok := spanAttr(s, AttrMonitorSlug); ok && !c.isRunName(s.Name()) {
			c.onSlugEnd(s, v)
		}
	}
}

// closeRun sends the final check-ins of the run s ended, if s is one.
func (c *Crons) closeRun(s sdktrace.ReadOnlySpan, sid trace.SpanID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	run, ok := c.open[sid]
	if !ok {
		return false // a filter false positive
	}
	delete(c.open, sid)
	c.openN.Add(-1)
	c.bucket(sid).Add(^uint32(0))
	if c.closed {
		return true
	}
	status, d := runOutcome(s)
	for i := 0; i < run.n; i++ {
		c.enqueueLocked(&cronJob{ref: run.refs[i], status: status, duration: d})
	}
	return true
}

// onSlugEnd reports a run seen only when it ended: one closing check-in.
func (c *Crons) onSlugEnd(s sdktrace.ReadOnlySpan, v attribute.Value) {
	attrs := s.Attributes()
	ref, ok := c.refFromAttr(v, attrs)
	if !ok {
		return
	}
	ref.id = newCheckInID()
	status, d := runOutcome(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.admitLocked(ref.slug, s.StartTime()) {
		return
	}
	c.enqueueLocked(&cronJob{ref: ref, status: status, duration: d})
}

// refFromAttr is the monitor an AttrMonitorSlug value names: Slug's own
// configuration for Slug, else a schedule from AttrMonitorInterval (none
// without it: the monitor must then be configured in Sentry).
func (c *Crons) refFromAttr(v attribute.Value, attrs []attribute.KeyValue) (checkInRef, bool) {
	slug := c.attrSlug(AttrMonitorSlug, v, "")
	if slug == "" {
		c.stats.badSlugs.Add(1)
		return checkInRef{}, false
	}
	if slug == c.cfg.Slug {
		return checkInRef{slug: slug, mon: c.monitor}, true
	}
	return checkInRef{slug: slug, mon: c.intervalConfig(attrs)}, true
}

// attrSlug is prefix + the scrubbed value as a slug, or "" if nothing valid
// is left.
func (c *Crons) attrSlug(key attribute.Key, v attribute.Value, prefix string) string {
	text, _ := c.scrub.Attr(string(key), v.Emit())
	return slugify(prefix + text)
}

// intervalConfig is the monitor configuration scheduled by the span's
// AttrMonitorInterval, or nil when it has none.
func (c *Crons) intervalConfig(attrs []attribute.KeyValue) *sentry.MonitorConfig {
	v, ok := attrValue(attrs, AttrMonitorInterval)
	if !ok {
		return nil
	}
	var d time.Duration
	switch v.Type() {
	case attribute.INT64:
		d = time.Duration(v.AsInt64()) * time.Second
	case attribute.FLOAT64:
		d = time.Duration(v.AsFloat64() * float64(time.Second))
	case attribute.STRING:
		d, _ = time.ParseDuration(v.AsString())
	}
	if d <= 0 {
		return nil
	}
	every, unit := intervalSchedule(d)
	return c.cfg.Monitor.config(sentry.IntervalSchedule(every, unit))
}

// intervalSchedule expresses d in Sentry's units, which start at a minute:
// whole days or hours when d is one, else minutes rounded up (a job every
// 30 s is expected at least every minute).
func intervalSchedule(d time.Duration) (int64, sentry.MonitorScheduleUnit) {
	switch {
	case d%(24*time.Hour) == 0:
		return int64(d / (24 * time.Hour)), sentry.MonitorScheduleUnitDay
	case d%time.Hour == 0:
		return int64(d / time.Hour), sentry.MonitorScheduleUnitHour
	}
	return int64((d + time.Minute - 1) / time.Minute), sentry.MonitorScheduleUnitMinute
}

// runOutcome is a run's final status and duration.
func runOutcome(s sdktrace.ReadOnlySpan) (sentry.CheckInStatus, time.Duration) {
	status := sentry.CheckInStatusOK
	if s.Status().Code == codes.Error || hasException(s.Events()) {
		status = sentry.CheckInStatusError
	}
	return status, s.EndTime().Sub(s.StartTime())
}

// enqueueLocked never blocks the goroutine that starts or ends a span: a
// full queue drops the check-in and counts it. Called with mu held, so no
// check-in is queued after Shutdown has begun.
func (c *Crons) enqueueLocked(j *cronJob) {
	select {
	case c.queue <- j:
	default:
		c.stats.queueDropped.Add(1)
	}
}

// run is the worker goroutine, owned by the stage: started by Link, stopped
// by Shutdown after it has handed everything queued to the sink.
func (c *Crons) run() {
	defer close(c.done)
	for {
		select {
		case j := <-c.queue:
			c.handle(j)
		case <-c.stop:
			// Nothing is queued once closed is set, so draining until
			// empty sees the last check-in.
			for {
				select {
				case j := <-c.queue:
					c.handle(j)
				default:
					return
				}
			}
		}
	}
}

func (c *Crons) handle(j *cronJob) {
	if j.flushed != nil {
		close(j.flushed)
		return
	}
	c.sink.CaptureCheckIn(&sentry.CheckIn{
		ID:          j.ref.id,
		MonitorSlug: j.ref.slug,
		Status:      j.status,
		Duration:    j.duration,
	}, j.ref.mon, nil)
	c.stats.checkIns.Add(1)
}

// forceFlush waits until the worker has handed every check-in queued so far
// to the sink (not the runs still in progress), then flushes the next stage.
func (c *Crons) forceFlush(ctx context.Context) error {
	var err error
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if !closed && c.linked.Load() {
		ack := make(chan struct{})
		select {
		case c.queue <- &cronJob{flushed: ack}:
			select {
			case <-ack:
			case <-c.done:
			case <-ctx.Done():
				err = fmt.Errorf("crons stage: flushing: %w", ctx.Err())
			}
		case <-c.done:
		case <-ctx.Done():
			err = fmt.Errorf("crons stage: flushing: %w", ctx.Err())
		}
	}
	return errors.Join(err, c.next.ForceFlush(ctx))
}

// shutdown stops taking new runs, counts those still in progress as
// Unfinished, lets the worker hand every queued check-in to the sink and
// waits for it within ctx, then shuts the next stage down. If ctx ends
// first, the error says so and the worker finishes in the background.
// Later calls return the first call's result.
func (c *Crons) shutdown(ctx context.Context) error {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.stats.unfinished.Add(uint64(len(c.open)))
		c.mu.Unlock()
		close(c.stop)
		if c.linked.Load() {
			select {
			case <-c.done:
			case <-ctx.Done():
				c.stopErr = fmt.Errorf("crons stage: shutting down: check-ins still queued: %w", ctx.Err())
			}
		}
		if c.next != nil {
			c.stopErr = errors.Join(c.stopErr, c.next.Shutdown(ctx))
		}
	})
	return c.stopErr
}

// CronsStats are the crons stage's counters since it was created.
type CronsStats struct {
	CheckIns     uint64 // check-ins handed to the sink
	Throttled    uint64 // runs not reported to a monitor because of MinSpacing
	OpenDropped  uint64 // runs not reported because MaxOpen runs were in progress
	QueueDropped uint64 // check-ins lost because the worker's queue was full
	BadSlugs     uint64 // runs whose attribute left no valid slug
	Unfinished   uint64 // runs still in progress at Shutdown, never closed
}

// Stats returns a snapshot of the counters.
func (c *Crons) Stats() CronsStats {
	s := &c.stats
	return CronsStats{
		CheckIns: s.checkIns.Load(), Throttled: s.throttled.Load(), OpenDropped: s.openDropped.Load(),
		QueueDropped: s.queueDropped.Load(), BadSlugs: s.badSlugs.Load(), Unfinished: s.unfinished.Load(),
	}
}

type cronsCounters struct {
	checkIns, throttled, openDropped, queueDropped, badSlugs, unfinished atomic.Uint64
}

// attrValue is the value of key in attrs, the first if there are several.
func attrValue(attrs []attribute.KeyValue, key attribute.Key) (attribute.Value, bool) {
	for i := range attrs {
		if attrs[i].Key == key {
			return attrs[i].Value, true
		}
	}
	return attribute.Value{}, false
}

// slugify turns s into a Sentry monitor slug: lowercase letters, digits, '-'
// and '_', other runs of characters as one '-', trimmed, at most 50. It
// returns "" when nothing usable is left (Sentry rejects an all-digit slug).
func slugify(s string) string {
	var b strings.Builder
	b.Grow(min(len(s), maxSlugLen))
	dash, digitsOnly := false, true
	for _, r := range strings.ToLower(s) {
		if b.Len() >= maxSlugLen {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r == '_':
			digitsOnly = false
		case r >= '0' && r <= '9':
		default:
			if b.Len() > 0 && !dash {
				b.WriteByte('-')
				dash = true
			}
			continue
		}
		b.WriteRune(r)
		dash = false
	}
	out := strings.TrimRight(b.String(), "-")
	if digitsOnly {
		return ""
	}
	return out
}

// newCheckInID is a random (version 4) UUID in the 32-hex-digit form
// sentry-go uses for its own IDs.
func newCheckInID() sentry.EventID {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return sentry.EventID(hex.EncodeToString(b[:]))
}
