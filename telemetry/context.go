package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/processors"
)

// User identifies the user a request acts for. Only an opaque ID and a tier
// are recorded — never an email or an IP address.
type User struct {
	ID   string
	Tier string
}

// WithUser records u on the span in ctx (user.id, user.tier) and returns a
// context whose child spans carry the same attributes. Empty fields are left
// out.
func WithUser(ctx context.Context, u User) context.Context {
	var kvs []attribute.KeyValue
	if u.ID != "" {
		kvs = append(kvs, attribute.String("user.id", u.ID))
	}
	if u.Tier != "" {
		kvs = append(kvs, attribute.String("user.tier", u.Tier))
	}
	return WithAttributes(ctx, kvs...)
}

// WithRequestID records the request ID (request_id) on the span in ctx and on
// every child span.
func WithRequestID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return WithAttributes(ctx, attribute.String("request_id", id))
}

// WithAttributes records kvs on the span in ctx and returns a context whose
// child spans, started through a pipeline built by Setup, carry them too. It
// is how request, user, agent and monitor context reach every span of a
// request without each call site repeating them.
func WithAttributes(ctx context.Context, kvs ...attribute.KeyValue) context.Context {
	if len(kvs) == 0 {
		return ctx
	}
	trace.SpanFromContext(ctx).SetAttributes(kvs...)
	return processors.ContextWithAttributes(ctx, kvs...)
}
