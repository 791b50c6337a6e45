package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// No Docker on CI machines: these tests read docker-compose.yml, .env.example,
// the Dockerfiles and the Collector configs as data and check that they
// agree with each other and with what the app and the Collector read.

func root(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadYAML(t *testing.T, rel string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(readFile(t, rel)), &m); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return m
}

// get walks a path of map keys; a missing key fails the test.
func get(t *testing.T, m any, path ...string) any {
	t.Helper()
	cur := m
	for i, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: not a map", strings.Join(path[:i], "."))
		}
		if cur, ok = mm[k]; !ok {
			t.Fatalf("missing %s", strings.Join(path[:i+1], "."))
		}
	}
	return cur
}

func getString(t *testing.T, m any, path ...string) string {
	t.Helper()
	v := get(t, m, path...)
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func getList(t *testing.T, m any, path ...string) []string {
	t.Helper()
	raw, ok := get(t, m, path...).([]any)
	if !ok {
		t.Fatalf("%s: not a list", strings.Join(path, "."))
	}
	var out []string
	for _, v := range raw {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

var (
	collectorRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)
	composeRef   = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}`)
)

// collectorVars maps every ${env:NAME:-default} a Collector config reads to
// its default ("" and false when it has none).
type ref struct {
	def    string
	hasDef bool
}

func refs(re *regexp.Regexp, text string) map[string]ref {
	out := map[string]ref{}
	for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
		name := text[m[2]:m[3]]
		r := ref{}
		if m[4] >= 0 {
			r = ref{text[m[4]:m[5]], true}
		}
		if prev, seen := out[name]; seen && prev.hasDef && !r.hasDef {
			continue
		}
		out[name] = r
	}
	return out
}

// expand resolves ${env:…} with env, then defaults, as the Collector does.
func expand(text string, env map[string]string) string {
	return collectorRef.ReplaceAllStringFunc(text, func(s string) string {
		m := collectorRef.FindStringSubmatch(s)
		if v, ok := env[m[1]]; ok && v != "" {
			return v
		}
		return m[2]
	})
}

func portOf(t *testing.T, hostport string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatalf("%q: %v", hostport, err)
	}
	return port
}

// service returns a compose service's environment, published ports
// (container port → host binding) and the raw service map.
type composeService struct {
	raw   map[string]any
	env   map[string]string
	ports map[string]string // container port → host ip:port expression
}

func composeServices(t *testing.T) map[string]composeService {
	t.Helper()
	c := loadYAML(t, "docker-compose.yml")
	out := map[string]composeService{}
	for name, raw := range get(t, c, "services").(map[string]any) {
		svc := composeService{raw: raw.(map[string]any), env: map[string]string{}, ports: map[string]string{}}
		if e, ok := svc.raw["environment"].(map[string]any); ok {
			for k, v := range e {
				svc.env[k] = fmt.Sprint(v)
			}
		} else if svc.raw["environment"] != nil {
			t.Fatalf("service %s: environment must be a map", name)
		}
		if ps, ok := svc.raw["ports"].([]any); ok {
			for _, p := range ps {
				s := fmt.Sprint(p)
				i := strings.LastIndex(s, ":")
				if i < 0 {
					t.Fatalf("service %s: port %q publishes on every interface; bind 127.0.0.1", name, s)
				}
				out := s[i+1:]
				svc.ports[out] = s[:i]
			}
		}
		out[name] = svc
	}
	return out
}

func TestComposeServices(t *testing.T) {
	svcs := composeServices(t)
	var names []string
	for n := range svcs {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"app", "collector", "jaeger"}) {
		t.Fatalf("services %v, want app, collector, jaeger", names)
	}
	for name, s := range svcs {
		for cport, host := range s.ports {
			if !strings.HasPrefix(host, "127.0.0.1:") {
				t.Errorf("service %s publishes container port %s on %q: bind the host side to 127.0.0.1", name, cport, host)
			}
		}
	}
	if img := getString(t, svcs["jaeger"].raw, "image"); !strings.HasPrefix(img, "jaegertracing/jaeger:2.") {
		t.Errorf("jaeger image %q, want Jaeger v2 (jaegertracing/jaeger:2.x)", img)
	}
	deps := func(svc string) map[string]any { return get(t, svcs[svc].raw, "depends_on").(map[string]any) }
	if c := getString(t, deps("app"), "collector", "condition"); c != "service_healthy" {
		t.Errorf("app must wait for a healthy collector, has condition %q", c)
	}
	if _, ok := deps("collector")["jaeger"]; !ok {
		t.Error("collector must depend on jaeger")
	}
	if svcs["collector"].raw["healthcheck"] == nil {
		t.Error("collector has no healthcheck")
	}
}

// TestComposeCollectorMatchesGateway: the collector service runs the
// committed gateway.yaml, publishes exactly the ports it listens on, sets
// only variables the config (or the distribution) reads, and leaves unset
// only variables that have a default.
func TestComposeCollectorMatchesGateway(t *testing.T) {
	svc := composeServices(t)["collector"]
	gwText := readFile(t, "collector/gateway.yaml")
	gwRefs := refs(collectorRef, gwText)

	// The config file mounted is the committed one, and the command reads it.
	var target string
	for _, v := range get(t, svc.raw, "volumes").([]any) {
		parts := strings.Split(fmt.Sprint(v), ":")
		if filepath.Clean(parts[0]) == "collector/gateway.yaml" {
			target = parts[1]
		}
	}
	if target == "" {
		t.Fatal("collector does not mount ./collector/gateway.yaml")
	}
	if cmd := getList(t, svc.raw, "command"); !slices.Contains(cmd, target) {
		t.Errorf("collector command %v does not read the mounted %s", cmd, target)
	}

	// Variables the distribution itself reads (collector/internal/envconfig).
	derived := []string{"SENTRY_DSN"}
	for k := range svc.env {
		if _, read := gwRefs[k]; !read && !slices.Contains(derived, k) {
			t.Errorf("compose sets %s for the collector, but gateway.yaml never reads it", k)
		}
	}
	for name, r := range gwRefs {
		if _, set := svc.env[name]; !set && !r.hasDef {
			t.Errorf("gateway.yaml reads ${env:%s} with no default and compose does not set it", name)
		}
	}

	// Resolve the config as the container will see it (compose's own
	// ${VAR:-default} resolved to its default).
	env := map[string]string{}
	for k, v := range svc.env {
		env[k] = composeRef.ReplaceAllString(v, "$2")
	}
	var gw map[string]any
	if err := yaml.Unmarshal([]byte(expand(gwText, env)), &gw); err != nil {
		t.Fatalf("gateway.yaml after substitution: %v", err)
	}
	listen := map[string]string{
		"OTLP gRPC":    getString(t, gw, "receivers", "otlp", "protocols", "grpc", "endpoint"),
		"OTLP HTTP":    getString(t, gw, "receivers", "otlp", "protocols", "http", "endpoint"),
		"health_check": getString(t, gw, "extensions", "health_check", "endpoint"),
	}
	want := map[string]bool{}
	for what, ep := range listen {
		host, port, err := net.SplitHostPort(ep)
		if err != nil {
			t.Fatalf("%s endpoint %q: %v", what, ep, err)
		}
		if host != "0.0.0.0" {
			t.Errorf("%s listens on %q inside the container; other containers cannot reach it", what, ep)
		}
		want[port] = true
		if _, published := svc.ports[port]; !published {
			t.Errorf("%s listens on %s but compose does not publish it", what, port)
		}
	}
	for port := range svc.ports {
		if !want[port] {
			t.Errorf("compose publishes collector port %s that gateway.yaml does not listen on", port)
		}
	}
	// The health check probes the health_check port.
	hc := strings.Join(getList(t, svc.raw, "healthcheck", "test"), " ")
	if !strings.Contains(hc, ":"+portOf(t, listen["health_check"])) {
		t.Errorf("healthcheck %q does not probe the health_check port %s", hc, portOf(t, listen["health_check"]))
	}

	// Jaeger exporter → the jaeger service's OTLP gRPC port.
	jaeger := composeServices(t)["jaeger"]
	ep := getString(t, gw, "exporters", "otlp_grpc/jaeger", "endpoint")
	host, port, err := net.SplitHostPort(ep)
	if err != nil || host != "jaeger" {
		t.Fatalf("otlp_grpc/jaeger endpoint %q, want jaeger:<port>", ep)
	}
	jText := readFile(t, "collector/jaeger.yaml")
	var jc map[string]any
	if err := yaml.Unmarshal([]byte(expand(jText, jaeger.env)), &jc); err != nil {
		t.Fatal(err)
	}
	jGRPC := getString(t, jc, "receivers", "otlp", "protocols", "grpc", "endpoint")
	if portOf(t, jGRPC) != port || !strings.HasPrefix(jGRPC, "0.0.0.0:") {
		t.Errorf("the collector sends to jaeger:%s; Jaeger in compose listens on %s", port, jGRPC)
	}
	jQuery := getString(t, jc, "extensions", "jaeger_query", "http", "endpoint")
	if _, ok := jaeger.ports[portOf(t, jQuery)]; !ok {
		t.Errorf("Jaeger's UI/query port %s is not published", portOf(t, jQuery))
	}
	if enabled, _ := get(t, jc, "extensions", "jaeger_query", "enable_tracing").(bool); enabled {
		t.Error("Jaeger traces itself (enable_tracing): its spans would go to localhost:4317")
	}
}

// TestComposeAppMatchesCollector: the app exports over OTLP to the
// collector service's HTTP port, and every variable compose gives it is one
// the app reads.
func TestComposeAppMatchesCollector(t *testing.T) {
	svcs := composeServices(t)
	app := svcs["app"]
	resolved := func(v string) string { return composeRef.ReplaceAllString(v, "$2") }

	if ex := resolved(app.env["OTEL_TRACES_EXPORTER"]); !slices.Contains(strings.Split(ex, ","), "otlp") {
		t.Errorf("app OTEL_TRACES_EXPORTER %q does not include otlp", ex)
	}
	ep := app.env["OTEL_EXPORTER_OTLP_ENDPOINT"]
	if ep != "http://collector:4318" {
		t.Errorf("app OTEL_EXPORTER_OTLP_ENDPOINT %q, want http://collector:<OTLP HTTP port>", ep)
	}
	if p := app.env["OTEL_EXPORTER_OTLP_PROTOCOL"]; p != "http/protobuf" {
		t.Errorf("app OTEL_EXPORTER_OTLP_PROTOCOL %q, want http/protobuf for port 4318", p)
	}
	col := svcs["collector"]
	if got := col.env["COLLECTOR_OTLP_HTTP_ENDPOINT"]; portOf(t, got) != "4318" {
		t.Errorf("the app sends to collector:4318, the collector's OTLP HTTP endpoint is %q", got)
	}
	if _, ok := app.ports[app.env["PORT"]]; !ok {
		t.Errorf("app listens on PORT=%s but compose publishes %v", app.env["PORT"], app.ports)
	}
	// SENTRY_DSN reaches both: errors from the app, traces via the Collector.
	if app.env["SENTRY_DSN"] != col.env["SENTRY_DSN"] {
		t.Errorf("app and collector get different SENTRY_DSN: %q vs %q", app.env["SENTRY_DSN"], col.env["SENTRY_DSN"])
	}

	// Every variable is one the app's code reads (its name appears as a
	// string literal in telemetry/ or cmd/app/), or the OTLP exporter's.
	src := appSource(t)
	for k := range app.env {
		if strings.HasPrefix(k, "OTEL_EXPORTER_OTLP_") {
			continue
		}
		if !strings.Contains(src, `"`+k+`"`) {
			t.Errorf("compose sets %s for the app, but the app never reads it", k)
		}
	}
}

func appSource(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, dir := range []string{"telemetry", "cmd/app"} {
		files, _ := filepath.Glob(filepath.Join(root(t), dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(data)
		}
	}
	return b.String()
}

// TestEnvExampleDocumentsCompose: every ${VAR} compose interpolates is in
// .env.example with a comment, and .env.example lists nothing compose or
// scripts/stack ignore.
func TestEnvExampleDocumentsCompose(t *testing.T) {
	used := refs(composeRef, readFile(t, "docker-compose.yml"))
	stack := readFile(t, "scripts/stack")
	documented := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(readFile(t, ".env.example")))
	prevComment := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#"):
			prevComment = true
			continue
		case line == "":
			prevComment = false
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf(".env.example: %q is not NAME=value", line)
			continue
		}
		if !prevComment {
			t.Errorf(".env.example: %s has no comment above it", name)
		}
		documented[name] = true
		if _, ok := used[name]; !ok && !strings.Contains(stack, name) {
			t.Errorf(".env.example documents %s, but neither docker-compose.yml nor scripts/stack reads it", name)
		}
	}
	for name := range used {
		if !documented[name] {
			t.Errorf("docker-compose.yml reads ${%s}, .env.example does not document it", name)
		}
	}
}

// TestGatewayConfigShape pins what issue 7 asks of the gateway and the
// scale-out tier, so an edit cannot silently drop a stage.
func TestGatewayConfigShape(t *testing.T) {
	gw := loadYAML(t, "collector/gateway.yaml")
	procs := getList(t, gw, "service", "pipelines", "traces", "processors")
	want := []string{"memory_limiter", "redaction", "tail_sampling", "transform/sentry", "batch"}
	if !slices.Equal(procs, want) {
		t.Errorf("processors %v, want %v", procs, want)
	}
	s := get(t, gw, "exporters", "otlp_http/sentry")
	if v := getString(t, s, "traces_endpoint"); !strings.Contains(v, "/integration/otlp/v1/traces") {
		t.Errorf("Sentry traces_endpoint %q is not Sentry's OTLP path", v)
	}
	if v := getString(t, s, "headers", "x-sentry-auth"); !strings.HasPrefix(v, "sentry sentry_key=${env:SENTRY_PUBLIC_KEY") {
		t.Errorf("x-sentry-auth %q", v)
	}
	if getString(t, s, "compression") != "gzip" || getString(t, s, "encoding") != "proto" {
		t.Error("the Sentry exporter must send gzip-compressed protobuf")
	}
	for _, name := range []string{"otlp_grpc/jaeger", "debug"} {
		get(t, gw, "exporters", name)
	}
	def := refs(collectorRef, readFile(t, "collector/gateway.yaml"))["COLLECTOR_TRACES_EXPORTERS"]
	for _, name := range strings.Split(strings.Trim(def.def, "[]"), ",") {
		get(t, gw, "exporters", strings.TrimSpace(name))
	}
	red := get(t, gw, "processors", "redaction")
	if allow, _ := get(t, red, "allow_all_keys").(bool); !allow {
		t.Error("redaction must keep keys (allow_all_keys: true) and mask values")
	}
	if n := len(getList(t, red, "blocked_values")); n < 10 {
		t.Errorf("redaction has %d blocked_values patterns; the engine's defaults need more", n)
	}
	for _, p := range getList(t, red, "blocked_values") {
		if _, err := regexp.Compile(p); err != nil {
			t.Errorf("blocked_values %q is not RE2: %v", p, err)
		}
	}
	kinds := map[string]bool{}
	for _, p := range get(t, gw, "processors", "tail_sampling", "policies").([]any) {
		kinds[getString(t, p, "type")] = true
	}
	for _, k := range []string{"status_code", "latency", "probabilistic"} {
		if !kinds[k] {
			t.Errorf("tail_sampling has no %s policy", k)
		}
	}

	sc := loadYAML(t, "collector/scale.yaml")
	lb := get(t, sc, "exporters", "load_balancing")
	if getString(t, lb, "routing_key") != "traceID" {
		t.Error("the load balancer must route by trace ID")
	}
	storage := getString(t, lb, "sending_queue", "storage")
	if !strings.HasPrefix(storage, "file_storage") || !slices.Contains(getList(t, sc, "service", "extensions"), storage) {
		t.Errorf("the load balancer's queue storage %q is not an enabled file_storage extension", storage)
	}
	q := loadYAML(t, "collector/gateway-queue.yaml")
	for _, e := range []string{"otlp_http/sentry", "otlp_grpc/jaeger"} {
		st := getString(t, q, "exporters", e, "sending_queue", "storage")
		if !slices.Contains(getList(t, q, "service", "extensions"), st) {
			t.Errorf("gateway-queue.yaml: %s queues to %q, which is not enabled", e, st)
		}
	}
}

// TestDockerfiles: small non-root images that expose what compose uses.
func TestDockerfiles(t *testing.T) {
	app := readFile(t, "Dockerfile")
	col := readFile(t, "collector/Dockerfile")
	for name, df := range map[string]string{"Dockerfile": app, "collector/Dockerfile": col} {
		if strings.Count(df, "\nFROM ") < 1 || !strings.Contains(df, " AS build") {
			t.Errorf("%s is not multi-stage", name)
		}
		if !regexp.MustCompile(`(?m)^USER nonroot`).MatchString(df) {
			t.Errorf("%s does not run as non-root", name)
		}
	}
	for _, port := range []string{"4317", "4318", "13133"} {
		if !regexp.MustCompile(`(?m)^EXPOSE .*\b` + port + `\b`).MatchString(col) {
			t.Errorf("collector/Dockerfile does not EXPOSE %s", port)
		}
	}
	if !regexp.MustCompile(`(?m)^EXPOSE 8080`).MatchString(app) {
		t.Error("Dockerfile does not EXPOSE 8080")
	}
}
