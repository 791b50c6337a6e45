package processors

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// panicType is the exception.type the Recover middleware records; the
// bridge raises such events to level fatal and marks them unhandled.
const panicType = "panic"

// buildEvent builds the Sentry event of exception x of local trace lt. Every
// string that comes from the span goes through the scrubber: attribute
// values with their key, free text (message, names, frames) as text.
func (e *Errors) buildEvent(lt *localTrace, x *exception, crumbs []crumb) *sentry.Event {
	sc := e.scrub
	str := func(s string) string {
		if s == "" {
			return s
		}
		out, _ := sc.String(s)
		return out
	}
	line := lt.lineage(x.span)
	timeout := isTimeout(x.typ, x.msg)

	// get returns the scrubbed value of key for this error: the derived
	// facts, else the attribute from the nearest span of the lineage.
	get := func(key string) (string, bool) {
		switch key {
		case "exception.type":
			return str(x.typ), x.typ != ""
		case "exception.message":
			return str(x.msg), x.msg != ""
		case "error.timeout":
			return strconv.FormatBool(timeout), true
		}
		v, ok := lookupAttr(line, attribute.Key(key))
		if !ok {
			return "", false
		}
		if v.Type() == attribute.INT64 {
			return fmt.Sprint(scrubInt(sc, key, v.AsInt64())), true
		}
		out, _ := sc.Attr(key, v.Emit())
		return out, true
	}
	value := func(key string) (any, bool) {
		v, ok := lookupAttr(line, attribute.Key(key))
		if !ok {
			return nil, false
		}
		return scrubbedValue(sc, attribute.KeyValue{Key: attribute.Key(key), Value: v}), true
	}

	ev := &sentry.Event{
		Level:       sentry.LevelError,
		Timestamp:   x.time,
		Environment: e.cfg.Environment,
		Release:     e.cfg.Release,
		Contexts:    map[string]sentry.Context{},
		Tags:        map[string]string{},
	}
	if lt.root != nil {
		ev.Transaction = str(lt.root.Name())
	}

	// The exception, with its stack or, failing that, the code location.
	typ := x.typ
	if typ == "" {
		typ = "error"
	}
	exc := sentry.Exception{Type: str(typ), Value: str(x.msg)}
	handled := true
	exc.Mechanism = &sentry.Mechanism{Type: "otel", Handled: &handled}
	if x.typ == panicType {
		ev.Level = sentry.LevelFatal
		unhandled := false
		exc.Mechanism = &sentry.Mechanism{Type: panicType, Handled: &unhandled}
	}
	var frames []sentry.Frame
	if x.stack != "" {
		frames = parseGoStack(x.stack, e.inApp)
	}
	if len(frames) == 0 {
		raw := func(key string) (string, bool) {
			for _, kv := range x.span.Attributes() {
				if string(kv.Key) == key {
					return kv.Value.Emit(), true
				}
			}
			return "", false
		}
		if f, ok := codeLocationFrame(raw, e.inApp); ok {
			frames = []sentry.Frame{f}
		}
	}
	if len(frames) > 0 {
		for i := range frames {
			f := &frames[i]
			f.Function, f.Module, f.Filename, f.AbsPath = str(f.Function), str(f.Module), str(f.Filename), str(f.AbsPath)
		}
		exc.Stacktrace = &sentry.Stacktrace{Frames: frames}
	}
	ev.Exception = []sentry.Exception{exc}

	// Trace linking: Sentry shows the error inside its trace.
	spanCtx := x.span.SpanContext()
	tc := sentry.Context{
		"trace_id": spanCtx.TraceID().String(),
		"span_id":  spanCtx.SpanID().String(),
		"op":       str(sentryOp(x.span)),
		"status":   sentryStatus(x.span, timeout),
	}
	if p := x.span.Parent(); p.IsValid() {
		tc["parent_span_id"] = p.SpanID().String()
	}
	ev.Contexts["trace"] = tc

	// Tags: what issues are searched and broken down by.
	tag := func(name, key string) {
		if v, ok := get(key); ok && v != "" {
			ev.Tags[name] = truncateTag(v)
		}
	}
	tag("endpoint", "http.route")
	tag("method", "http.request.method")
	tag("request_id", "request_id")
	tag("agent.name", "agent.name")
	tag("monitor.id", "monitor.id")
	tag("company", "company")
	tag("industry", "industry")
	if e.cfg.Environment != "" {
		ev.Tags["environment"] = truncateTag(e.cfg.Environment)
	}
	if e.cfg.Release != "" {
		ev.Tags["release"] = truncateTag(e.cfg.Release)
	}
	if timeout {
		ev.Tags["timeout"] = "true"
	}

	// The user: an opaque ID and a tier, never an email or an IP address.
	if id, ok := get("user.id"); ok {
		ev.User.ID = id
	}
	if tier, ok := get("user.tier"); ok {
		ev.User.Data = map[string]string{"tier": tier}
	}

	// Contexts: agent, monitor, request.
	addContext := func(name string, fields map[string]string) {
		c := sentry.Context{}
		for field, key := range fields {
			if v, ok := value(key); ok {
				c[field] = v
			}
		}
		if len(c) > 0 {
			ev.Contexts[name] = c
		}
	}
	if _, ok := get("agent.name"); ok {
		addContext("agent", map[string]string{"name": "agent.name", "data_sources": "agent.data_sources", "timeout": "agent.timeout"})
	}
	if _, ok := get("monitor.id"); ok {
		addContext("monitor", map[string]string{"id": "monitor.id", "company": "company", "industry": "industry", "error_count": "monitor.error_count"})
		if c := ev.Contexts["monitor"]; c != nil {
			for field, key := range map[string]string{"company": "monitor.company", "industry": "monitor.industry"} {
				if _, ok := c[field]; !ok {
					if v, ok := value(key); ok {
						c[field] = v
					}
				}
			}
		}
	}
	if method, ok := get("http.request.method"); ok {
		req := sentry.Context{"method": method}
		r := &sentry.Request{Method: method}
		if u := requestURL(line); u != "" {
			u, _ = sc.Attr("url.full", u)
			req["url"], r.URL = u, u
		}
		if code, ok := value("http.response.status_code"); ok {
			req["status_code"] = code
			ev.Contexts["response"] = sentry.Context{"status_code": code}
		}
		ev.Contexts["request"] = req
		ev.Request = r
	}

	// The resource says which service and deployment failed, as Sentry's
	// OpenTelemetry integrations report it.
	if res := x.span.Resource(); res != nil && res.Len() > 0 {
		r := make(map[string]any, res.Len())
		for _, kv := range res.Attributes() {
			r[string(kv.Key)] = scrubbedValue(sc, kv)
		}
		ev.Contexts["otel"] = sentry.Context{"resource": r}
	}

	crumbsOut, dropped := selectCrumbs(crumbs, x, e.cfg.MaxBreadcrumbs)
	if dropped > 0 {
		e.stats.breadcrumbsDropped.Add(uint64(dropped))
	}
	if len(crumbsOut) > 0 {
		ev.Breadcrumbs = crumbsOut
	}
	ev.Fingerprint = e.fp.fingerprint(get)
	return ev
}

