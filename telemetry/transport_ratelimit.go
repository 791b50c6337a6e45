package telemetry

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// defaultRetryAfter is how long a 429 without a usable Retry-After holds
// every category back — the value sentry-go and Sentry's SDK spec use.
const defaultRetryAfter = time.Minute

// rateLimits maps a Sentry data category to the time until which the server
// asked us not to send it. The empty category stands for all of them.
//
// It mirrors sentry-go's internal ratelimit.Map, which cannot be imported;
// unlike it, categories sentry-go does not know are kept (a limit we do not
// understand is still a request to hold back), and every delay is capped by
// the transport (see transportConfig.maxServerDelay).
type rateLimits map[string]time.Time

// until is when category may be sent again (in the past when it is free).
// An error event also waits for "default": Sentry files message events
// without an exception under that category, and sentry-go sends both kinds
// as "error"; holding one back longer than necessary costs nothing, since
// it waits in the spool instead of being dropped.
func (r rateLimits) until(category string) time.Time {
	u := r[""]
	if d := r[category]; d.After(u) {
		u = d
	}
	if category == "error" {
		if d := r["default"]; d.After(u) {
			u = d
		}
	}
	return u
}

// next is the earliest limit that ends after now (zero if none).
func (r rateLimits) next(now time.Time) time.Time {
	var n time.Time
	for _, d := range r {
		if d.After(now) && (n.IsZero() || d.Before(n)) {
			n = d
		}
	}
	return n
}

func (r rateLimits) merge(o rateLimits) {
	for c, d := range o {
		if d.After(r[c]) {
			r[c] = d
		}
	}
}

// rateLimitsFromResponse reads the limits a response sets, the way Sentry's
// SDK spec (and sentry-go) does: X-Sentry-Rate-Limits on any status wins;
// otherwise a 429 holds every category back for its Retry-After, one minute
// when that is missing or malformed. Delays are capped at maxDelay.
func rateLimitsFromResponse(h http.Header, status int, now time.Time, maxDelay time.Duration) rateLimits {
	if s := h.Get("X-Sentry-Rate-Limits"); s != "" {
		return parseSentryRateLimits(s, now, maxDelay)
	}
	if status == http.StatusTooManyRequests {
		d, ok := parseRetryAfter(h.Get("Retry-After"), now)
		if !ok {
			d = defaultRetryAfter
		}
		return rateLimits{"": now.Add(min(d, maxDelay))}
	}
	return nil
}

// parseSentryRateLimits parses X-Sentry-Rate-Limits:
// "retry_after:categories:scope:reason_code:namespaces, …" where categories
// is a ';'-separated list, empty for all. Scope, reason and namespaces do
// not change what the client must hold back and are ignored; malformed
// limits are skipped.
func parseSentryRateLimits(s string, now time.Time, maxDelay time.Duration) rateLimits {
	r := rateLimits{}
	for _, limit := range strings.Split(s, ",") {
		fields := strings.Split(strings.TrimSpace(limit), ":")
		secs, err := strconv.ParseFloat(strings.TrimSpace(fields[0]), 64)
		if err != nil || math.IsNaN(secs) {
			continue
		}
		d := min(time.Duration(math.Ceil(math.Max(secs, 0)))*time.Second, maxDelay)
		if d < 0 { // overflow of a huge value
			d = maxDelay
		}
		cats := ""
		if len(fields) > 1 {
			cats = fields[1]
		}
		for _, c := range strings.Split(cats, ";") {
			c = strings.ToLower(strings.TrimSpace(c))
			if u := now.Add(d); u.After(r[c]) {
				r[c] = u
			}
		}
	}
	return r
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(s string, now time.Time) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(math.MaxInt64/time.Second) {
			return math.MaxInt64, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(s); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// backoffDelay is the wait after the attempt-th consecutive failure:
// exponential from base, capped at maxDelay, with "equal jitter" (a random
// point in the upper half) so that many processes recovering from the same
// outage do not retry in step.
func backoffDelay(attempt int, base, maxDelay time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half)
}
