package telemetry

import (
	"fmt"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/processors"
	"github.com/otelsentry/otelsentry/sampling"
)

// Environment variables of sampling.
const (
	envTracesSampleRate = "SENTRY_TRACES_SAMPLE_RATE"
	envOTelSampler      = "OTEL_TRACES_SAMPLER"
	envOTelSamplerArg   = "OTEL_TRACES_SAMPLER_ARG"
	envSamplingConfig   = "OTELSENTRY_SAMPLING_CONFIG"
	envTailKeep         = "OTELSENTRY_TAIL_KEEP"
	envLightRecording   = "OTELSENTRY_LIGHT_RECORDING"
)

// samplingConfig is the head sampler and the keep stage's settings.
type samplingConfig struct {
	rate        *float64
	parentBased *bool
	tailKeep    *bool
	light       *bool // record spans with processors.LightProvider
	latency     *time.Duration
	rules       []sampling.Rule
	rulesFile   string // WithSamplingRulesFile

	built  *sampling.Sampler
	keeper *sampling.Keeper // nil without tail keep
}

// WithSampleRate sets the head sampling rate in [0, 1], overriding
// SENTRY_TRACES_SAMPLE_RATE, OTEL_TRACES_SAMPLER(_ARG) and the environment's
// default (development 1.0, staging 0.3, production 0.1, test 1.0; an unknown
// environment gets 0.1 and a warning).
func WithSampleRate(rate float64) Option {
	return func(c *config) { c.sampling.rate = &rate }
}

// WithSamplingRules gives spans matched by a rule the rule's head rate in
// place of the environment's; first match wins. They are evaluated before
// the rules of a rules file (WithSamplingRulesFile, OTELSENTRY_SAMPLING_CONFIG).
// No rule is on by default. See sampling.Rule.
func WithSamplingRules(rules ...sampling.Rule) Option {
	return func(c *config) { c.sampling.rules = append(c.sampling.rules, rules...) }
}

// WithSamplingRulesFile reads sampling rules from a YAML file (see
// sampling.ParseRules), in place of OTELSENTRY_SAMPLING_CONFIG. A file that
// cannot be read or parsed is a Setup error naming the file, line and rule.
func WithSamplingRulesFile(path string) Option {
	return func(c *config) { c.sampling.rulesFile = path }
}

// WithTailKeep turns tail keep on or off (default on; OTELSENTRY_TAIL_KEEP
// when no option says). With it, traces that lose the head decision are
// still recorded, and a local trace is exported whole when a span fails or
// its root is slow; without it they are dropped at start, as with the SDK's
// samplers — cheaper (docs/PERFORMANCE.md has the cost of recording every
// span), but an error in an unsampled trace is then neither exported nor
// sent to Sentry.
func WithTailKeep(on bool) Option { return func(c *config) { c.sampling.tailKeep = &on } }

// WithLightRecording sets how spans are recorded (default on;
// OTELSENTRY_LIGHT_RECORDING when no option says): on, as light spans of
// the pipeline's own (processors.LightProvider) — decided by the same
// sampler, given to the same chain, normalised under the SDK's span limits
// only when they are read; off, by the SDK's TracerProvider. What is
// exported is the same either way; light spans cost less, and most of all
// those tail keep records only to drop (docs/PERFORMANCE.md). With it on,
// the provider Setup returns is not an *sdktrace.TracerProvider.
func WithLightRecording(on bool) Option { return func(c *config) { c.sampling.light = &on } }

// WithTailLatency sets how long a local root must last for its trace to be
// kept by tail keep (default 2 s). It must be positive.
func WithTailLatency(d time.Duration) Option { return func(c *config) { c.sampling.latency = &d } }

// WithParentBased sets whether a remote parent's sampling decision is followed
// (default true; OTEL_TRACES_SAMPLER's traceidratio, always_on and always_off
// turn it off, its parentbased_* keep it on).
func WithParentBased(on bool) Option { return func(c *config) { c.sampling.parentBased = &on } }

