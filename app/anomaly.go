package app

import (
	"errors"
	"fmt"
	"math"
)

var (
	// errInsufficientData: the series is shorter than the window.
	errInsufficientData = errors.New("not enough data points for anomaly detection")
	// errDataQuality: the series has a gap (NaN or ±Inf).
	errDataQuality = errors.New("data quality: series has a gap")
)

// anomaly is a point far from the mean of the window before it.
type anomaly struct {
	Index int     `json:"index"`
	Value float64 `json:"value"`
	Mean  float64 `json:"mean"`
	Z     float64 `json:"z_score"`
}

// zScoreDetector flags the last Recent points of a series whose z-score
// against the Window points before each is at least Threshold in absolute
// value. Earlier points were judged by earlier checks.
type zScoreDetector struct {
	Window    int
	Recent    int
	Threshold float64
}

func defaultDetector() zScoreDetector { return zScoreDetector{Window: 20, Recent: 10, Threshold: 3} }

func (d zScoreDetector) detect(series []float64) ([]anomaly, error) {
	if len(series) < d.Window+1 {
		return nil, fmt.Errorf("%w: %d points, window %d", errInsufficientData, len(series), d.Window)
	}
	for i, v := range series {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w at point %d", errDataQuality, i)
		}
	}
	var found []anomaly
	for i := max(d.Window, len(series)-d.Recent); i < len(series); i++ {
		mean, sd := meanStd(series[i-d.Window : i])
		if sd == 0 {
			continue // a flat window has no scale to measure against
		}
		if z := (series[i] - mean) / sd; math.Abs(z) >= d.Threshold {
			found = append(found, anomaly{Index: i, Value: round2(series[i]), Mean: round2(mean), Z: round2(z)})
		}
	}
	return found, nil
}

func meanStd(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)))
}
