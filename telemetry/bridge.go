package telemetry

import (
	"fmt"
	"math/rand/v2"

	"github.com/getsentry/sentry-go"

	"github.com/otelsentry/otelsentry/processors"
)

// envSentrySampleRate is Sentry's own name for the error sample rate.
const envSentrySampleRate = "SENTRY_SAMPLE_RATE"

// FingerprintRule decides how errors are grouped into Sentry issues; see
// [processors.FingerprintRule] for the template syntax and
// [processors.DefaultFingerprintRules] for the defaults (agent timeouts,
// agent, monitor and API errors).
type FingerprintRule = processors.FingerprintRule

// errorsConfig is the Sentry error bridge's settings: the errors stage of
// the chain and the Sentry client's BeforeSend hook.
type errorsConfig struct {
	sampleRate *float64
	rules      []FingerprintRule
	rulesSet   bool

	scrubber processors.Scrubber
	stage    *processors.Errors // built by link; nil without a DSN
}

// WithErrorSampleRate sets the fraction of errors sent to Sentry, in [0, 1]
// (default: SENTRY_SAMPLE_RATE, then 1 — every error). It is independent of
// trace sampling: errors of unsampled traces are reported too. The errors
// stage decides per trace, on the trace ID, so a trace's errors go or stay
// together; events captured any other way are sampled in BeforeSend.
func WithErrorSampleRate(rate float64) Option {
	return func(c *config) { c.errorsBridge.sampleRate = &rate }
}

// WithFingerprintRules replaces the rules that group errors into Sentry
// issues. The first rule that applies to an error sets its fingerprint;
// errors no rule applies to keep Sentry's default grouping, so
// WithFingerprintRules() with no rules leaves all grouping to Sentry. To
// extend the defaults, start from processors.DefaultFingerprintRules().
func WithFingerprintRules(rules ...FingerprintRule) Option {
	return func(c *config) {
		c.errorsBridge.rules = append([]FingerprintRule{}, rules...)
		c.errorsBridge.rulesSet = true
	}
}

// resolve runs after the redaction engine is built: the bridge scrubs with
// the same engine as the spans.
func (e *errorsConfig) resolve(c *config) error {
	switch {
	case e.sampleRate != nil:
		if r := *e.sampleRate; !(r >= 0 && r <= 1) {
			return &configError{"WithErrorSampleRate", formatRate(r), "sample rate must be between 0 and 1"}
		}
	case c.getenv(envSentrySampleRate) != "":
		r, err := parseRate(envSentrySampleRate, c.getenv(envSentrySampleRate))
		if err != nil {
			return err
		}
		e.sampleRate = &r
	default:
		one := 1.0
		e.sampleRate = &one
	}
	if e.rulesSet {
		cfg := processors.DefaultErrorsConfig()
		cfg.FingerprintRules = e.rules
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("telemetry: WithFingerprintRules: %w", err)
		}
	}
	// config.resolve builds the redaction engine first, so events are
	// scrubbed with exactly the rules the spans are.
	e.scrubber = c.redaction.engine
	return nil
}

// beforeSend is the Sentry client's BeforeSend hook. Every event goes
// through it — the bridge's, and those captured any other way (a library
// calling sentry-go, a panic captured on the hub) — and leaves scrubbed by
// the redaction engine. Events not built by the bridge are sampled here at
// the error sample rate (the client's own SampleRate stays 1).
func (e *errorsConfig) beforeSend(*config) func(*sentry.Event, *sentry.EventHint) *sentry.Event {
	scrub, rate := e.scrubber, *e.sampleRate
	return func(ev *sentry.Event, hint *sentry.EventHint) *sentry.Event {
		if ev == nil {
			return nil
		}
		if rate < 1 && !processors.IsBridgeEvent(hint) && rand.Float64() >= rate {
			return nil
		}
		return processors.ScrubEvent(scrub, ev)
	}
}

// link is the errors stage, nil without a Sentry client. The stage's worker
// goroutine is owned by the chain: TracerProvider.Shutdown stops it after it
// has handed every held error to the client.
func (e *errorsConfig) link(c *config, client *sentry.Client) processors.Link {
	if client == nil {
		return nil
	}
	cfg := processors.DefaultErrorsConfig()
	cfg.Environment, cfg.Release = c.environment, c.release
	cfg.SampleRate = *e.sampleRate
	if _, ours := client.Transport.(*spoolingTransport); ours {
		// Our transport queues, spools or counts every event itself; the
		// stage must not wait on it (see ErrorsConfig.FlushEvery).
		cfg.FlushEvery = 0
	}
	if e.rulesSet {
		cfg.FingerprintRules = e.rules
	}
	stage, err := processors.NewErrors(client, e.scrubber, cfg)
	if err != nil {
		// resolve validated everything NewErrors checks; reaching this is
		// a bug, and reporting it beats a silent lack of errors in Sentry.
		c.logger.Error("Sentry error bridge disabled", "error", err)
		return nil
	}
	e.stage = stage
	return stage.Link()
}
