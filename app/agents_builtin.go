package app

import (
	"context"
	"fmt"
	"math"
	"time"
)

// builtinAgents are the analysts of every analysis, in report order.
func builtinAgents() []agent {
	return []agent{financialAgent{}, marketAgent{}, researchAgent{}}
}

// financialAgent reads quotes and fundamentals and scores financial health.
type financialAgent struct{}

func (financialAgent) Name() string           { return "FinancialAgent" }
func (financialAgent) Timeout() time.Duration { return 2 * time.Second }
func (financialAgent) Endpoints() []string    { return []string{epYFinanceChart, epFinnhubMetric} }

func (financialAgent) Run(ctx context.Context, fetch fetchFunc, req analysisRequest) (map[string]any, error) {
	q := query{Company: req.Company, Industry: req.Industry}
	quote, err := fetch(ctx, epYFinanceChart, q)
	if err != nil {
		return nil, fmt.Errorf("reading the quote: %w", err)
	}
	m, err := fetch(ctx, epFinnhubMetric, q)
	if err != nil {
		return nil, fmt.Errorf("reading the fundamentals: %w", err)
	}
	v, f := quote.Values, m.Values
	health := 50 + v["revenue_growth_pct"]*0.6 + (v["gross_margin_pct"]-35)*0.4 - f["debt_to_equity"]*8
	consensus := "hold"
	switch buy, sell := f["analysts_buy"], f["analysts_sell"]; {
	case buy > 2*(sell+f["analysts_hold"]/2):
		consensus = "buy"
	case sell > buy:
		consensus = "sell"
	}
	return map[string]any{
		"price":              v["price"],
		"market_cap_bn":      v["market_cap_bn"],
		"pe_ratio":           v["pe_ratio"],
		"revenue_growth_pct": v["revenue_growth_pct"],
		"gross_margin_pct":   v["gross_margin_pct"],
		"eps":                f["eps"],
		"beta":               f["beta"],
		"analyst_consensus":  consensus,
		"target_price":       round2(v["price"] * (1 + f["target_upside"])),
		"health_score":       math.Round(math.Max(0, math.Min(100, health))),
	}, nil
}

// marketAgent sizes the market and applies the requested strategy frameworks.
type marketAgent struct{}

func (marketAgent) Name() string           { return "MarketAgent" }
func (marketAgent) Timeout() time.Duration { return 1500 * time.Millisecond }
func (marketAgent) Endpoints() []string    { return []string{epMarketIndustry, epFinnhubPeers} }

func (marketAgent) Run(ctx context.Context, fetch fetchFunc, req analysisRequest) (map[string]any, error) {
	q := query{Company: req.Company, Industry: req.Industry}
	ind, err := fetch(ctx, epMarketIndustry, q)
	if err != nil {
		return nil, fmt.Errorf("reading the industry: %w", err)
	}
	peers, err := fetch(ctx, epFinnhubPeers, q)
	if err != nil {
		return nil, fmt.Errorf("reading the peers: %w", err)
	}
	v := ind.Values
	out := map[string]any{
		"market_size_bn":    v["market_size_bn"],
		"market_growth_pct": v["market_growth_pct"],
		"market_share_pct":  v["market_share_pct"],
		"competitors":       v["competitors"],
		"top_competitors":   peers.Items,
	}
	frameworks := map[string]any{}
	for _, fw := range req.Frameworks {
		frameworks[fw] = applyFramework(fw, v)
	}
	out["frameworks"] = frameworks
	return out, nil
}

// score maps a 0..1 pressure to the 1..5 scale analysts use.
func score(x float64) float64 { return math.Round(1 + 4*math.Max(0, math.Min(1, x))) }

func applyFramework(name string, v map[string]float64) map[string]any {
	switch name {
	case "porter":
		return map[string]any{
			"rivalry":            score(v["competitors"]/60*0.5 + (1-v["hhi"]/4000)*0.5),
			"new_entrants":       score(1 - v["entry_barrier"]),
			"supplier_power":     score(v["supplier_power"]),
			"buyer_power":        score(1 - v["switching_cost"]),
			"threat_substitutes": score(v["substitute_threat"]),
		}
	case "swot":
		s := map[string][]string{"strengths": {}, "weaknesses": {}, "opportunities": {}, "threats": {}}
		add := func(k, text string) { s[k] = append(s[k], text) }
		if v["market_share_pct"] > 10 {
			add("strengths", "leading market share")
		} else {
			add("weaknesses", "sub-scale market share")
		}
		if v["switching_cost"] > 0.5 {
			add("strengths", "high customer switching costs")
		}
		if v["market_growth_pct"] > 8 {
			add("opportunities", "fast-growing market")
		}
		if v["regulation_index"] > 0.6 {
			add("threats", "tightening regulation")
		}
		if v["substitute_threat"] > 0.5 {
			add("threats", "credible substitutes")
		}
		return map[string]any{"strengths": s["strengths"], "weaknesses": s["weaknesses"], "opportunities": s["opportunities"], "threats": s["threats"]}
	case "pestel":
		return map[string]any{
			"political": score(v["regulation_index"] * 0.8), "economic": score(1 - v["market_growth_pct"]/25),
			"social": score(0.5), "technological": score(v["substitute_threat"]),
			"environmental": score(v["regulation_index"] * 0.6), "legal": score(v["regulation_index"]),
		}
	case "bcg":
		high := func(b bool) int {
			if b {
				return 1
			}
			return 0
		}
		quadrant := [2][2]string{{"dog", "cash_cow"}, {"question_mark", "star"}}[high(v["market_growth_pct"] > 10)][high(v["market_share_pct"] > 15)]
		return map[string]any{"quadrant": quadrant}
	case "ansoff":
		strategy := "market_penetration"
		if v["market_growth_pct"] < 3 {
			strategy = "diversification"
		} else if v["market_share_pct"] > 20 {
			strategy = "market_development"
		}
		return map[string]any{"recommended": strategy}
	}
	return nil
}

// researchAgent reads the news and regulatory filings.
type researchAgent struct{}

func (researchAgent) Name() string           { return "ResearchAgent" }
func (researchAgent) Timeout() time.Duration { return 2500 * time.Millisecond }
func (researchAgent) Endpoints() []string    { return []string{epNewsEverything, epSECEdgarFilings} }

func (researchAgent) Run(ctx context.Context, fetch fetchFunc, req analysisRequest) (map[string]any, error) {
	q := query{Company: req.Company, Industry: req.Industry}
	news, err := fetch(ctx, epNewsEverything, q)
	if err != nil {
		return nil, fmt.Errorf("reading the news: %w", err)
	}
	filings, err := fetch(ctx, epSECEdgarFilings, q)
	if err != nil {
		return nil, fmt.Errorf("reading the filings: %w", err)
	}
	var sentiment float64
	for _, s := range news.Series {
		sentiment += s
	}
	if len(news.Series) > 0 {
		sentiment /= float64(len(news.Series))
	}
	return map[string]any{
		"headlines": news.Items,
		"sentiment": round2(sentiment),
		"filings":   filings.Items,
	}, nil
}

// frameworkNames are the frameworks MarketAgent knows.
func frameworkNames() []string { return []string{"porter", "swot", "pestel", "bcg", "ansoff"} }
