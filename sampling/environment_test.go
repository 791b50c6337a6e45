package sampling

import "testing"

func TestEnvironmentRate(t *testing.T) {
	for _, tc := range []struct {
		env   string
		rate  float64
		known bool
	}{
		{"development", 1.0, true},
		{"staging", 0.3, true},
		{"production", 0.1, true},
		{"test", 1.0, true},
		{" Production ", 0.1, true},
		{"STAGING", 0.3, true},
		{"prod", 0.1, false},
		{"", 0.1, false},
		{"qa", 0.1, false},
	} {
		rate, known := EnvironmentRate(tc.env)
		if rate != tc.rate || known != tc.known {
			t.Errorf("EnvironmentRate(%q) = %v, %v; want %v, %v", tc.env, rate, known, tc.rate, tc.known)
		}
	}
}
