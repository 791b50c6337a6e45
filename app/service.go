package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

const instrumentationName = "github.com/otelsentry/otelsentry/app"

// Config configures the service.
type Config struct {
	// Environment is the deployment environment ("production" turns off the
	// test-error endpoint and fault injection).
	Environment string
	// Logger receives the service's own logs; nil means slog.Default().
	Logger *slog.Logger
	// TracerProvider is used for the service's spans; nil means the global one.
	TracerProvider trace.TracerProvider
}

// Service is the reference service.
type Service struct {
	cfg    Config
	tracer trace.Tracer
	log    *slog.Logger
}

// New returns a service ready to serve.
func New(cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return &Service{cfg: cfg, tracer: tp.Tracer(instrumentationName), log: cfg.Logger}, nil
}

// Handler returns the service's HTTP handler, with otelhttp server spans
// named by route and request IDs on every span.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	s.handle(mux, "GET /healthz", s.healthz)
	s.handle(mux, "POST /api/analyze", s.analyze)
	return mux
}

// handle registers h for pattern behind otelhttp and the request-ID
// middleware. Routing happens before the server span starts, so the span is
// born with its route as name and http.route attribute — which is what
// route-based sampling rules and Sentry's transaction names need.
func (s *Service) handle(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	opts := []otelhttp.Option{}
	if s.cfg.TracerProvider != nil {
		opts = append(opts, otelhttp.WithTracerProvider(s.cfg.TracerProvider))
	}
	route := pattern
	if _, path, ok := strings.Cut(pattern, " "); ok {
		route = path
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace.SpanFromContext(r.Context()).SetAttributes(semconv.HTTPRoute(route))
		h(w, r)
	})
	mux.Handle(pattern, otelhttp.NewHandler(requestID(inner), pattern, opts...))
}

// Start runs the service's background work until ctx is done or Close.
func (s *Service) Start(context.Context) {}

// Close stops background work, waiting for it within ctx.
func (s *Service) Close(context.Context) error { return nil }

func (s *Service) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type analyzeRequest struct {
	Company  string `json:"company"`
	Industry string `json:"industry"`
}

func (s *Service) analyze(w http.ResponseWriter, r *http.Request) {
	var req analyzeRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body", "field": "body"})
		return
	}
	_, span := s.tracer.Start(r.Context(), "analysis.run",
		trace.WithAttributes(attribute.String("company", req.Company), attribute.String("industry", req.Industry)))
	defer span.End()
	writeJSON(w, http.StatusOK, map[string]string{"company": req.Company, "status": "done"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
