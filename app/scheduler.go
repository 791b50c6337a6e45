package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// scheduler runs due monitor checks in the background with a bounded pool
// of workers. start launches it; close stops it and waits. Each check is the
// root of its own trace.
type scheduler struct {
	store    Store
	checker  *checker
	faults   faultInjector
	interval time.Duration
	workers  int
	log      *slog.Logger

	mu         sync.Mutex
	status     string             // idle, running, stopped
	stopClaims context.CancelFunc // ends the claim loop
	abort      context.CancelFunc // cancels checks in flight
	done       chan struct{}      // closed when the loop and every worker have returned

	// skipped counts checks claimed but not started because the scheduler
	// was stopping; their NextCheckAt already moved on, so they simply run
	// an interval later.
	skipped atomic.Int64
}

func newScheduler(store Store, chk *checker, faults faultInjector, interval time.Duration, workers int, log *slog.Logger) *scheduler {
	return &scheduler{store: store, checker: chk, faults: faults, interval: interval, workers: workers, log: log, status: "idle"}
}

// state is idle (not started), running, or stopped (closed, or its start
// context ended).
func (s *scheduler) state() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == "running" {
		select {
		case <-s.done:
			return "stopped"
		default:
		}
	}
	return s.status
}

// start launches the claim loop and the workers. The loop stops when ctx is
// done or close is called; checks already running then finish (each is
// bounded by the check timeout) unless close's context ends first.
func (s *scheduler) start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != "idle" {
		return
	}
	loopCtx, stopClaims := context.WithCancel(ctx)
	// Checks outlive ctx so a signal lets them finish: only close aborts them.
	workCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	s.stopClaims, s.abort, s.done, s.status = stopClaims, abort, make(chan struct{}), "running"

	// A queue as deep as the pool: the loop claims only what fits, so a
	// claimed check waits at most one check's time.
	jobs := make(chan Monitor, s.workers)
	var wg sync.WaitGroup
	for range s.workers {
		wg.Go(func() {
			for m := range jobs {
				if loopCtx.Err() != nil {
					s.skipped.Add(1)
					continue
				}
				s.checker.run(withFault(workCtx, s.faults.draw(false)), m, triggerScheduler)
			}
		})
	}
	go func() {
		defer close(s.done)
		s.loop(loopCtx, jobs)
		close(jobs)
		wg.Wait()
		abort()
		if n := s.skipped.Load(); n > 0 {
			s.log.Info("monitor scheduler stopped; claimed checks skipped", "skipped", n)
		}
	}()
}

// loop claims due monitors every interval, as many as the queue has room for.
func (s *scheduler) loop(ctx context.Context, jobs chan<- Monitor) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		// Only this goroutine sends, so room can only grow before the sends.
		if room := cap(jobs) - len(jobs); room > 0 {
			due, err := s.store.ClaimDue(ctx, time.Now(), room)
			if err != nil {
				s.log.Error("claiming due monitor checks", "error", err)
			}
			for _, m := range due {
				jobs <- m
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// close stops claiming, lets running checks finish and waits for the pool
// until ctx is done; then it cancels the checks and returns ctx's error. It
// is safe to call before start and more than once.
func (s *scheduler) close(ctx context.Context) error {
	s.mu.Lock()
	if s.status == "running" {
		s.stopClaims()
	}
	s.status = "stopped"
	done, abort := s.done, s.abort
	s.mu.Unlock()
	if done == nil {
		return nil // never started
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		abort()
		return fmt.Errorf("waiting for monitor checks in flight: %w", ctx.Err())
	}
}
