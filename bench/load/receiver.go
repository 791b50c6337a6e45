package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/otelsentry/otelsentry/bench/internal/otlpwire"
)

// receiver is a real OTLP/HTTP trace endpoint on 127.0.0.1 that only counts
// (and, at the same address, a Sentry project's ingestion endpoints):
// it reads (and gunzips) every export request, walks the protobuf just deep
// enough to count spans, and answers with an empty, valid
// ExportTraceServiceResponse. It keeps nothing, so its own cost (it shares
// the machine with the service) stays small and flat.
type receiver struct {
	srv      *http.Server
	ln       net.Listener
	spans    atomic.Int64
	requests atomic.Int64
	bytes    atomic.Int64 // on the wire (compressed when gzip)
	bad      atomic.Int64 // bodies that were not OTLP protobuf
	// envelopes counts Sentry envelopes (error events, check-ins), accepted
	// at any path ending in /envelope/ when the service has a DSN pointing here.
	envelopes atomic.Int64
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	r := &receiver{ln: ln}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) endpoint() string { return "http://" + r.ln.Addr().String() }

func (r *receiver) close() { _ = r.srv.Close() }

// reset zeroes the counters between runs.
func (r *receiver) reset() {
	r.spans.Store(0)
	r.requests.Store(0)
	r.bytes.Store(0)
	r.bad.Store(0)
	r.envelopes.Store(0)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(req.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if strings.HasSuffix(req.URL.Path, "/envelope/") {
		r.envelopes.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
		return
	}
	r.requests.Add(1)
	r.bytes.Add(int64(len(raw)))
	body := raw
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			r.bad.Add(1)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	n, err := otlpwire.CountSpans(body)
	if err != nil {
		r.bad.Add(1)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.spans.Add(int64(n))
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK) // an empty body is an empty ExportTraceServiceResponse
}
