package telemetry

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getsentry/sentry-go"
)

// spoolingTransport is the sentry.Transport the pipeline sends error events
// with. sentry-go v0.49's own transports (HTTPTransport, and the
// AsyncTransport behind its telemetry buffer, which is what a client with
// no Transport gets) were read before writing this one; what they do, and
// what is added here:
//
//   - Rate limits: sentry-go parses X-Sentry-Rate-Limits per category and,
//     on a 429 without it, Retry-After for all categories (one minute when
//     absent), and then DROPS every event of a limited category. We parse
//     the same headers the same way (rateLimits; its package is internal)
//     but hold limited events back — in the spool, or in memory — and send
//     them when the limit ends. We also honor Retry-After on 5xx, which
//     sentry-go ignores, and cap every server-given delay (maxServerDelay).
//   - Retries: sentry-go never retries; an envelope that meets a network
//     error or a 5xx is lost (counted only in a client report). We retry
//     with exponential backoff and jitter, oldest envelope first.
//   - Queue: sentry-go's queue holds 1000 envelopes and drops new ones when
//     full (and its telemetry buffer keeps only 100 errors, dropping the
//     oldest) — without telling the application. Ours is bounded too, but
//     an overflow goes to the spool, and every drop is counted by reason.
//   - Flush/Close: sentry-go's Flush waits for its queue to be sent, or for
//     the timeout; its Close stops the worker and loses whatever is queued,
//     and an in-flight request runs on for up to 30 s. Our Flush counts an
//     envelope written to the spool as done; Close cancels the request in
//     flight and spools what is still in memory (see Close).
//   - Offline cache: sentry-go has none. The spool is ours (spool.go).
//
// Reused from sentry-go: Event.ToEnvelope for the envelope items (so item
// types, lengths and attachments match), Event.GetCategory for the rate
// limit category, Dsn for the endpoint and keys.
//
// Delivery is at least once and in capture order: envelopes in memory and
// in the spool are merged by a sequence number taken at capture (which
// continues across restarts from the spool's highest), so after an outage
// the backlog is sent oldest first before anything newer. Two envelopes can
// swap only when one of them races the queue-overflow path. A duplicate is
// possible only when a request times out after Sentry accepted it; Sentry
// discards an event_id it already has.
//
// Concurrency: every method is safe for concurrent use. One worker
// goroutine, started by Configure and stopped by Close, does all network
// I/O. SendEvent never waits on the network; it does disk I/O only when the
// in-memory queue is full and the spool is on (one fsynced file), which is
// the price of not losing an error under overload.
type spoolingTransport struct {
	cfg   transportConfig
	now   func() time.Time
	log   *slog.Logger
	spool *spool // nil when the spool is off

	// Set by Configure before the worker starts; read-only afterwards.
	endpoint  string
	auth      string
	userAgent string
	secrets   []string // the DSN's keys, scrubbed from everything logged
	client    *http.Client
	ownHTTP   *http.Transport // ours to close; nil when the user gave one

	mu       sync.Mutex
	queue    []*envelope // FIFO in seq order, len <= cfg.queueSize
	held     *envelope   // taken from the queue by the worker and not yet delivered or spooled
	seq      uint64      // last sequence number given out
	closed   bool
	started  bool
	progress chan struct{} // closed and replaced whenever an envelope leaves memory

	wake    chan struct{} // new work, or the clock moved (tests)
	kick    chan struct{} // a Flush wants an attempt now rather than after our own backoff
	done    chan struct{} // closed by Close
	stopped chan struct{} // closed when the worker has returned
	ctx     context.Context
	cancel  context.CancelFunc // aborts the request in flight, on Close

	// Worker-only state.
	limits      rateLimits
	retryAt     time.Time
	serverDelay bool // retryAt was set by the server (Retry-After), not our backoff
	failures    int
	lastExpire  time.Time
	outage      bool

	captured, sent, spooled, replayed atomic.Int64
	drops                             [numDropReasons]atomic.Int64
	spoolFailing                      atomic.Bool

	startOnce, closeOnce sync.Once
}

