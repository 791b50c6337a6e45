package fakebackend

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// OTLP is a real OTLP/HTTP protobuf trace endpoint on 127.0.0.1 that
// records what it receives: the raw (decompressed) bytes, for secret greps,
// and the decoded spans. Any path is accepted, so it also stands in for
// Sentry's OTLP endpoint.
type OTLP struct {
	*httptest.Server
	t testing.TB

	mu        sync.Mutex
	requests  []Request
	spans     []*tracepb.Span
	resources []*resourcepb.Resource
}

// Request is one request a fake backend received.
type Request struct {
	Path   string
	Header http.Header
	Raw    []byte // the body after gzip decoding
	Spans  int    // spans in an OTLP request
}

// NewOTLP starts an OTLP receiver that is closed when the test ends.
func NewOTLP(t testing.TB) *OTLP {
	t.Helper()
	r := &OTLP{t: t}
	r.Server = httptest.NewServer(http.HandlerFunc(r.ServeHTTP))
	t.Cleanup(r.Close)
	return r
}

// ServeHTTP decodes one OTLP export request; a body that is not OTLP
// protobuf fails the test.
func (r *OTLP) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := ReadBody(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if strings.HasSuffix(req.URL.Path, "/envelope/") {
		// A Sentry envelope for the same DSN: kept raw for greps only.
		r.mu.Lock()
		r.requests = append(r.requests, Request{Path: req.URL.Path, Header: req.Header.Clone(), Raw: body})
		r.mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
		return
	}
	var msg collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &msg); err != nil {
		r.t.Errorf("otlp receiver: %s: not an OTLP protobuf request: %v", req.URL.Path, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	n := len(r.spans)
	for _, rs := range msg.ResourceSpans {
		r.resources = append(r.resources, rs.Resource)
		for _, ss := range rs.ScopeSpans {
			r.spans = append(r.spans, ss.Spans...)
		}
	}
	r.requests = append(r.requests, Request{Path: req.URL.Path, Header: req.Header.Clone(), Raw: body, Spans: len(r.spans) - n})
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

// Spans returns every span received so far.
func (r *OTLP) Spans() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...)
}

// Requests returns every request received so far.
func (r *OTLP) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Resources returns the resource of every ResourceSpans received so far.
func (r *OTLP) Resources() []*resourcepb.Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*resourcepb.Resource(nil), r.resources...)
}

// RawBytes is every request body received so far, decompressed, joined —
// what a test greps for secrets.
func (r *OTLP) RawBytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []byte
	for _, q := range r.requests {
		all = append(all, q.Raw...)
	}
	return all
}

// ReadBody reads a request body, undoing gzip Content-Encoding.
func ReadBody(req *http.Request) ([]byte, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	if req.Header.Get("Content-Encoding") != "gzip" {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bad gzip body: %w", err)
	}
	return io.ReadAll(zr)
}

// SpanAttr returns a span's string attribute.
func SpanAttr(s *tracepb.Span, key string) (string, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value.GetStringValue(), true
		}
	}
	return "", false
}

// Hang is a handler that blocks until release is closed or the client gives
// up: a backend that accepts connections and never answers.
func Hang(release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
}
