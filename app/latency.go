package app

import (
	"context"
	"math/rand/v2"
	"time"
)

// jitter returns typical scaled by scale and spread over [0.5, 1.5) of it,
// so latencies look like a real dependency's rather than a metronome's.
func jitter(typical time.Duration, scale float64) time.Duration {
	return time.Duration(float64(typical) * scale * (0.5 + rand.Float64()))
}

// maxHang bounds a hang when ctx has no deadline, so a "timeout" fault on a
// path without one cannot hold a goroutine forever.
const maxHang = 30 * time.Second

// hang is how long a hanging dependency keeps its caller: until the caller's
// deadline, which is the point of the timeout fault.
func hang(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return time.Until(dl) + time.Second
	}
	return maxHang
}

// sleep waits d or until ctx is done, whichever is first, and returns ctx's
// error in the second case.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
