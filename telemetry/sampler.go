package telemetry

import (
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/processors"
)

const envTracesSampleRate = "SENTRY_TRACES_SAMPLE_RATE"

// samplingConfig is the head sampler and the keep stage's settings.
type samplingConfig struct {
	rate *float64
}

// WithSampleRate sets the head sampling rate in [0, 1], overriding the
// environment's default (development 1.0, staging 0.3, production 0.1) and
// SENTRY_TRACES_SAMPLE_RATE.
func WithSampleRate(rate float64) Option {
	return func(c *config) { c.sampling.rate = &rate }
}

func (s *samplingConfig) resolve(c *config) error {
	if s.rate != nil {
		if *s.rate < 0 || *s.rate > 1 || *s.rate != *s.rate {
			return &configError{"WithSampleRate", formatRate(*s.rate), "sample rate must be between 0 and 1"}
		}
		return nil
	}
	if v := c.getenv(envTracesSampleRate); v != "" {
		r, err := parseRate(envTracesSampleRate, v)
		if err != nil {
			return err
		}
		s.rate = &r
		return nil
	}
	r := environmentRate(c.environment)
	s.rate = &r
	return nil
}

func environmentRate(env string) float64 {
	switch env {
	case "production":
		return 0.1
	case "staging":
		return 0.3
	}
	return 1.0
}

// sampler is the TracerProvider's sampler.
func (s *samplingConfig) sampler() sdktrace.Sampler {
	return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(*s.rate))
}

// keepLink is the tail keep stage, nil until sampling lands.
func (s *samplingConfig) keepLink(*config) processors.Link { return nil }

// describe is the sampling part of the start-up log line.
func (s *samplingConfig) describe() string { return formatRate(*s.rate) }
