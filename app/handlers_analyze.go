package app

import (
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/telemetry"
)

type analyzeBody struct {
	Company    string   `json:"company"`
	Industry   string   `json:"industry"`
	Frameworks []string `json:"frameworks"`
}

// analyze handles POST /api/analyze: 200 with the report when at least one
// agent succeeded (status complete or partial), 502 when none did, 400 for
// bad input.
func (s *Service) analyze(w http.ResponseWriter, r *http.Request) {
	var body analyzeBody
	if e := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); e != nil {
		writeAPIError(w, e)
		return
	}
	req, e := validateAnalysis(body.Company, body.Industry, body.Frameworks)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	id := newID("ana_")
	// On the server span and, through the pipeline's enrich stage, on every
	// agent and data-source span of the analysis.
	ctx := telemetry.WithAttributes(r.Context(),
		attribute.String("analysis.id", id),
		attribute.String("company", req.Company),
		attribute.String("industry", req.Industry),
	)
	rep := s.runAnalysis(ctx, id, req)
	trace.SpanFromContext(ctx).SetAttributes(
		attribute.String("analysis.status", rep.Status),
		attribute.StringSlice("analysis.frameworks", req.Frameworks),
		attribute.Int("analysis.agents_failed", len(rep.FailedAgents)+len(rep.TimedOutAgents)),
	)
	status := http.StatusOK
	if rep.Status == analysisFailed {
		status = http.StatusBadGateway
	}
	writeJSON(w, status, rep)
}

func itoa(i int) string { return strconv.Itoa(i) }
