package app

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/otelsentry/otelsentry/telemetry"
)

const requestIDHeader = "X-Request-ID"

// requestID accepts a caller's X-Request-ID (if it is a sane token) or makes
// one, echoes it in the response, and records it on the server span and its
// children.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(requestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(telemetry.WithRequestID(r.Context(), id)))
	})
}

// validRequestID bounds what a client can put on our spans.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newID returns prefix followed by 16 random hex digits.
func newID(prefix string) string { return prefix + newRequestID()[:16] }
