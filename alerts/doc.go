// Package alerts holds the team's alert rules as code.
//
// alerts.yaml (repository root) names each rule once — what to watch, the
// threshold, and who is told (`notify`, a key of its `targets`). Render turns
// the rules into the JSON bodies of Sentry's REST API:
//
//   - kind issue  → an issue alert rule (event-frequency condition, tag filters)
//   - kind metric → a metric alert rule (count() of errors, p95 of transactions)
//   - kind cron   → a Crons monitor (its missed check-ins are what "the
//     monitor system is down" means in Sentry) and the issue alert rule that
//     routes that monitor's issues to the rule's target
//
// A Client plans and applies them through the REST API idempotently: existing
// objects are matched by name (monitors by slug), compared on the fields this
// package manages, updated only when they differ and created when missing.
//
// The same rules for the OpenTelemetry path live in collector/alerts.rules.yaml
// as Prometheus alerting rules over spanmetrics; each alerts.yaml rule names
// its Prometheus twin in `prometheus`, and a test keeps the two files in step.
package alerts
