package examples_test

import (
	"context"
	"fmt"
	"log"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/otelsentry/otelsentry/processors"
	"github.com/otelsentry/otelsentry/processors/redact"
	"github.com/otelsentry/otelsentry/sampling"
	"github.com/otelsentry/otelsentry/telemetry"
)

// The format of OTELSENTRY_SAMPLING_CONFIG: first match wins.
func Example_samplingRules() {
	rules, err := sampling.ParseRules([]byte(`
rules:
  - route: GET /healthz      # http.route, optionally with the method
    rate: 0
  - name: POST /api/checkout # span name
    rate: 1.0
  - route: /api/reports/*    # a trailing * matches any suffix
    rate: 0.5
`), "sampling.yaml")
	if err != nil {
		log.Fatal(err) // names the file, the line and the rule
	}
	for _, r := range rules {
		fmt.Println(r)
	}
	// Output:
	// route "GET /healthz" → 0
	// name "POST /api/checkout" → 1
	// route "/api/reports/*" → 0.5
}

// What the redaction engine does to text, with the defaults and with an
// e-mail address hashed instead (equal addresses stay correlatable).
func Example_redaction() {
	line := "login failed for jane.doe@example.com from 203.0.113.9, card 4111 1111 1111 1111"
	out, _ := redact.Default().String(line)
	fmt.Println(out)

	engine, err := redact.New(redact.Config{
		Modes:   map[string]redact.Mode{"email": redact.ModeHash, "credit_card": redact.ModeMask},
		HashKey: []byte("from OTELSENTRY_REDACTION_HASH_KEY"),
	})
	if err != nil {
		log.Fatal(err)
	}
	out, _ = engine.String(line)
	fmt.Println(out)
	// Output:
	// login failed for [EMAIL_REDACTED] from [IP_REDACTED], card [CREDIT_CARD_REDACTED]
	// login failed for [EMAIL:c7719646] from [IP_REDACTED], card [CREDIT_CARD:…1111]
}

// Grouping errors into issues: the defaults, plus one rule of your own.
func Example_fingerprintRules() {
	rules := append(processors.DefaultFingerprintRules(), processors.FingerprintRule{
		Name:        "payment declines",
		Match:       map[string]string{"exception.type": "*payments.DeclineError"},
		Fingerprint: []string{"payment-declined", "{payment.provider}"},
	})
	p, err := telemetry.Setup(context.Background(), telemetry.WithFingerprintRules(rules...))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Shutdown(context.Background())
}

// An exporter of your own, behind the same chain: it sees only redacted
// spans, sampled like every other exporter — here a second OTLP backend
// beside the one OTEL_EXPORTER_OTLP_* configures.
func Example_customExporter() {
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint("audit-collector:4318"), otlptracehttp.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	p, err := telemetry.Setup(ctx, telemetry.WithSpanExporter(exp))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Shutdown(context.Background())
}
