package app

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/telemetry"
)

// agent is one analyst of an analysis. An agent is plain domain code: it
// reads data sources through fetch and returns its findings. Spans, events,
// timeouts and panics are the business of baseAgent, which runs every agent.
type agent interface {
	// Name is the agent's name, e.g. "FinancialAgent".
	Name() string
	// Timeout bounds one run.
	Timeout() time.Duration
	// Endpoints lists the data-source endpoints the agent reads.
	Endpoints() []string
	// Run analyses req. It must return when ctx is done.
	Run(ctx context.Context, fetch fetchFunc, req analysisRequest) (map[string]any, error)
}

// fetchFunc reads one data-source endpoint.
type fetchFunc func(ctx context.Context, endpoint string, q query) (dataset, error)

// Agent outcomes, as reported to clients.
const (
	agentSucceeded = "succeeded"
	agentFailed    = "failed"
	agentTimedOut  = "timed_out"
)

// agentReport is one agent's part of an analysis report.
type agentReport struct {
	Agent      string  `json:"agent"`
	Status     string  `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`
	// Result is reported once, under the report's results.
	Result map[string]any `json:"-"`
}

// baseAgent is the one wrapper every agent runs in (the seed's BaseAgent).
// It starts the agent.execute span (agent.name, agent.timeout,
// agent.data_sources), puts agent.name in the context so data-source spans
// inherit it, adds agent.started / agent.succeeded / agent.failed events,
// sets execution_time, enforces the agent's timeout and turns a panic into a
// failure. A timeout is RecordError(context.DeadlineExceeded), status Error
// and agent.timed_out=true.
type baseAgent struct {
	tracer  trace.Tracer
	sources *sourceClient
	// timeout, when positive, replaces every agent's own (Config.AgentTimeout).
	timeout time.Duration
}

// execute runs a and returns within a's timeout even if a ignores its
// context: the run happens on a goroutine that the deadline's cancellation
// stops, and execute stops waiting for it at the deadline.
func (b *baseAgent) execute(ctx context.Context, a agent, req analysisRequest) agentReport {
	timeout := a.Timeout()
	if b.timeout > 0 {
		timeout = b.timeout
	}
	ctx, span := b.tracer.Start(ctx, "agent.execute", trace.WithAttributes(
		attribute.String("agent.name", a.Name()),
		attribute.Int64("agent.timeout", timeout.Milliseconds()),
		attribute.StringSlice("agent.data_sources", sourceNames(a.Endpoints())),
	))
	defer span.End()
	ctx = telemetry.WithAttributes(ctx, attribute.String("agent.name", a.Name()))
	span.AddEvent("agent.started")

	start := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type outcome struct {
		result map[string]any
		err    error
		panic  any
		stack  []byte
	}
	done := make(chan outcome, 1) // buffered: a late agent must not block on send
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- outcome{panic: v, stack: debug.Stack()}
			}
		}()
		res, err := a.Run(runCtx, b.sources.fetch, req)
		done <- outcome{result: res, err: err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-runCtx.Done():
		select {
		case out = <-done: // finished on the wire: its own answer wins
		default:
			out = outcome{err: runCtx.Err()}
		}
	}
	elapsed := time.Since(start)
	ms := float64(elapsed.Microseconds()) / 1000
	rep := agentReport{Agent: a.Name(), DurationMS: ms}
	// execution_time is in milliseconds, the unit of Sentry measurements.
	span.SetAttributes(attribute.Float64("execution_time", ms))

	timedOut := out.err != nil && errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	span.SetAttributes(attribute.Bool("agent.timed_out", timedOut))
	switch {
	case out.panic != nil:
		recordPanic(span, out.panic, out.stack)
		rep.Status, rep.Error = agentFailed, fmt.Sprintf("panic: %v", out.panic)
	case timedOut:
		span.RecordError(context.DeadlineExceeded)
		span.SetStatus(codes.Error, fmt.Sprintf("%s timed out after %s", a.Name(), timeout))
		span.SetAttributes(attribute.String("error.type", "timeout"))
		rep.Status, rep.Error = agentTimedOut, fmt.Sprintf("timed out after %s", timeout)
	case out.err != nil:
		err := fmt.Errorf("%s: %w", a.Name(), out.err)
		if ctx.Err() != nil {
			// The request was abandoned: not this agent's fault, no error event.
			span.SetStatus(codes.Error, err.Error())
			span.SetAttributes(attribute.String("error.type", errorType(ctx.Err())))
		} else {
			failSpan(span, err)
		}
		rep.Status, rep.Error = agentFailed, out.err.Error()
	default:
		rep.Status, rep.Result = agentSucceeded, out.result
		span.AddEvent("agent.succeeded", trace.WithAttributes(attribute.Float64("execution_time", ms)))
		return rep
	}
	span.AddEvent("agent.failed", trace.WithAttributes(
		attribute.Float64("execution_time", ms),
		attribute.Bool("agent.timed_out", timedOut),
		attribute.String("reason", rep.Error),
	))
	return rep
}

// sourceNames lists the distinct data sources behind endpoint keys, in order.
func sourceNames(keys []string) []string {
	names := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if n := sourceName(k); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}