func (s *samplingConfig) resolve(c *config) error {
	// Every input is validated, even one a higher-precedence input overrides:
	// a malformed value is a mistake worth reporting wherever it is.
	sentryRate, hasSentryRate, err := lookupRate(c, envTracesSampleRate)
	if err != nil {
		return err
	}
	otelRate, otelParentBased, hasOTel, err := otelSampler(c.getenv)
	if err != nil {
		return err
	}
	parentBased := true
	switch {
	case s.rate != nil:
		if r := *s.rate; r < 0 || r > 1 || r != r {
			return &configError{"WithSampleRate", formatRate(r), "sample rate must be between 0 and 1"}
		}
	case hasSentryRate:
		s.rate = &sentryRate
	case hasOTel:
		s.rate, parentBased = &otelRate, otelParentBased
	default:
		r, known := sampling.EnvironmentRate(c.environment)
		if !known {
			c.logger.Warn("Unknown environment: sampling at the production rate",
				"environment", c.environment, "traces_sample_rate", r,
				"known", strings.Join([]string{sampling.EnvDevelopment, sampling.EnvStaging, sampling.EnvProduction, sampling.EnvTest}, ","))
		}
		s.rate = &r
	}
	if s.parentBased == nil {
		s.parentBased = &parentBased
	}
	if err := resolveBool(c, envTailKeep, &s.tailKeep, true); err != nil {
		return err
	}
	if err := resolveBool(c, envLightRecording, &s.light, true); err != nil {
		return err
	}
	latency := sampling.DefaultLatency
	if s.latency != nil {
		if *s.latency <= 0 {
			return &configError{"WithTailLatency", s.latency.String(), "must be positive"}
		}
		latency = *s.latency
	}

	rules := append([]sampling.Rule(nil), s.rules...)
	file, source := s.rulesFile, "WithSamplingRulesFile"
	if file == "" {
		file, source = strings.TrimSpace(c.getenv(envSamplingConfig)), envSamplingConfig
	}
	if file != "" {
		fileRules, err := sampling.LoadRules(file)
		if err != nil {
			return fmt.Errorf("telemetry: %s: %w", source, err)
		}
		rules = append(rules, fileRules...)
	}
	s.rules = rules

	s.built, err = sampling.NewSampler(*s.rate,
		sampling.WithRules(rules...), sampling.WithParentBased(*s.parentBased), sampling.WithTailKeep(*s.tailKeep),
		sampling.WithSpanAttributes(false)) // added at export: see Setup
	if err != nil {
		return fmt.Errorf("telemetry: configuring sampling: %w", err)
	}
	if *s.tailKeep {
		s.keeper = sampling.NewKeeper(sampling.KeepConfig{Latency: latency})
	}
	return nil
}

// lookupRate reads a rate variable; set is false when it is empty.
func lookupRate(c *config, name string) (rate float64, set bool, err error) {
	v := c.getenv(name)
	if strings.TrimSpace(v) == "" {
		return 0, false, nil
	}
	rate, err = parseRate(name, v)
	return rate, err == nil, err
}

// otelSampler reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG as the
// OpenTelemetry specification names them. A ratio sampler without an
// argument samples everything, as the specification says.
func otelSampler(getenv func(string) string) (rate float64, parentBased, set bool, err error) {
	name := strings.ToLower(strings.TrimSpace(getenv(envOTelSampler)))
	if name == "" {
		return 0, false, false, nil
	}
	ratio := func() (float64, error) {
		arg := getenv(envOTelSamplerArg)
		if strings.TrimSpace(arg) == "" {
			return 1, nil
		}
		return parseRate(envOTelSamplerArg, arg)
	}
	switch name {
	case "always_on":
		return 1, false, true, nil
	case "always_off":
		return 0, false, true, nil
	case "traceidratio":
		rate, err = ratio()
		return rate, false, err == nil, err
	case "parentbased_always_on":
		return 1, true, true, nil
	case "parentbased_always_off":
		return 0, true, true, nil
	case "parentbased_traceidratio":
		rate, err = ratio()
		return rate, true, err == nil, err
	}
	return 0, false, false, &configError{envOTelSampler, getenv(envOTelSampler),
		"unsupported sampler (want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio)"}
}

// sampler is the TracerProvider's sampler.
func (s *samplingConfig) sampler() sdktrace.Sampler { return s.built }

// keepLink is the tail keep stage, nil when tail keep is off.
func (s *samplingConfig) keepLink(*config) processors.Link {
	if s.keeper == nil {
		return nil
	}
	return processors.Keep(s.keeper)
}

// describe is the sampling part of the start-up log line: the default head
// rate, as a number, since a log query may compare it.
func (s *samplingConfig) describe() string { return formatRate(*s.rate) }
