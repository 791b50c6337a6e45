package telemetry

import (
	"fmt"

	"github.com/getsentry/sentry-go"

	"github.com/otelsentry/otelsentry/processors"
)

// CronsConfig configures Sentry Crons check-ins from job spans; see
// [processors.CronsConfig] and [processors.Crons]. Start from
// processors.DefaultCronsConfig().
type CronsConfig = processors.CronsConfig

// cronsConfig is the crons stage's settings. With a DSN, the stage is on
// with processors.DefaultCronsConfig() unless an option says otherwise.
type cronsConfig struct {
	cfg *CronsConfig // WithCrons; nil: the defaults
	off bool         // WithoutCrons

	stage *processors.Crons // built by link; nil without a DSN or when off
}

// WithCrons replaces the settings of the Sentry Crons bridge (default
// processors.DefaultCronsConfig(): local-root monitor.check spans check in
// to the monitor intelligence-monitor-scheduler, every minute). Check-ins
// are sent only when a Sentry DSN is set. An invalid configuration is a
// Setup error naming the field.
func WithCrons(cfg CronsConfig) Option {
	return func(c *config) {
		cfg.SpanNames = append([]string(nil), cfg.SpanNames...)
		c.crons.cfg, c.crons.off = &cfg, false
	}
}

// WithoutCrons turns the Sentry Crons bridge off: no span checks in.
func WithoutCrons() Option { return func(c *config) { c.crons.off = true } }

func (k *cronsConfig) resolve(*config) error {
	if k.off {
		return nil
	}
	if k.cfg == nil {
		d := processors.DefaultCronsConfig()
		k.cfg = &d
	}
	if err := k.cfg.Validate(); err != nil {
		return fmt.Errorf("telemetry: WithCrons: %w", err)
	}
	return nil
}

// link is the crons stage, nil without a Sentry client or when turned off.
// It belongs right after the errors stage, before keep: it must see every
// recorded span, sampled or not (a dead scheduler is no less dead in an
// unsampled trace), and keep may hold or drop them. Its worker goroutine is
// owned by the chain: TracerProvider.Shutdown stops it after it has handed
// every queued check-in to the client, and Pipeline.Shutdown then flushes
// the client.
func (k *cronsConfig) link(c *config, client *sentry.Client) processors.Link {
	if client == nil || k.off || k.cfg == nil {
		return nil
	}
	// Slugs read from span attributes are scrubbed with the spans' engine.
	stage, err := processors.NewCrons(client, c.redaction.engine, *k.cfg)
	if err != nil {
		// resolve validated the configuration; reaching this is a bug,
		// and saying so beats monitors that silently never check in.
		c.logger.Error("Sentry Crons bridge disabled", "error", err)
		return nil
	}
	k.stage = stage
	return stage.Link()
}
