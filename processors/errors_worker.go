package processors

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/trace"
)

// job is one unit of the worker's queue: a finished local trace, or a
// ForceFlush marker acknowledged once everything queued before it is done.
type job struct {
	trace   *heldTrace
	flushed chan struct{}
}

// run is the worker goroutine, owned by the stage: started by Link, stopped
// by Shutdown. It builds and captures events, expires held traces, and on
// stop sends everything queued and held before it returns.
func (e *Errors) run() {
	defer close(e.done)
	every := e.cfg.MaxAge / 4
	if every < 10*time.Millisecond {
		every = 10 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	w := worker{e: e}
	for {
		select {
		case j := <-e.queue:
			w.handle(j)
		case now := <-tick.C:
			for _, ht := range e.traces.expired(now.Add(-e.cfg.MaxAge)) {
				e.stats.tracesExpired.Add(1)
				w.process(ht)
			}
		case <-e.stop:
			// No path queues after closed is set (see Shutdown), so
			// draining until empty sees the last job.
			for drained := false; !drained; {
				select {
				case j := <-e.queue:
					w.handle(j)
				default:
					drained = true
				}
			}
			for _, ht := range e.traces.takeAll() {
				w.process(ht)
			}
			return
		}
	}
}

// worker is the state of the worker goroutine; only it touches it.
type worker struct {
	e          *Errors
	sinceFlush int
}

func (w *worker) handle(j job) {
	if j.flushed != nil {
		close(j.flushed)
		return
	}
	w.process(j.trace)
}

// process turns one local trace into events and captures them.
func (w *worker) process(ht *heldTrace) {
	e := w.e
	if e.cfg.SampleRate < 1 && !traceIDSampled(ht.id, e.cfg.SampleRate) {
		e.stats.sampledOut.Add(uint64(len(ht.errs)))
		return
	}
	lt := newLocalTrace(ht)
	xs := lt.exceptions()
	if n := collapseDuplicates(lt, xs); n > 0 {
		e.stats.duplicates.Add(uint64(n))
	}
	crumbs := lt.breadcrumbs(e.scrub)
	for i := range xs {
		if xs[i].dup {
			continue
		}
		ev := e.buildEvent(lt, &xs[i], crumbs)
		e.sink.CaptureEvent(ev, &sentry.EventHint{Data: bridgeHint{}}, nil)
		e.stats.events.Add(1)
		w.sinceFlush++
		if e.cfg.FlushEvery > 0 && w.sinceFlush >= e.cfg.FlushEvery {
			w.sinceFlush = 0
			w.waitForSink()
		}
	}
}

// waitForSink blocks until the sink has sent what it holds. sentry-go's
// error buffer is small and drops its oldest event when full, silently; by
// waiting here, a slow or unreachable Sentry backs up into the stage's own
// bounded queue instead, where drops are counted. Each wait is bounded by
// FlushTimeout and counted when it runs out; waiting stops for good when
// Shutdown's deadline has passed (workCtx is cancelled).
func (w *worker) waitForSink() {
	e := w.e
	for e.workCtx.Err() == nil {
		ctx, cancel := context.WithTimeout(e.workCtx, e.cfg.FlushTimeout)
		ok := e.sink.FlushWithContext(ctx)
		cancel()
		if ok {
			return
		}
		e.stats.flushTimeouts.Add(1)
	}
}

// traceIDSampled decides like the OpenTelemetry TraceIDRatioBased sampler:
// on the trace ID's low 63 bits, so that a trace the head sampler kept at a
// lower rate always keeps its errors.
func traceIDSampled(id trace.TraceID, rate float64) bool {
	if rate <= 0 {
		return false
	}
	bound := uint64(rate * (1 << 63))
	return binary.BigEndian.Uint64(id[8:16])>>1 < bound
}

// bridgeHint marks the events the errors stage captures, so that the
// BeforeSend hook can tell them from events captured any other way.
type bridgeHint struct{}

// IsBridgeEvent reports whether hint belongs to an event built by the
// errors stage. BeforeSend uses it to sample only the other events: the
// stage has already applied its SampleRate.
func IsBridgeEvent(hint *sentry.EventHint) bool {
	if hint == nil {
		return false
	}
	_, ok := hint.Data.(bridgeHint)
	return ok
}
