package processors

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
)

type attrsKey struct{}

// ContextWithAttributes returns a copy of ctx that carries kvs in addition to
// the attributes ctx already carries; a later value for the same key wins.
// The enrich stage copies them onto every span started under the returned
// context. The telemetry package's WithUser, WithRequestID, … are built on it.
func ContextWithAttributes(ctx context.Context, kvs ...attribute.KeyValue) context.Context {
	if len(kvs) == 0 {
		return ctx
	}
	prev := AttributesFromContext(ctx)
	merged := make([]attribute.KeyValue, 0, len(prev)+len(kvs))
	// Keep the slice free of duplicate keys so OnStart sets each key once.
	for _, kv := range prev {
		if !hasKey(kvs, kv.Key) {
			merged = append(merged, kv)
		}
	}
	merged = append(merged, kvs...)
	return context.WithValue(ctx, attrsKey{}, merged)
}

// AttributesFromContext returns the attributes ctx carries for the enrich
// stage. The slice is shared: callers must not modify it.
func AttributesFromContext(ctx context.Context) []attribute.KeyValue {
	kvs, _ := ctx.Value(attrsKey{}).([]attribute.KeyValue)
	return kvs
}

func hasKey(kvs []attribute.KeyValue, k attribute.Key) bool {
	for _, kv := range kvs {
		if kv.Key == k {
			return true
		}
	}
	return false
}
