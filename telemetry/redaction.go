package telemetry

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelsentry/otelsentry/processors"
	"github.com/otelsentry/otelsentry/processors/redact"
)

// Environment variables of the redaction engine.
const (
	envRedactionConfig  = "OTELSENTRY_REDACTION_CONFIG"
	envRedactionHashKey = redact.HashKeyEnv
)

// redactionConfig is the redaction engine's settings. The engine is built in
// resolve so that a bad rule file fails Setup before anything is installed.
type redactionConfig struct {
	cfg  *redact.Config // from WithRedaction; wins over the rule file
	file string         // from WithRedactionRulesFile; wins over the env

	engine *redact.Engine
}

// WithRedaction sets the redaction engine's configuration (rules to disable,
// allowlist additions, custom rules, modes), replacing any rule file named by
// OTELSENTRY_REDACTION_CONFIG. Every built-in rule stays on unless disabled
// here by name.
func WithRedaction(cfg redact.Config) Option {
	return func(c *config) { c.redaction.cfg = &cfg }
}

// WithRedactionRulesFile loads the engine's configuration from a YAML rule
// file (the format is documented in package redact), overriding
// OTELSENTRY_REDACTION_CONFIG.
func WithRedactionRulesFile(path string) Option {
	return func(c *config) { c.redaction.file = path }
}

func (r *redactionConfig) resolve(c *config) error {
	var cfg redact.Config
	switch {
	case r.cfg != nil:
		cfg = *r.cfg
	default:
		name, path := "WithRedactionRulesFile", r.file
		if path == "" {
			name, path = envRedactionConfig, strings.TrimSpace(c.getenv(envRedactionConfig))
		}
		if path != "" {
			loaded, err := redact.LoadConfigFile(path)
			if err != nil {
				return fmt.Errorf("telemetry: %s: %w", name, err)
			}
			cfg = loaded
		}
	}
	if len(cfg.HashKey) == 0 {
		if k := c.getenv(envRedactionHashKey); k != "" {
			cfg.HashKey = []byte(k)
		}
	}
	e, err := redact.New(cfg)
	if err != nil {
		return fmt.Errorf("telemetry: building the redaction engine: %w", err)
	}
	r.engine = e
	return nil
}

// link is the redact stage, used when spans fan out to several exporters;
// with one, Setup wraps the exporter in processors.RedactExports instead.
// Either way every span that reaches an exporter is redacted, once.
func (r *redactionConfig) link(*config) processors.Link {
	return processors.Redact(r.engine)
}

// redactStatic scrubs attributes fixed at Setup — the resource, the static
// span attributes — once: they are exported with every batch or span.
func (r *redactionConfig) redactStatic(kvs []attribute.KeyValue) []attribute.KeyValue {
	out := kvs
	for i, kv := range kvs {
		nv, changed := processors.RedactValue(r.engine, kv)
		if !changed {
			continue
		}
		if &out[0] == &kvs[0] {
			out = append([]attribute.KeyValue(nil), kvs...)
		}
		out[i] = nv
	}
	return out
}
