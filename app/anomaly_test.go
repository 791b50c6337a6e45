package app

import (
	"errors"
	"math"
	"testing"
)

func TestZScoreDetector(t *testing.T) {
	d := defaultDetector()
	series := make([]float64, 40)
	for i := range series {
		series[i] = 100 + float64(i%2) // mean 100.5, sd 0.5
	}
	series[35] = 110 // z = 19
	found, err := d.detect(series)
	if err != nil || len(found) != 1 || found[0].Index != 35 || found[0].Z < 3 {
		t.Fatalf("detect = %+v, %v; want one anomaly at 35", found, err)
	}
	series[35] = 100
	series[10] = 200 // outside the recent points: judged by an earlier check
	if found, _ := d.detect(series); len(found) != 0 {
		t.Errorf("old point flagged again: %+v", found)
	}
	if _, err := d.detect(series[:20]); !errors.Is(err, errInsufficientData) {
		t.Errorf("short series: %v", err)
	}
	series[30] = math.NaN()
	if _, err := d.detect(series); !errors.Is(err, errDataQuality) {
		t.Errorf("gap: %v", err)
	}
}

func TestGeneratorsAreDeterministic(t *testing.T) {
	for key, ep := range endpoints() {
		a := ep.generate(seeded("Tesla", key, 1), query{Company: "Tesla", Industry: "Automotive"})
		b := ep.generate(seeded("  tesla ", key, 1), query{Company: "Tesla", Industry: "Automotive"})
		if a.records() == 0 || a.records() != b.records() {
			t.Errorf("%s: %d and %d records", key, a.records(), b.records())
		}
		for k, v := range a.Values {
			if b.Values[k] != v {
				t.Errorf("%s: %s differs: %v, %v", key, k, v, b.Values[k])
			}
		}
	}
	first := genCandles(seeded("Tesla", epFinnhubCandles, 1), query{}).Series
	next := genCandles(seeded("Tesla", epFinnhubCandles, 2), query{}).Series
	if first[0] == next[0] {
		t.Error("successive checks read the same series")
	}
}
