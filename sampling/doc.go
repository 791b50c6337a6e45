// Package sampling decides which traces leave the process, and carries those
// decisions between services.
//
// It has four parts, each usable on its own:
//
//   - [EnvironmentRate]: the product's default head sampling rate per
//     deployment environment (development 1.0, staging 0.3, production 0.1).
//   - [Sampler]: an sdktrace.Sampler that makes a consistent head decision
//     from the trace ID and a rate (the same bits as sdktrace.TraceIDRatioBased,
//     so every service of a trace that uses the same rate agrees), with
//     per-span-name and per-route [Rule]s, and parent-based decisions. With
//     tail keep on it never drops a span: a trace that loses the head decision
//     is recorded (RecordOnly) so that its errors can still be kept.
//   - [Keeper]: the tail keep policy and its bounded buffer. It holds the
//     unsampled spans of each local trace until the local trace is decided: it
//     is kept whole when a span fails or the local root is slow, and dropped
//     otherwise. Every bound has a counter (see [Stats]).
//   - [SentryPropagator]: a TextMapPropagator for Sentry's sentry-trace header
//     and sentry-* baggage, so that services instrumented with Sentry SDKs and
//     OpenTelemetry-only services continue each other's traces.
//
// Every span exported by the pipeline carries the attribute sampling.reason
// (head, error or latency) and sentry.sample_rate, the probability with which
// it was kept, so that backends can extrapolate counts.
package sampling
