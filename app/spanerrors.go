package app

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/telemetry"
)

// recordedError marks an error that is already an exception event on the
// span where it happened. The spans it then passes through (agent, check)
// mark themselves failed without recording it again, so one failure is one
// error event downstream, not one per ancestor.
type recordedError struct{ err error }

func (e recordedError) Error() string { return e.err.Error() }
func (e recordedError) Unwrap() error { return e.err }

// ErrorType keeps error.type that of the underlying error (semconv.ErrorType
// looks for this method before falling back to the Go type's name).
func (e recordedError) ErrorType() string { return errorType(e.err) }

// failSpan marks span failed with err: status Error, error.type, and an
// exception event unless one was already recorded further down or err is a
// cancellation — a caller going away (shutdown, a closed connection) is not
// a bug to report.
func failSpan(span trace.Span, err error) error {
	span.SetStatus(codes.Error, err.Error())
	span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
	var rec recordedError
	if errors.As(err, &rec) || errors.Is(err, context.Canceled) {
		return err
	}
	span.RecordError(err, trace.WithStackTrace(true))
	return recordedError{err}
}

// errorType is the error.type value for err: "timeout" and "canceled" for the
// context errors (low-cardinality, as the convention asks), else what
// semconv derives (an ErrorType method, or the Go type's name).
func errorType(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return semconv.ErrorType(err).Value.AsString()
}

// recordPanic records a panic recovered in a goroutine of ours (an agent, a
// monitor check) the way telemetry.Recover records a handler's: an
// exception event with exception.type "panic" and the stack — span.RecordError
// would name the Go type of the value instead — and status Error.
func recordPanic(span trace.Span, v any, stack []byte) {
	msg := fmt.Sprint(v)
	span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
		semconv.ExceptionType(telemetry.PanicExceptionType),
		semconv.ExceptionMessage(msg),
		semconv.ExceptionStacktrace(string(stack)),
	))
	span.SetAttributes(semconv.ErrorTypeKey.String(telemetry.PanicExceptionType))
	span.SetStatus(codes.Error, "panic: "+msg)
}