// transportConfig holds the transport's knobs; zero values take defaults.
// Tests shrink the durations to milliseconds.
type transportConfig struct {
	queueSize      int           // envelopes in memory (default 1000, as sentry-go)
	httpTimeout    time.Duration // per request, connect to response body (default 10 s)
	backoffBase    time.Duration // first retry delay after a failure (default 1 s)
	backoffMax     time.Duration // longest retry delay we choose (default 1 min)
	maxServerDelay time.Duration // cap on Retry-After / rate limits (default 1 h)
	expireEvery    time.Duration // how often the spool is swept for age (default 1 min)
	logger         *slog.Logger  // default: discard
	spool          spoolConfig   // dir "" = spool off
	now            func() time.Time
}

const (
	defaultTransportQueue   = 1000
	defaultHTTPTimeout      = 10 * time.Second
	defaultBackoffBase      = time.Second
	defaultBackoffMax       = time.Minute
	defaultMaxServerDelay   = time.Hour
	defaultSpoolExpireEvery = time.Minute
	maxResponseDrain        = 64 << 10
)

// dropReason says why an envelope was given up. Its String is the label
// the metrics use.
type dropReason int

const (
	dropQueueFull  dropReason = iota // queue full, spool off
	dropSpoolFull                    // queue full and spool full (or full at Close)
	dropSpoolError                   // the spool could not be written (disk full, permissions)
	dropExpired                      // older than the spool's max age
	dropRejected                     // a 4xx other than 408/429: retrying cannot help
	dropShutdown                     // in memory at Close with the spool off, or sent after Close
	dropCorrupt                      // a spool file that is not a whole envelope
	dropEncode                       // the event could not be serialised
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{"queue_full", "spool_full", "spool_error", "expired", "rejected_4xx", "shutdown", "corrupt", "encode"}

func (r dropReason) String() string { return dropReasonNames[r] }

// SentryTransportStats is a snapshot of the Sentry transport's counters.
// Every error event captured is, at any time, exactly one of: sent, in
// memory (QueueDepth), in the spool, or dropped. Replayed counts the sent
// events that came from the spool (including ones a previous process
// left), so after an outage Sent = Captured − dropped, over the life of the
// spool directory.
type SentryTransportStats struct {
	Captured, Sent, Spooled, Replayed uint64
	// Dropped counts events given up, by reason: queue_full, spool_full,
	// spool_error, expired, rejected_4xx, shutdown, corrupt, encode. Every
	// reason is present.
	Dropped map[string]uint64
	// Gauges.
	QueueDepth, QueueCapacity int64
	SpoolFiles, SpoolBytes    int64
	SpoolMaxBytes             int64 // 0 when the spool is off
}

// newSpoolingTransport builds the transport and, when cfg.spool.dir is set,
// opens the spool: envelopes a previous process left are queued for
// delivery once Configure has started the worker. cfg.spool must have been
// resolved. Nothing runs until Configure.
func newSpoolingTransport(cfg transportConfig) (*spoolingTransport, error) {
	if cfg.queueSize <= 0 {
		cfg.queueSize = defaultTransportQueue
	}
	if cfg.httpTimeout <= 0 {
		cfg.httpTimeout = defaultHTTPTimeout
	}
	if cfg.backoffBase <= 0 {
		cfg.backoffBase = defaultBackoffBase
	}
	if cfg.backoffMax <= 0 {
		cfg.backoffMax = defaultBackoffMax
	}
	if cfg.maxServerDelay <= 0 {
		cfg.maxServerDelay = defaultMaxServerDelay
	}
	if cfg.expireEvery <= 0 {
		cfg.expireEvery = defaultSpoolExpireEvery
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	t := &spoolingTransport{
		cfg:      cfg,
		now:      cfg.now,
		log:      cfg.logger,
		progress: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		kick:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		stopped:  make(chan struct{}),
		limits:   rateLimits{},
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	if cfg.spool.dir != "" {
		sp, err := openSpool(cfg.spool, t.now())
		if err != nil {
			return nil, err
		}
		t.spool = sp
		t.seq = sp.lastSeq()
		t.lastExpire = t.now()
		if n, b := sp.usage(); n > 0 {
			t.log.Info("Error spool holds events from a previous run; they will be sent",
				"dir", cfg.spool.dir, "events", n, "bytes", b)
		}
	}
	return t, nil
}

// Configure is called by sentry.NewClient with the client's options. It
// sets the endpoint and credentials from the DSN and the HTTP client (the
// options' HTTPClient, else HTTPTransport, proxies and CA certificates, as
// sentry-go does), and starts the worker. Only the first call counts.
func (t *spoolingTransport) Configure(opts sentry.ClientOptions) {
	t.startOnce.Do(func() {
		dsn, err := sentry.NewDsn(opts.Dsn)
		if opts.Dsn == "" || err != nil {
			// Nothing can be sent; events stay queued (and spooled at Close).
			t.log.Warn("Sentry transport has no valid DSN; error events are kept, not sent")
			return
		}
		t.endpoint = dsn.GetAPIURL().String()
		for _, k := range []string{dsn.GetPublicKey(), dsn.GetSecretKey()} {
			if k != "" {
				t.secrets = append(t.secrets, k)
			}
		}
		client := "sentry.go/" + sentry.SDKVersion
		t.userAgent = client
		t.auth = "Sentry sentry_version=7, sentry_client=" + client + ", sentry_key=" + dsn.GetPublicKey()
		if s := dsn.GetSecretKey(); s != "" {
			t.auth += ", sentry_secret=" + s
		}
		t.client = opts.HTTPClient
		if t.client == nil {
			rt := opts.HTTPTransport
			if rt == nil {
				t.ownHTTP = newHTTPTransport(opts)
				rt = t.ownHTTP
			}
			t.client = &http.Client{
				Transport: rt,
				// The auth header is ours, not Authorization, so net/http
				// would forward it to any host a redirect names.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
		}
		t.mu.Lock()
		if !t.closed {
			t.started = true
			go t.run()
		}
		t.mu.Unlock()
	})
}

func newHTTPTransport(opts sentry.ClientOptions) *http.Transport {
	proxy := http.ProxyFromEnvironment
	for _, p := range []string{opts.HTTPSProxy, opts.HTTPProxy} {
		if p == "" {
			continue
		}
		u, err := url.Parse(p)
		proxy = func(*http.Request) (*url.URL, error) { return u, err }
		break
	}
	tr := &http.Transport{
		Proxy:               proxy,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 2,
		ForceAttemptHTTP2:   true,
	}
	if opts.CaCerts != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: opts.CaCerts, MinVersion: tls.VersionTLS12}
	}
	return tr
}

// SendEvent queues ev for delivery and returns without waiting on the
// network. When the queue is full the event goes to the spool (a disk
// write), or is dropped and counted (queue_full) when the spool is off.
// After Close it is dropped and counted (shutdown).
func (t *spoolingTransport) SendEvent(ev *sentry.Event) {
	if ev == nil {
		return
	}
	t.captured.Add(1)
	env, err := newEnvelope(ev, t.now())
	if err != nil {
		t.drops[dropEncode].Add(1)
		t.log.Warn("Sentry event dropped: it cannot be serialised", "error", t.scrub(err.Error()))
		return
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		t.drops[dropShutdown].Add(1)
		return
	}
	t.seq++
	env.seq = t.seq
	if len(t.queue) < t.cfg.queueSize {
		t.queue = append(t.queue, env)
		t.mu.Unlock()
		t.poke()
		return
	}
	t.mu.Unlock()
	if t.spool == nil {
		t.drops[dropQueueFull].Add(1)
		return
	}
	if reason, ok := t.toSpool(env, true); !ok {
		t.drops[reason].Add(1)
		return
	}
	t.poke()
}

// Flush waits at most timeout for every event captured before the call to
// be delivered or written to the spool. It returns false when the timeout
// came first; those events stay queued (Close spools them).
func (t *spoolingTransport) Flush(timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return t.FlushWithContext(ctx)
}

// FlushWithContext is Flush bounded by ctx. When the worker is waiting out
// its own backoff (not a delay the server asked for), it tries at once.
func (t *spoolingTransport) FlushWithContext(ctx context.Context) bool {
	t.mu.Lock()
	target := t.seq
	t.mu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
	for {
		t.mu.Lock()
		ok := (t.held == nil || t.held.seq > target) && (len(t.queue) == 0 || t.queue[0].seq > target)
		ch := t.progress
		t.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// Close stops the worker, aborting the request in flight, and writes every
// envelope still in memory to the spool; with the spool off (or full) they
// are dropped and counted (shutdown, spool_full). It does disk I/O for at
// most the queue's bound of envelopes, and never waits on the network.
// Close is idempotent; SendEvent after Close drops, Flush returns at once.
// Call Flush first to give the backend a chance.
func (t *spoolingTransport) Close() { t.close() }

// shutdown is what Pipeline.Shutdown needs: Flush until ctx is done (5 s
// when it has no deadline), then Close. It returns an error only if an
// event was lost — delivered and spooled events are both safe.
func (t *spoolingTransport) shutdown(ctx context.Context) error {
	ctx, cancel := withDefaultDeadline(ctx)
	defer cancel()
	t.FlushWithContext(ctx)
	if lost := t.close(); lost > 0 {
		return fmt.Errorf("telemetry: Sentry transport: %d error events could not be delivered or spooled before shutdown", lost)
	}
	return nil
}

// close does Close and returns how many envelopes it had to drop.
func (t *spoolingTransport) close() (lost int) {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		started := t.started
		t.mu.Unlock()
		close(t.done)
		t.cancel()
		if started {
			<-t.stopped
		}
		// The worker is gone and SendEvent sees closed: memory is ours.
		t.mu.Lock()
		rest := t.queue
		if t.held != nil {
			rest = append([]*envelope{t.held}, rest...)
		}
		t.mu.Unlock()
		spooled := 0
		for _, env := range rest {
			if t.spool == nil {
				t.drops[dropShutdown].Add(1)
				lost++
				continue
			}
			if reason, ok := t.toSpool(env, false); !ok {
				t.drops[reason].Add(1)
				lost++
				continue
			}
			spooled++
		}
		if spooled > 0 {
			_ = t.spool.syncDirectory()
		}
		t.mu.Lock()
		t.queue, t.held = nil, nil
		t.signalLocked()
		t.mu.Unlock()
		if t.ownHTTP != nil {
			t.ownHTTP.CloseIdleConnections()
		}
		switch {
		case lost > 0:
			t.log.Warn("Sentry transport closed: error events lost", "lost", lost, "spooled", spooled, "spool", t.spoolDir())
		case spooled > 0:
			t.log.Info("Sentry transport closed: undelivered error events spooled for the next start", "spooled", spooled, "spool", t.spoolDir())
		}
	})
	return lost
}

// stats returns the counters. Safe at any time, also after Close.
func (t *spoolingTransport) stats() SentryTransportStats {
	s := SentryTransportStats{
		Captured:      uint64(t.captured.Load()),
		Sent:          uint64(t.sent.Load()),
		Spooled:       uint64(t.spooled.Load()),
		Replayed:      uint64(t.replayed.Load()),
		Dropped:       make(map[string]uint64, numDropReasons),
		QueueCapacity: int64(t.cfg.queueSize),
	}
	for r := dropReason(0); r < numDropReasons; r++ {
		s.Dropped[r.String()] = uint64(t.drops[r].Load())
	}
	if t.spool != nil {
		s.Dropped[dropExpired.String()] += uint64(t.spool.expired.Load())
		s.Dropped[dropCorrupt.String()] += uint64(t.spool.corrupt.Load())
		files, bytes := t.spool.usage()
		s.SpoolFiles, s.SpoolBytes, s.SpoolMaxBytes = int64(files), bytes, t.spool.cfg.maxBytes
	}
	t.mu.Lock()
	s.QueueDepth = int64(len(t.queue))
	if t.held != nil {
		s.QueueDepth++
	}
	t.mu.Unlock()
	return s
}

// poke wakes the worker without blocking.
func (t *spoolingTransport) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *spoolingTransport) signalLocked() {
	close(t.progress)
	t.progress = make(chan struct{})
}

// toSpool writes env to the spool and counts it; on failure it says why.
func (t *spoolingTransport) toSpool(env *envelope, syncDir bool) (dropReason, bool) {
	err := t.spool.put(env, syncDir)
	if err == nil {
		t.spooled.Add(1)
		if t.spoolFailing.CompareAndSwap(true, false) {
			t.log.Info("Error spool writable again", "dir", t.spoolDir())
		}
		return 0, true
	}
	if errors.Is(err, errSpoolFull) {
		return dropSpoolFull, false
	}
	if t.spoolFailing.CompareAndSwap(false, true) {
		t.log.Warn("Error spool cannot be written; error events are kept in memory or dropped", "error", err.Error())
	}
	return dropSpoolError, false
}

func (t *spoolingTransport) spoolDir() string {
	if t.spool == nil {
		return "off"
	}
	return t.spool.cfg.dir
}

// run is the worker: one step at a time until Close.
func (t *spoolingTransport) run() {
	defer close(t.stopped)
	for {
		select {
		case <-t.done:
			return
		default:
		}
		if d := t.step(); d != 0 {
			t.sleep(d)
		}
	}
}

// idle is step's answer when there is nothing to do until woken.
const idle = time.Duration(-1)

// sleep waits for d (idle: indefinitely), new work, a flush, or Close.
func (t *spoolingTransport) sleep(d time.Duration) {
	var timer <-chan time.Time
	if d > 0 {
		tm := time.NewTimer(d)
		defer tm.Stop()
		timer = tm.C
	}
	select {
	case <-t.done:
	case <-t.wake:
	case <-timer:
	case <-t.kick:
		if !t.serverDelay {
			t.retryAt = time.Time{}
		}
	}
}

// step does one unit of work and returns 0 to go on at once, or how long
// to sleep.
func (t *spoolingTransport) step() time.Duration {
	now := t.now()
	if t.spool != nil && now.Sub(t.lastExpire) >= t.cfg.expireEvery {
		t.spool.expire(now)
		t.lastExpire = now
	}
	if now.Before(t.retryAt) {
		// Backing off: make memory durable meanwhile, one envelope a step
		// so that Close is never kept waiting long.
		if t.spool != nil && t.spoolHead() {
			return 0
		}
		return t.retryAt.Sub(now)
	}
	var memWait time.Duration
	mem := t.memHead()
	if mem != nil {
		if until := t.limits.until(mem.category); until.After(now) {
			if t.spool != nil && t.spoolHead() {
				return 0
			}
			mem, memWait = nil, until.Sub(now)
		}
	}
	var ent spoolEntry
	onDisk := false
	if t.spool != nil {
		ent, onDisk = t.spool.next(now, func(c string) bool { return !t.limits.until(c).After(now) })
	}
	switch {
	case mem != nil && (!onDisk || mem.seq < ent.seq):
		t.deliver(t.takeHead(), false)
		return 0
	case onDisk:
		env, err := t.spool.load(ent)
		if err != nil {
			t.log.Warn("Error spool file skipped", "error", err.Error())
			return 0
		}
		t.deliver(env, true)
		return 0
	case memWait > 0:
		return memWait
	}
	if n := t.limits.next(now); !n.IsZero() {
		return n.Sub(now) // spooled envelopes wait for their category's limit
	}
	return idle
}

// memHead is the oldest envelope in memory, without taking it.
func (t *spoolingTransport) memHead() *envelope {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held != nil {
		return t.held
	}
	if len(t.queue) > 0 {
		return t.queue[0]
	}
	return nil
}

// takeHead makes the oldest envelope in memory the held one.
func (t *spoolingTransport) takeHead() *envelope {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held == nil && len(t.queue) > 0 {
		t.held = t.queue[0]
		t.queue[0] = nil
		t.queue = t.queue[1:]
	}
	return t.held
}

// releaseHeld forgets the held envelope: it was delivered, spooled or dropped.
func (t *spoolingTransport) releaseHeld() {
	t.mu.Lock()
	t.held = nil
	t.signalLocked()
	t.mu.Unlock()
}

// spoolHead moves the oldest envelope in memory to the spool. It reports
// false when there is none or the spool cannot take it (it then stays in
// memory, to be sent or spooled later).
func (t *spoolingTransport) spoolHead() bool {
	env := t.takeHead()
	if env == nil {
		return false
	}
	if _, ok := t.toSpool(env, true); !ok {
		return false
	}
	t.releaseHeld()
	return true
}

// outcome classifies a delivery attempt.
type outcome int

const (
	outcomeSent     outcome = iota // 2xx
	outcomeRejected                // 4xx but 408 and 429: the event itself is refused
	outcomeLimited                 // 429: its category is rate-limited
	outcomeRetry                   // network error, timeout, 5xx, 408, anything else
	outcomeAborted                 // Close cancelled the request
)

// deliver makes one attempt and acts on its outcome. fromSpool says where
// env lives: its spool file is deleted once it is settled, while an
// envelope from memory is spooled (if it can be) when it has to wait.
func (t *spoolingTransport) deliver(env *envelope, fromSpool bool) {
	res, retryAfter, detail := t.post(env)
	now := t.now()
	settle := func() {
		if fromSpool {
			t.spool.remove(env.seq)
		} else {
			t.releaseHeld()
		}
	}
	wait := func() {
		if !fromSpool && t.spool != nil {
			t.spoolHead()
		}
	}
	switch res {
	case outcomeSent:
		t.sent.Add(1)
		if fromSpool {
			t.replayed.Add(1)
		}
		settle()
		t.failures, t.retryAt, t.serverDelay = 0, time.Time{}, false
		if t.outage {
			t.outage = false
			files, _ := t.usage()
			t.log.Info("Sentry reachable again; sending held error events", "spooled", files)
		}
	case outcomeRejected:
		n := t.drops[dropRejected].Add(1)
		settle()
		if n&(n-1) == 0 { // 1st, 2nd, 4th, 8th…: a storm of rejections cannot flood the log
			t.log.Warn("Sentry rejected an error event; it is dropped (retrying cannot help)",
				"event_id", env.eventID, "status", detail, "rejected_total", n)
		}
	case outcomeLimited:
		if until := t.limits.until(env.category); until.After(now) {
			// The limits are merged: the next steps keep the category back.
			wait()
			t.noteOutage(detail, until.Sub(now))
			return
		}
		// A 429 whose limits leave this category free would be retried at
		// once, forever: back off as for any other failure.
		fallthrough
	case outcomeRetry:
		t.failures++
		d := backoffDelay(t.failures, t.cfg.backoffBase, t.cfg.backoffMax)
		t.serverDelay = false
		if retryAfter > 0 {
			d, t.serverDelay = max(d, min(retryAfter, t.cfg.maxServerDelay)), true
		}
		t.retryAt = now.Add(d)
		wait()
		t.noteOutage(detail, d)
	case outcomeAborted:
		// Close is running; it spools the held envelope.
	}
}

func (t *spoolingTransport) usage() (int, int64) {
	if t.spool == nil {
		return 0, 0
	}
	return t.spool.usage()
}

// noteOutage logs the start of an outage once, not every failed attempt.
func (t *spoolingTransport) noteOutage(detail string, retryIn time.Duration) {
	if t.outage {
		return
	}
	t.outage = true
	t.log.Warn("Sentry unreachable; error events are held and retried",
		"reason", detail, "retry_in", retryIn.Round(time.Millisecond).String(), "spool", t.spoolDir())
}

// post sends env once. detail describes a failure for the log, scrubbed of
// the DSN's keys.
func (t *spoolingTransport) post(env *envelope) (res outcome, retryAfter time.Duration, detail string) {
	ctx, cancel := context.WithTimeout(t.ctx, t.cfg.httpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, bytes.NewReader(env.wire(t.now())))
	if err != nil {
		return outcomeRetry, 0, t.scrub(err.Error())
	}
	req.Header.Set("Content-Type", "application/x-sentry-envelope")
	req.Header.Set("User-Agent", t.userAgent)
	req.Header.Set("X-Sentry-Auth", t.auth)
	resp, err := t.client.Do(req)
	if err != nil {
		if t.ctx.Err() != nil {
			return outcomeAborted, 0, ""
		}
		return outcomeRetry, 0, t.scrub(err.Error())
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxResponseDrain)
	_ = resp.Body.Close()

	now := t.now()
	if l := rateLimitsFromResponse(resp.Header, resp.StatusCode, now, t.cfg.maxServerDelay); l != nil {
		t.limits.merge(l)
	}
	detail = "HTTP " + strconv.Itoa(resp.StatusCode)
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return outcomeSent, 0, ""
	case code == http.StatusTooManyRequests:
		return outcomeLimited, 0, detail
	case code == http.StatusRequestTimeout:
		return outcomeRetry, 0, detail
	case code >= 400 && code < 500:
		return outcomeRejected, 0, detail
	default:
		if code >= 500 {
			if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
				retryAfter = d
			}
		}
		return outcomeRetry, retryAfter, detail
	}
}

// scrub removes the DSN's keys, and the user-info of any URL, from s (an
// error text from net/http, say). The request URL holds no key — it travels
// in X-Sentry-Auth — so this is a second line of defence.
func (t *spoolingTransport) scrub(s string) string {
	for _, k := range t.secrets {
		s = strings.ReplaceAll(s, k, "[REDACTED]")
	}
	return urlUserInfo.ReplaceAllString(s, "://[REDACTED]@")
}

var urlUserInfo = regexp.MustCompile(`://[^/@\s"]+@`)
