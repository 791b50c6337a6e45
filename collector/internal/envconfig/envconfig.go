// Package envconfig derives the Collector's environment from the variables the app
// already uses, before the configuration's ${env:…} references are resolved.
package envconfig

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Env is the process environment; OS is the real one.
type Env interface {
	Environ() []string
	Getenv(string) string
	Setenv(string, string) error
	Unsetenv(string) error
}

// OS is the process's own environment.
var OS Env = osEnv{}

type osEnv struct{}

func (osEnv) Environ() []string        { return os.Environ() }
func (osEnv) Getenv(k string) string   { return os.Getenv(k) }
func (osEnv) Setenv(k, v string) error { return os.Setenv(k, v) }
func (osEnv) Unsetenv(k string) error  { return os.Unsetenv(k) }

// managedPrefixes name the variables the configs read. An empty one is
// unset before the configs are resolved: ${env:X:-default} only falls back
// when X is unset, while .env files and compose pass "X=" for "default".
var managedPrefixes = []string{"COLLECTOR_", "SENTRY_", "JAEGER_"}

// Environment variables the distribution derives before the configuration is
// resolved, so that one variable, SENTRY_DSN, configures the app and the
// Collector alike, and switching backends stays a change of .env.
const (
	envSentryDSN       = "SENTRY_DSN"
	envSentryEndpoint  = "SENTRY_OTLP_TRACES_ENDPOINT"
	envSentryPublicKey = "SENTRY_PUBLIC_KEY"
	envExporters       = "COLLECTOR_TRACES_EXPORTERS"

	sentryExporter = "otlp_http/sentry"
)

// Derive unsets empty managed variables, fills SENTRY_OTLP_TRACES_ENDPOINT and SENTRY_PUBLIC_KEY from
// SENTRY_DSN unless they are set, defaults COLLECTOR_TRACES_EXPORTERS (Jaeger
// and debug, plus Sentry when there is a DSN) and turns a comma-separated
// exporter list into the YAML list the config needs. It refuses an exporter
// list that names Sentry without a Sentry endpoint, rather than let the
// Collector retry a placeholder host forever.
func Derive(env Env) error {
	for _, kv := range env.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		for _, p := range managedPrefixes {
			if strings.HasPrefix(name, p) && strings.TrimSpace(value) == "" {
				if err := env.Unsetenv(name); err != nil {
					return err
				}
			}
		}
	}
	getenv, setenv := env.Getenv, env.Setenv
	endpoint, key := getenv(envSentryEndpoint), getenv(envSentryPublicKey)
	if dsn := strings.TrimSpace(getenv(envSentryDSN)); dsn != "" {
		e, k, err := sentryOTLP(dsn)
		if err != nil {
			return err
		}
		if endpoint == "" {
			endpoint = e
			if err := setenv(envSentryEndpoint, e); err != nil {
				return err
			}
		}
		if key == "" {
			key = k
			if err := setenv(envSentryPublicKey, k); err != nil {
				return err
			}
		}
	}

	exporters := strings.TrimSpace(getenv(envExporters))
	if exporters == "" {
		list := []string{"otlp_grpc/jaeger", "debug"}
		if endpoint != "" {
			list = append(list, sentryExporter)
		}
		exporters = strings.Join(list, ",")
	}
	names := splitList(exporters)
	if len(names) == 0 {
		return fmt.Errorf("%s=%q: names no exporter", envExporters, exporters)
	}
	for _, n := range names {
		if n == sentryExporter && (endpoint == "" || key == "") {
			return fmt.Errorf("%s names %s but neither %s nor %s and %s are set",
				envExporters, sentryExporter, envSentryDSN, envSentryEndpoint, envSentryPublicKey)
		}
	}
	return setenv(envExporters, "["+strings.Join(names, ", ")+"]")
}

// sentryOTLP turns a DSN (scheme://PUBLIC_KEY@HOST[:PORT]/[PATH/]PROJECT)
// into Sentry's OTLP traces endpoint and the public key for x-sentry-auth.
// Errors never echo the DSN: its key is a credential.
func sentryOTLP(dsn string) (endpoint, publicKey string, err error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", fmt.Errorf("%s: not a Sentry DSN (want https://KEY@HOST/PROJECT)", envSentryDSN)
	}
	if u.User == nil || u.User.Username() == "" {
		return "", "", fmt.Errorf("%s: the DSN has no public key (want https://KEY@HOST/PROJECT)", envSentryDSN)
	}
	path := strings.Trim(u.Path, "/")
	project := path
	prefix := ""
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		prefix, project = "/"+path[:i], path[i+1:]
	}
	if project == "" {
		return "", "", fmt.Errorf("%s: the DSN has no project ID (want https://KEY@HOST/PROJECT)", envSentryDSN)
	}
	return fmt.Sprintf("%s://%s%s/api/%s/integration/otlp/v1/traces", u.Scheme, u.Host, prefix, project),
		u.User.Username(), nil
}

// splitList accepts "a,b", "a b" and the YAML form "[a, b]".
func splitList(s string) []string {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		out = append(out, strings.Trim(f, `"'`))
	}
	return out
}
