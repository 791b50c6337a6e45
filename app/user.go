package app

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/otelsentry/otelsentry/telemetry"
)

const (
	userIDHeader   = "X-User-ID"
	userTierHeader = "X-User-Tier"
)

// withUser records the caller's user (X-User-ID, X-User-Tier) on the server
// span and its children through telemetry.WithUser. The headers are trusted
// as an upstream gateway's assertion; what is not a sane opaque ID — above
// all an email address or an IP address, which are PII and must never become
// user.id — is dropped, as is a tier outside the known set.
func withUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := telemetry.User{ID: userID(r.Header.Get(userIDHeader)), Tier: userTier(r.Header.Get(userTierHeader))}
		if u != (telemetry.User{}) {
			r = r.WithContext(telemetry.WithUser(r.Context(), u))
		}
		next.ServeHTTP(w, r)
	})
}

// userID returns id if it is an opaque identifier, else "". The character set
// already excludes emails ('@') and IPv6 addresses (':'); dotted IPv4
// addresses are refused explicitly.
func userID(id string) string {
	id = strings.TrimSpace(id)
	if !validRequestID(id) || len(id) > 64 {
		return ""
	}
	if _, err := netip.ParseAddr(id); err == nil {
		return ""
	}
	return id
}

// userTier keeps the tier only when it is one the product sells, so the
// attribute's cardinality stays bounded.
func userTier(tier string) string {
	switch t := strings.ToLower(strings.TrimSpace(tier)); t {
	case "free", "pro", "team", "enterprise":
		return t
	}
	return ""
}
