//go:build !linux

package processors

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
