package telemetry

import "github.com/otelsentry/otelsentry/processors"

// redactionConfig is the redaction engine's settings.
type redactionConfig struct{}

func (r *redactionConfig) resolve(*config) error { return nil }

// link is the redact stage, nil until redaction lands.
func (r *redactionConfig) link(*config) processors.Link { return nil }
