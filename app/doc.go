// Package app is the otelsentry reference service: a consulting-intelligence
// API whose analyses are run by agents and whose intelligence monitors raise
// alerts. It is instrumented only with the OpenTelemetry API, otelhttp and the
// telemetry package's context helpers — never with sentry-go — and is the
// target of the project's end-to-end and load tests.
//
// Routes:
//
//	POST /api/analyze                 run FinancialAgent, MarketAgent, ResearchAgent concurrently
//	POST /api/monitors                create a monitor (company, industry, interval)
//	GET  /api/monitors                list monitors, newest first (?limit=)
//	GET  /api/monitors/{id}           one monitor with its recent alerts
//	POST /api/monitors/{id}/check     run one check now
//	POST /api/monitors/{id}/resume    reactivate a paused monitor
//	POST /api/test-error              raise a handled error (404 in production)
//	GET  /healthz, GET /readyz        liveness, readiness
//
// The span tree of an analysis:
//
//	POST /api/analyze                    server (otelhttp), http.route, request_id, user.*, company, industry
//	├── agent.execute                    agent.name, agent.timeout (ms), agent.data_sources, execution_time (ms)
//	│   ├── GET /v8/finance/chart/{symbol}   client, service.peer.name=yfinance, server.address, http.response.status_code
//	│   └── GET /api/v1/stock/metric         client, service.peer.name=finnhub
//	├── agent.execute (MarketAgent) …
//	└── agent.execute (ResearchAgent) …
//
// and of a monitor check (a root span when the scheduler runs it, a child of
// the server span for POST /api/monitors/{id}/check):
//
//	monitor.check                        monitor.id, company, industry, monitor.error_count, changes_detected, alerts_generated
//	├── GET /api/v1/stock/candle         client, service.peer.name=finnhub
//	├── monitor.detect_anomalies         z-score over a window
//	└── alert.deliver                    client, one per alert
//
// An error is recorded as an exception event once, on the span where it
// happens; the spans it passes through get status Error and error.type.
//
// Faults (X-Fault: error|timeout|panic|slow, or Config.FaultRate) exist for
// demos and tests and are off in production.
package app
