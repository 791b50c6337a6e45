package sampling

import "strings"

// The deployment environments that have a default rate. Names are matched
// without regard to case.
const (
	EnvDevelopment = "development"
	EnvStaging     = "staging"
	EnvProduction  = "production"
	EnvTest        = "test"
)

// EnvironmentRate returns the default head sampling rate of a deployment
// environment: development 1.0, staging 0.3, production 0.1, test 1.0.
//
// An environment it does not know gets the production rate, the cheapest,
// and known is false so that the caller can warn once: a typo in an
// environment name must not silently send every trace.
func EnvironmentRate(env string) (rate float64, known bool) {
	switch strings.ToLower(strings.TrimSpace(env)) {
	case EnvDevelopment, EnvTest:
		return 1.0, true
	case EnvStaging:
		return 0.3, true
	case EnvProduction:
		return 0.1, true
	}
	return 0.1, false
}
