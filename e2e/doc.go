// Package e2e holds the end-to-end tests of the local stack and the
// Collector tier. Everything here runs real processes on 127.0.0.1.
//
//   - compose_test.go (always built): parses docker-compose.yml, .env.example
//     and the Collector configs and checks that ports, service names and
//     environment variables agree — Docker itself is not needed.
//   - the tests behind the `e2e` build tag run the service binary and
//     otelsentry's Collector distribution (scripts/build-collector) as
//     processes: app → Collector → an OTLP sink in the test, the Collector's
//     redaction and tail sampling, a SIGTERM to the app, the scale-out
//     topology (one load balancer, two gateways) and the persistent queue.
//
// Run them with:
//
//	go test -race -count=1 -tags e2e ./e2e/...
//
// OTELCOL_BIN names a Collector binary to use instead of building one.
package e2e
