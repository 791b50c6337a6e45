//go:build !unix

package bench

// processCPU cannot be read here: the cpu-ns/op metric is left out.
func processCPU() (int64, bool) { return 0, false }
