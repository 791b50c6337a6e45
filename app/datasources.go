package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// query is what a data source is asked for. Seq distinguishes successive
// reads of a time series, so each monitor check sees new data.
type query struct {
	Company  string
	Industry string
	Seq      uint64
}

// dataset is a data source's answer: named figures, text items, a series.
type dataset struct {
	Values map[string]float64
	Items  []string
	Series []float64
}

// records is the size of the answer, recorded on the client span.
func (d dataset) records() int { return len(d.Values) + len(d.Items) + len(d.Series) }

// endpoint is one simulated upstream API call. The answer is generated from
// a seed derived from the company, the endpoint and Seq — deterministic, no
// network — after a latency around the typical one.
type endpoint struct {
	source   string // service.peer.name: yfinance, finnhub, news…
	host     string // server.address
	route    string // url.template
	latency  time.Duration
	generate func(r *rand.Rand, q query) dataset
}

// Endpoint keys, "<source>/<operation>".
const (
	epYFinanceChart   = "yfinance/chart"
	epFinnhubMetric   = "finnhub/metric"
	epFinnhubPeers    = "finnhub/peers"
	epFinnhubCandles  = "finnhub/candles"
	epMarketIndustry  = "market_data/industry"
	epNewsEverything  = "news/everything"
	epSECEdgarFilings = "sec_edgar/filings"
)

func endpoints() map[string]endpoint {
	return map[string]endpoint{
		epYFinanceChart:   {"yfinance", "query1.finance.yahoo.com", "/v8/finance/chart/{symbol}", 80 * time.Millisecond, genQuote},
		epFinnhubMetric:   {"finnhub", "finnhub.io", "/api/v1/stock/metric", 60 * time.Millisecond, genMetrics},
		epFinnhubPeers:    {"finnhub", "finnhub.io", "/api/v1/stock/peers", 50 * time.Millisecond, genPeers},
		epFinnhubCandles:  {"finnhub", "finnhub.io", "/api/v1/stock/candle", 50 * time.Millisecond, genCandles},
		epMarketIndustry:  {"market_data", "api.marketdata.app", "/v1/industries/{industry}", 90 * time.Millisecond, genIndustry},
		epNewsEverything:  {"news", "newsapi.org", "/v2/everything", 140 * time.Millisecond, genNews},
		epSECEdgarFilings: {"sec_edgar", "data.sec.gov", "/submissions/{cik}.json", 110 * time.Millisecond, genFilings},
	}
}

// sourceName is the data source of an endpoint key.
func sourceName(key string) string {
	name, _, _ := strings.Cut(key, "/")
	return name
}

// upstreamError is a data source answering with an HTTP error status.
type upstreamError struct {
	Source string
	Status int
}

func (e *upstreamError) Error() string {
	return fmt.Sprintf("%s answered %d %s", e.Source, e.Status, http.StatusText(e.Status))
}

// ErrorType follows the HTTP client convention: error.type is the status code.
func (e *upstreamError) ErrorType() string { return strconv.Itoa(e.Status) }

// sourceClient calls data sources, one HTTP client span per call. It is the
// only place that knows about spans, latency and faults for data sources;
// the generators and the agents know none of it. Safe for concurrent use.
type sourceClient struct {
	tracer    trace.Tracer
	endpoints map[string]endpoint
	scale     float64
	faults    faultInjector
}

func newSourceClient(tracer trace.Tracer, scale float64, faults faultInjector) *sourceClient {
	return &sourceClient{tracer: tracer, endpoints: endpoints(), scale: scale, faults: faults}
}

// fetch calls the endpoint key for q. The client span follows the HTTP client
// conventions ("GET {url.template}", server.address, http.response.status_code,
// error.type) and names the source in service.peer.name. A fault in ctx
// makes the call fail (503), hang until ctx is done, or run slow. An
// upstream failure is recorded on the client span and returned marked as
// recorded; a timeout is only marked on it — the caller whose deadline it
// was records it.
func (c *sourceClient) fetch(ctx context.Context, key string, q query) (dataset, error) {
	ep, ok := c.endpoints[key]
	if !ok {
		return dataset{}, fmt.Errorf("unknown data source endpoint %q", key)
	}
	ctx, span := c.tracer.Start(ctx, "GET "+ep.route,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			semconv.HTTPRequestMethodGet,
			semconv.ServerAddress(ep.host),
			semconv.ServerPort(443),
			semconv.URLTemplate(ep.route),
			semconv.ServicePeerName(ep.source),
		))
	defer span.End()

	f := faultFrom(ctx)
	wait := jitter(ep.latency, c.scale)
	switch f {
	case faultSlow:
		wait += c.faults.latency
	case faultTimeout:
		wait = hang(ctx)
	}
	if err := sleep(ctx, wait); err != nil {
		span.SetStatus(codes.Error, fmt.Sprintf("%s: %v", ep.source, err))
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		return dataset{}, fmt.Errorf("calling %s: %w", ep.source, err)
	}
	if f == faultError {
		err := &upstreamError{Source: ep.source, Status: http.StatusServiceUnavailable}
		span.SetAttributes(semconv.HTTPResponseStatusCode(err.Status))
		return dataset{}, fmt.Errorf("calling %s: %w", ep.source, failSpan(span, err))
	}
	d := ep.generate(seeded(q.Company, key, q.Seq), q)
	span.SetAttributes(semconv.HTTPResponseStatusCode(http.StatusOK), attribute.Int("data_source.records", d.records()))
	return d, nil
}
