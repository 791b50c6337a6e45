package telemetry

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/getsentry/sentry-go"
	sentryotel "github.com/getsentry/sentry-go/otel"
)

// sentryConfig holds the Sentry client settings that have no environment
// variable of their own.
type sentryConfig struct {
	transport sentry.Transport
}

// WithSentryTransport replaces the Sentry client's HTTP transport, for tests
// and for users with their own delivery (the default is sentry-go's
// asynchronous HTTP transport).
func WithSentryTransport(t sentry.Transport) Option {
	return func(c *config) { c.sentryOpts.transport = t }
}

// validateDSN parses the DSN the way sentry-go will. The error names
// SENTRY_DSN and shows the value with its keys scrubbed: a DSN's public key is
// a credential and never appears in logs or errors.
func validateDSN(dsn string) error {
	_, err := sentry.NewDsn(dsn)
	if err == nil {
		return nil
	}
	problem := "not a valid Sentry DSN (want https://<key>@<host>/<project-id>)"
	var perr *sentry.DsnParseError
	// A DsnParseError for an unparsable URL embeds the URL itself, key
	// included, so only the fixed-text reasons are passed on.
	if errors.As(err, &perr) && !strings.Contains(perr.Message, "invalid url") {
		problem = perr.Message + ": " + problem
	}
	return &configError{envSentryDSN, scrubDSN(dsn), problem}
}

// scrubDSN hides the user-info part (public and secret key) of a DSN-like
// string, even when the string is not a valid URL.
func scrubDSN(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at >= 0 {
		scheme := ""
		if i := strings.Index(dsn, "://"); i >= 0 && i < at {
			scheme = dsn[:i+3]
		}
		return scheme + "[REDACTED]" + dsn[at:]
	}
	return dsn
}

// dsnHost is what the start-up line shows of the DSN: its host, never a key.
func dsnHost(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return u.Host
}

// newSentryClient builds the sentry-go client the error bridge sends with,
// over the spooling transport unless WithSentryTransport gave one
// (client.Transport is then a *spoolingTransport). Sentry's own tracing
// stays off: trace sampling and export are the pipeline's, and a second
// tracer would create duplicate transactions.
func (c *config) newSentryClient(beforeSend func(*sentry.Event, *sentry.EventHint) *sentry.Event) (*sentry.Client, error) {
	transport := c.sentryOpts.transport
	var spooler *spoolingTransport
	if transport == nil {
		var err error
		if spooler, err = newSpoolingTransport(transportConfig{logger: c.logger, spool: c.spool}); err != nil {
			return nil, err
		}
		transport = spooler
	}
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:         c.dsn,
		Debug:       *c.debug,
		Environment: c.environment,
		Release:     c.release,
		SampleRate:  1.0,
		Transport:   transport,
		BeforeSend:  beforeSend,
		Integrations: func(in []sentry.Integration) []sentry.Integration {
			return append(in, sentryotel.NewOtelIntegration())
		},
	})
	if err != nil {
		if spooler != nil {
			spooler.Close()
		}
		// sentry-go's errors can embed the DSN; validateDSN already gave the
		// user a scrubbed message for every malformed DSN we know of.
		return nil, fmt.Errorf("telemetry: creating the Sentry client for %s: %w", dsnHost(c.dsn), errors.New(scrubDSN(err.Error())))
	}
	return client, nil
}

// flushSentry waits for the client's queue to drain until deadline.
func flushSentry(client *sentry.Client, deadline time.Time) error {
	timeout := time.Until(deadline)
	if timeout <= 0 {
		timeout = time.Millisecond
	}
	if !client.Flush(timeout) {
		return errors.New("telemetry: Sentry client did not deliver every event before the deadline")
	}
	return nil
}