// isTimeout reports whether an exception is context.DeadlineExceeded, as
// such or wrapped.
func isTimeout(typ, msg string) bool {
	const text = "context deadline exceeded"
	return typ == "context.deadlineExceededError" || msg == text || strings.HasSuffix(msg, ": "+text)
}

// requestURL rebuilds the request URL from the server span's attributes:
// url.full when the instrumentation records it, else scheme, host, port,
// path and query (the parts otelhttp records). The caller scrubs it.
func requestURL(line []sdktrace.ReadOnlySpan) string {
	get := func(k attribute.Key) string {
		v, ok := lookupAttr(line, k)
		if !ok {
			return ""
		}
		return v.Emit()
	}
	if u := get("url.full"); u != "" {
		return u
	}
	path := get("url.path")
	if path == "" {
		return ""
	}
	u := path
	if host := get("server.address"); host != "" {
		if port := get("server.port"); port != "" {
			host += ":" + port
		}
		scheme := get("url.scheme")
		if scheme == "" {
			scheme = "http"
		}
		u = scheme + "://" + host + path
	}
	if q := get("url.query"); q != "" {
		u += "?" + q
	}
	return u
}

// sentryOp is the span's operation as Sentry names them: sentry.op when set,
// else inferred from the semantic conventions, else the span's name.
func sentryOp(s sdktrace.ReadOnlySpan) string {
	var method, db, rpc, msg bool
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case "sentry.op":
			return kv.Value.Emit()
		case "http.request.method":
			method = true
		case "db.system.name", "db.system":
			db = true
		case "rpc.system":
			rpc = true
		case "messaging.system":
			msg = true
		}
	}
	switch {
	case method && s.SpanKind() == trace.SpanKindServer:
		return "http.server"
	case method && s.SpanKind() == trace.SpanKindClient:
		return "http.client"
	case db:
		return "db"
	case rpc:
		return "rpc"
	case msg:
		return "queue.process"
	}
	return s.Name()
}

// sentryStatus maps the span's status to Sentry's span status names.
func sentryStatus(s sdktrace.ReadOnlySpan, timeout bool) string {
	code := 0
	for _, kv := range s.Attributes() {
		if kv.Key == "http.response.status_code" {
			code = int(kv.Value.AsInt64())
		}
	}
	switch {
	case timeout:
		return "deadline_exceeded"
	case code >= 400:
		return httpSpanStatus(code)
	case s.Status().Code == codes.Error:
		return "internal_error"
	case s.Status().Code == codes.Ok || code >= 100:
		return "ok"
	}
	return "unknown"
}

func httpSpanStatus(code int) string {
	switch code {
	case 400:
		return "invalid_argument"
	case 401:
		return "unauthenticated"
	case 403:
		return "permission_denied"
	case 404:
		return "not_found"
	case 409:
		return "already_exists"
	case 429:
		return "resource_exhausted"
	case 499:
		return "cancelled"
	case 501:
		return "unimplemented"
	case 503:
		return "unavailable"
	case 504:
		return "deadline_exceeded"
	}
	if code >= 500 {
		return "internal_error"
	}
	return "invalid_argument"
}

// truncateTag keeps a tag value within Sentry's 200-character limit, on a
// rune boundary.
func truncateTag(v string) string {
	const max = 200
	if len(v) <= max {
		return v
	}
	cut := max
	for cut > 0 && !utf8RuneStart(v[cut]) {
		cut--
	}
	return v[:cut]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
