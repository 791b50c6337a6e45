package telemetry

import (
	"github.com/getsentry/sentry-go"

	"github.com/otelsentry/otelsentry/processors"
)

// errorsConfig is the Sentry error bridge's settings.
type errorsConfig struct{}

func (e *errorsConfig) resolve(*config) error { return nil }

// beforeSend is the Sentry client's BeforeSend hook.
func (e *errorsConfig) beforeSend(*config) func(*sentry.Event, *sentry.EventHint) *sentry.Event {
	return nil
}

// link is the errors stage, nil until the bridge lands or without a DSN.
func (e *errorsConfig) link(*config, *sentry.Client) processors.Link { return nil }
