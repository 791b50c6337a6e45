// Package processors holds the span processors of the otelsentry pipeline and
// the chain that runs them in order.
//
// The OpenTelemetry SDK calls every registered SpanProcessor with the same
// span, so sibling processors cannot change what another one sees. The
// pipeline therefore registers ONE processor, a chain, whose links each hand
// spans to the next:
//
//	enrich → errors (tap) → crons (tap) → keep → redact → fan-out to one batcher per exporter
//
// The redact stage can also run at the other end, on the exporter's
// goroutine ([RedactExports]): telemetry.Setup does that when there is a
// single exporter, so that the goroutines that end spans do not wait for
// it.
//
// A link is an sdktrace.SpanProcessor built around the link after it (see
// [Link]). On OnEnd it passes zero or more spans on — a held span later, a
// dropped one never, a redacted one as a view that embeds the original. On
// Shutdown it first flushes whatever it holds into the next link, then shuts
// that link down, so one Shutdown at the head drains the whole chain in order.
package processors
