package app

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// seeded returns a generator whose output depends only on the company (case
// and surrounding space ignored), the endpoint and seq: the same question
// always gets the same answer, which keeps demos and tests reproducible.
func seeded(company, key string, seq uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(strings.TrimSpace(company))))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(h.Sum64(), seq))
}

func between(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func genQuote(r *rand.Rand, _ query) dataset {
	price := between(r, 15, 600)
	return dataset{Values: map[string]float64{
		"price":              round2(price),
		"market_cap_bn":      round2(between(r, 0.5, 1200)),
		"pe_ratio":           round2(between(r, 6, 80)),
		"revenue_growth_pct": round2(between(r, -12, 45)),
		"gross_margin_pct":   round2(between(r, 12, 72)),
		"52w_change_pct":     round2(between(r, -40, 90)),
	}}
}

func genMetrics(r *rand.Rand, _ query) dataset {
	buy, hold, sell := r.IntN(25), r.IntN(15), r.IntN(8)
	return dataset{Values: map[string]float64{
		"eps":            round2(between(r, -2, 25)),
		"beta":           round2(between(r, 0.4, 2.2)),
		"debt_to_equity": round2(between(r, 0, 3)),
		"analysts_buy":   float64(buy),
		"analysts_hold":  float64(hold),
		"analysts_sell":  float64(sell),
		"target_upside":  round2(between(r, -0.25, 0.6)),
	}}
}

var peerSyllables = []string{"Nor", "Vex", "Alt", "Ara", "Quin", "Tor", "Lum", "Ion", "Cor", "Dyn", "Zen", "Pol", "Ark", "Sol"}

func genPeers(r *rand.Rand, q query) dataset {
	n := 3 + r.IntN(3)
	peers := make([]string, n)
	for i := range peers {
		peers[i] = peerSyllables[r.IntN(len(peerSyllables))] + strings.ToLower(peerSyllables[r.IntN(len(peerSyllables))]) + " " + industryNoun(q.Industry)
	}
	return dataset{Items: peers}
}

func industryNoun(industry string) string {
	if industry == "" {
		return "Group"
	}
	return strings.Fields(industry)[0]
}

func genIndustry(r *rand.Rand, _ query) dataset {
	return dataset{Values: map[string]float64{
		"market_size_bn":    round2(between(r, 5, 3000)),
		"market_growth_pct": round2(between(r, -5, 25)),
		"market_share_pct":  round2(between(r, 0.2, 35)),
		"hhi":               math.Round(between(r, 400, 4000)),
		"competitors":       float64(5 + r.IntN(60)),
		"regulation_index":  round2(between(r, 0, 1)),
		"switching_cost":    round2(between(r, 0, 1)),
		"supplier_power":    round2(between(r, 0, 1)),
		"substitute_threat": round2(between(r, 0, 1)),
		"entry_barrier":     round2(between(r, 0, 1)),
	}}
}

var headlineTemplates = []string{
	"%s beats quarterly expectations as demand holds",
	"%s faces regulatory scrutiny over data practices",
	"%s announces expansion into new markets",
	"Analysts split on %s after guidance update",
	"%s names new chief financial officer",
	"%s recalls products after supplier issue",
	"%s signs multi-year partnership in %s",
	"Short sellers target %s amid valuation debate",
}

func genNews(r *rand.Rand, q query) dataset {
	n := 3 + r.IntN(4)
	d := dataset{Items: make([]string, n), Series: make([]float64, n)}
	for i := range n {
		t := headlineTemplates[r.IntN(len(headlineTemplates))]
		if strings.Count(t, "%s") == 2 {
			d.Items[i] = fmt.Sprintf(t, q.Company, q.Industry)
		} else {
			d.Items[i] = fmt.Sprintf(t, q.Company)
		}
		d.Series[i] = round2(between(r, -1, 1)) // sentiment per headline
	}
	return d
}

func genFilings(r *rand.Rand, _ query) dataset {
	kinds := []string{"10-K", "10-Q", "8-K", "DEF 14A", "S-1"}
	n := 2 + r.IntN(4)
	base := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf("%s filed %s", kinds[r.IntN(len(kinds))], base.AddDate(0, 0, -r.IntN(365)).Format(time.DateOnly))
	}
	return dataset{Items: items}
}

// candlePoints is the length of a monitor's time series.
const candlePoints = 60

// genCandles is a stationary noisy series. Now and then (about one read in
// five) the last points hold a spike of 3–8 standard deviations — the
// anomaly a monitor exists to catch — and about one read in fifty has a gap
// (NaN), a data-quality failure for the detector.
func genCandles(r *rand.Rand, _ query) dataset {
	base, sd := between(r, 20, 500), between(r, 0.5, 5)
	s := make([]float64, candlePoints)
	for i := range s {
		s[i] = base + r.NormFloat64()*sd
	}
	if r.Float64() < 0.2 {
		k := between(r, 3, 8)
		if r.IntN(2) == 0 {
			k = -k
		}
		s[candlePoints-1-r.IntN(10)] = base + k*sd
	}
	if r.Float64() < 0.02 {
		s[r.IntN(candlePoints)] = math.NaN()
	}
	return dataset{Series: s}
}
