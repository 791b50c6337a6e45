package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to Sentry's REST API with an auth token. The token is sent
// only in the Authorization header of requests to the base URL's host: it
// is never part of a URL, an error or the client's printed form, and a
// response that echoes it has it replaced by "[REDACTED]" before any error
// quotes it. A Client is safe for concurrent use.
type Client struct {
	base       *url.URL
	token      string
	hc         *http.Client
	maxRetries int
	maxWait    time.Duration
	sleep      func(context.Context, time.Duration) error
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithHTTPClient replaces the default HTTP client (30 s timeout).
func WithHTTPClient(hc *http.Client) ClientOption { return func(c *Client) { c.hc = hc } }

// WithRetry sets how many times a request answered 429 is retried (default
// 3) and the longest wait honoured from a Retry-After header (default 30 s;
// longer asks are cut to it).
func WithRetry(maxRetries int, maxWait time.Duration) ClientOption {
	return func(c *Client) { c.maxRetries, c.maxWait = maxRetries, maxWait }
}

// NewClient returns a client for the Sentry at baseURL (for SaaS,
// https://sentry.io or a region such as https://de.sentry.io).
func NewClient(baseURL, token string, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("sentry URL %q: want an absolute http(s) URL", baseURL)
	}
	if token == "" {
		return nil, errors.New("sentry auth token is empty (set SENTRY_AUTH_TOKEN)")
	}
	c := &Client{
		base:       u,
		token:      token,
		hc:         &http.Client{Timeout: 30 * time.Second},
		maxRetries: 3,
		maxWait:    30 * time.Second,
		sleep:      sleepCtx,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// String keeps the token out of %v and %+v.
func (c *Client) String() string { return "alerts.Client(" + c.base.String() + ")" }

// GoString keeps the token out of %#v.
func (c *Client) GoString() string { return c.String() }

// APIError is a non-2xx answer from Sentry.
type APIError struct {
	Method string
	Path   string
	Status int
	// Body is the start of the response body, token redacted.
	Body string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("sentry API %s %s: HTTP %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do sends one request (retrying on 429) and decodes a JSON answer into out
// when out is not nil. It returns the response headers of the final answer.
func (c *Client) do(ctx context.Context, method, target string, body, out any) (http.Header, error) {
	u, err := c.resolve(target)
	if err != nil {
		return nil, err
	}
	var payload []byte
	if body != nil {
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encoding %s %s body: %w", method, u.Path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("building %s %s: %w", method, u.Path, err)
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			// url.Error quotes the URL, which never holds the token.
			return nil, fmt.Errorf("sentry API %s %s: %w", method, u.Path, err)
		}
		data, readErr := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && attempt < c.maxRetries {
			if err := c.sleep(ctx, c.retryAfter(resp.Header.Get("Retry-After"))); err != nil {
				return nil, fmt.Errorf("sentry API %s %s: waiting out HTTP 429: %w", method, u.Path, err)
			}
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, &APIError{Method: method, Path: u.Path, Status: resp.StatusCode, Body: c.snippet(data)}
		}
		if readErr != nil {
			return nil, fmt.Errorf("sentry API %s %s: reading answer: %w", method, u.Path, readErr)
		}
		if out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return nil, fmt.Errorf("sentry API %s %s: decoding answer: %w", method, u.Path, err)
			}
		}
		return resp.Header, nil
	}
}

// resolve turns an API path (or a pagination URL Sentry gave) into a URL on
// the base host; any other host is refused so the token cannot follow a
// link elsewhere.
func (c *Client) resolve(target string) (*url.URL, error) {
	ref, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("sentry API path %q: %w", target, err)
	}
	var u url.URL
	switch {
	case ref.IsAbs():
		u = *ref
	case strings.HasPrefix(ref.Path, "/"):
		u = *c.base
		base := strings.TrimRight(c.base.Path, "/")
		u.Path = base + ref.Path
		u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + ref.EscapedPath()
		u.RawQuery = ref.RawQuery
	default:
		return nil, fmt.Errorf("sentry API path %q: want an absolute path", target)
	}
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return nil, fmt.Errorf("sentry API: refusing to follow a link to %s://%s, which is not %s", u.Scheme, u.Host, c.base.Host)
	}
	return &u, nil
}

func (c *Client) retryAfter(h string) time.Duration {
	d := time.Second
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = time.Until(t)
	}
	if d < 0 {
		d = 0
	}
	if d > c.maxWait {
		d = c.maxWait
	}
	return d
}

func (c *Client) snippet(data []byte) string {
	s := strings.TrimSpace(string(data))
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, "[REDACTED]")
	}
	if len(s) > 512 {
		s = s[:512] + "…"
	}
	return s
}

// maxPages bounds pagination: 100 pages of Sentry's default 25–100 items is
// far more alert rules than one project holds.
const maxPages = 100

// list GETs every page of a list endpoint, following Sentry's Link header
// (rel="next"; results="true").
func (c *Client) list(ctx context.Context, path string) ([]map[string]any, error) {
	var all []map[string]any
	next := path
	for page := 0; next != ""; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("sentry API GET %s: more than %d pages", path, maxPages)
		}
		var items []map[string]any
		h, err := c.do(ctx, http.MethodGet, next, nil, &items)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		next = nextPage(h.Get("Link"))
	}
	return all, nil
}

// nextPage extracts the next page's URL from a Link header in Sentry's form:
// <url>; rel="next"; results="true"; cursor="…".
func nextPage(link string) string {
	for _, part := range strings.Split(link, ",") {
		fields := strings.Split(part, ";")
		if len(fields) < 2 {
			continue
		}
		target := strings.Trim(strings.TrimSpace(fields[0]), "<>")
		var isNext, results bool
		for _, f := range fields[1:] {
			switch strings.ReplaceAll(strings.TrimSpace(f), " ", "") {
			case `rel="next"`:
				isNext = true
			case `results="true"`:
				results = true
			}
		}
		if isNext && results {
			return target
		}
	}
	return ""
}
