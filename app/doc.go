// Package app is the otelsentry reference service: a consulting-intelligence
// API whose analyses are run by agents and whose intelligence monitors raise
// alerts. It is instrumented only with the OpenTelemetry API, otelhttp and the
// telemetry package's context helpers — never with sentry-go — and is the
// target of the project's end-to-end and load tests.
package app
