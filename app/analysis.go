package app

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// analysisRequest is a validated POST /api/analyze body.
type analysisRequest struct {
	Company    string
	Industry   string
	Frameworks []string
}

// Analysis outcomes.
const (
	analysisComplete = "complete" // every agent succeeded
	analysisPartial  = "partial"  // some failed or timed out
	analysisFailed   = "failed"   // none succeeded
)

// analysisReport is the answer to POST /api/analyze.
type analysisReport struct {
	ID             string                    `json:"analysis_id"`
	Company        string                    `json:"company"`
	Industry       string                    `json:"industry"`
	Frameworks     []string                  `json:"frameworks"`
	Status         string                    `json:"status"`
	Results        map[string]map[string]any `json:"results"`
	FailedAgents   []string                  `json:"failed_agents"`
	TimedOutAgents []string                  `json:"timed_out_agents"`
	Agents         []agentReport             `json:"agents"`
	TotalTimeMS    float64                   `json:"total_time_ms"`
}

// runAnalysis runs every agent concurrently, each under its own timeout, and
// assembles the report. It returns once the slowest agent has finished or
// timed out. A fault in ctx reaches only the faultAgent.
func (s *Service) runAnalysis(ctx context.Context, id string, req analysisRequest) analysisReport {
	start := time.Now()
	reports := make([]agentReport, len(s.agents))
	var wg sync.WaitGroup
	for i, a := range s.agents {
		actx := ctx
		if a.Name() != faultAgent && faultFrom(ctx) != faultNone {
			actx = withFault(ctx, faultNone)
		}
		wg.Go(func() { reports[i] = s.runner.execute(actx, a, req) })
	}
	wg.Wait()

	rep := analysisReport{
		ID: id, Company: req.Company, Industry: req.Industry, Frameworks: req.Frameworks,
		Results: map[string]map[string]any{}, FailedAgents: []string{}, TimedOutAgents: []string{},
		Agents: reports, TotalTimeMS: float64(time.Since(start).Microseconds()) / 1000,
	}
	for _, r := range reports {
		switch r.Status {
		case agentSucceeded:
			rep.Results[r.Agent] = r.Result
		case agentTimedOut:
			rep.TimedOutAgents = append(rep.TimedOutAgents, r.Agent)
		default:
			rep.FailedAgents = append(rep.FailedAgents, r.Agent)
		}
	}
	switch len(rep.Results) {
	case len(reports):
		rep.Status = analysisComplete
	case 0:
		rep.Status = analysisFailed
	default:
		rep.Status = analysisPartial
	}
	return rep
}

// Input bounds.
const (
	maxCompanyLen    = 200
	maxIndustryLen   = 100
	maxFrameworks    = 5
	defaultFramework = "swot"
)

// validateAnalysis checks and normalises a request body. The company is kept
// as given (trimmed): if a client puts an email address in it, redacting it
// is the telemetry pipeline's job, not the service's.
func validateAnalysis(company, industry string, frameworks []string) (analysisRequest, *apiError) {
	c, err := validName("company", company, maxCompanyLen)
	if err != nil {
		return analysisRequest{}, err
	}
	ind, err := validName("industry", industry, maxIndustryLen)
	if err != nil {
		return analysisRequest{}, err
	}
	if len(frameworks) > maxFrameworks {
		return analysisRequest{}, badRequest("frameworks", "at most %d frameworks", maxFrameworks)
	}
	known := frameworkNames()
	fws := make([]string, 0, len(frameworks))
	for i, fw := range frameworks {
		fw = strings.ToLower(strings.TrimSpace(fw))
		if !slices.Contains(known, fw) {
			return analysisRequest{}, badRequest(fieldIndex("frameworks", i), "unknown framework %q: want one of %s", frameworks[i], strings.Join(known, ", "))
		}
		if !slices.Contains(fws, fw) {
			fws = append(fws, fw)
		}
	}
	if len(fws) == 0 {
		fws = append(fws, defaultFramework)
	}
	return analysisRequest{Company: c, Industry: ind, Frameworks: fws}, nil
}

// validName checks a required, single-line text field.
func validName(field, v string, maxLen int) (string, *apiError) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", badRequest(field, "is required")
	case !utf8.ValidString(v):
		return "", badRequest(field, "must be valid UTF-8")
	case utf8.RuneCountInString(v) > maxLen:
		return "", badRequest(field, "must be at most %d characters", maxLen)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "", badRequest(field, "must not contain control characters")
	}
	return v, nil
}

func fieldIndex(field string, i int) string { return field + "[" + itoa(i) + "]" }
