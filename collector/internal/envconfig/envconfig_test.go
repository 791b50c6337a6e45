package envconfig

import (
	"strings"
	"testing"
)

type mapEnv map[string]string

func (m mapEnv) Environ() []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}
func (m mapEnv) Getenv(k string) string   { return m[k] }
func (m mapEnv) Setenv(k, v string) error { m[k] = v; return nil }
func (m mapEnv) Unsetenv(k string) error  { delete(m, k); return nil }

func run(t *testing.T, env map[string]string) (map[string]string, error) {
	t.Helper()
	out := mapEnv{}
	for k, v := range env {
		out[k] = v
	}
	err := Derive(out)
	return out, err
}

func TestDeriveFromDSN(t *testing.T) {
	cases := []struct{ dsn, endpoint string }{
		{"https://abc123@o42.ingest.sentry.io/4507", "https://o42.ingest.sentry.io/api/4507/integration/otlp/v1/traces"},
		{"http://k@127.0.0.1:9000/7", "http://127.0.0.1:9000/api/7/integration/otlp/v1/traces"},
		{"https://k@sentry.example.com/prefix/12/", "https://sentry.example.com/prefix/api/12/integration/otlp/v1/traces"},
	}
	for _, c := range cases {
		env, err := run(t, map[string]string{envSentryDSN: c.dsn})
		if err != nil {
			t.Fatalf("%s: %v", c.dsn, err)
		}
		if env[envSentryEndpoint] != c.endpoint {
			t.Errorf("%s: endpoint %q, want %q", c.dsn, env[envSentryEndpoint], c.endpoint)
		}
		if want := strings.SplitN(strings.SplitN(c.dsn, "://", 2)[1], "@", 2)[0]; env[envSentryPublicKey] != want {
			t.Errorf("%s: key %q, want %q", c.dsn, env[envSentryPublicKey], want)
		}
		if got := env[envExporters]; got != "[otlp_grpc/jaeger, debug, otlp_http/sentry]" {
			t.Errorf("%s: default exporters %q, want Jaeger, debug and Sentry", c.dsn, got)
		}
	}
}

func TestExplicitValuesWin(t *testing.T) {
	env, err := run(t, map[string]string{
		envSentryDSN:       "https://dsnkey@o1.ingest.sentry.io/1",
		envSentryEndpoint:  "https://proxy.example/traces",
		envSentryPublicKey: "other",
		envExporters:       "otlp_http/sentry",
	})
	if err != nil {
		t.Fatal(err)
	}
	if env[envSentryEndpoint] != "https://proxy.example/traces" || env[envSentryPublicKey] != "other" {
		t.Errorf("explicit endpoint/key overwritten: %q %q", env[envSentryEndpoint], env[envSentryPublicKey])
	}
	if env[envExporters] != "[otlp_http/sentry]" {
		t.Errorf("exporters %q, want [otlp_http/sentry]", env[envExporters])
	}
}

func TestNoDSN(t *testing.T) {
	env, err := run(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if env[envExporters] != "[otlp_grpc/jaeger, debug]" {
		t.Errorf("exporters %q, want Jaeger and debug only", env[envExporters])
	}
	if _, set := env[envSentryEndpoint]; set {
		t.Errorf("endpoint set without a DSN: %q", env[envSentryEndpoint])
	}
	for _, list := range []string{"[otlp_grpc/jaeger, debug]", "otlp_grpc/jaeger debug", `["otlp_grpc/jaeger","debug"]`} {
		env, err := run(t, map[string]string{envExporters: list})
		if err != nil || env[envExporters] != "[otlp_grpc/jaeger, debug]" {
			t.Errorf("%q: got %q, %v", list, env[envExporters], err)
		}
	}
}

func TestRefusals(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"sentry selected without DSN": {envExporters: "otlp_http/sentry,debug"},
		"not a URL":                   {envSentryDSN: "not a dsn"},
		"no key":                      {envSentryDSN: "https://o1.ingest.sentry.io/1"},
		"no project":                  {envSentryDSN: "https://k@o1.ingest.sentry.io/"},
		"empty list":                  {envExporters: "[ ]"},
	} {
		_, err := run(t, env)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "k@") {
			t.Errorf("%s: error echoes the DSN: %v", name, err)
		}
	}
}

func TestEmptyMeansDefault(t *testing.T) {
	env, err := run(t, map[string]string{
		envSentryDSN: "", envSentryEndpoint: "", envSentryPublicKey: " ",
		"COLLECTOR_TAIL_SAMPLING_PERCENTAGE": "", "JAEGER_OTLP_GRPC_ENDPOINT": "",
		"COLLECTOR_LOG_LEVEL": "debug", "UNRELATED": "",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{envSentryDSN, envSentryEndpoint, envSentryPublicKey, "COLLECTOR_TAIL_SAMPLING_PERCENTAGE", "JAEGER_OTLP_GRPC_ENDPOINT"} {
		if _, set := env[k]; set {
			t.Errorf("%s is still set (to %q): the config's default would not apply", k, env[k])
		}
	}
	if env["COLLECTOR_LOG_LEVEL"] != "debug" {
		t.Errorf("a non-empty variable was touched")
	}
	if _, set := env["UNRELATED"]; !set {
		t.Errorf("a variable the configs do not read was unset")
	}
	if env[envExporters] != "[otlp_grpc/jaeger, debug]" {
		t.Errorf("exporters %q", env[envExporters])
	}
}
