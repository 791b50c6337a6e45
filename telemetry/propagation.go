package telemetry

import "go.opentelemetry.io/otel/propagation"

// propagator is the global text-map propagator Setup installs.
func (c *config) propagator() (propagation.TextMapPropagator, error) {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}), nil
}
