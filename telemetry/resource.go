package telemetry

import (
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// parseResourceAttributes parses OTEL_RESOURCE_ATTRIBUTES as the OpenTelemetry
// specification defines it: comma-separated key=value pairs whose values are
// percent-encoded. Unlike the SDK's detector it fails on a malformed pair
// instead of logging and carrying on, so the mistake is seen at start-up.
func parseResourceAttributes(v string) ([]attribute.KeyValue, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	var kvs []attribute.KeyValue
	for _, pair := range strings.Split(v, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, val, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &configError{envResourceAttrs, v, "want comma-separated key=value pairs, got " + strconvQuote(pair)}
		}
		dec, err := url.PathUnescape(strings.TrimSpace(val))
		if err != nil {
			return nil, &configError{envResourceAttrs, v, "bad percent-encoding in the value of " + strconvQuote(k)}
		}
		kvs = append(kvs, attribute.String(k, dec))
	}
	return kvs, nil
}

func strconvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// buildResource is the process's resource: the SDK defaults (telemetry.sdk.*,
// host-independent), then OTEL_RESOURCE_ATTRIBUTES and options, then the
// resolved service name, release and environment, which always win so that
// the resource and the start-up log line agree.
func (c *config) buildResource() (*resource.Resource, error) {
	kvs := c.redaction.redactStatic(append([]attribute.KeyValue(nil), c.resAttrs...))
	kvs = append(kvs,
		semconv.ServiceName(c.serviceName),
		semconv.ServiceVersion(c.release),
		semconv.DeploymentEnvironmentNameKey.String(c.environment),
	)
	return resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL, kvs...))
}
