package processors

import (
	"sort"
	"strings"
	"time"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// crumb is a breadcrumb of the local trace with what is needed to select it
// for one event: its time, and which span event it came from (so an event
// does not list its own exception).
type crumb struct {
	at    time.Time
	seq   int // tie-breaker: order of discovery
	span  trace.SpanID
	event int // index in the span's events, -1 for span start/end
	b     *sentry.Breadcrumb
}

// breadcrumbs returns every breadcrumb of the local trace in time order,
// scrubbed: for each span its start, its end and its events. Category is the
// prefix of the event or span name before its first dot ("agent.tool_call" →
// "agent"); HTTP and database spans get Sentry's "http" and "query" types.
// An event's data is its attributes (the stack of an exception excepted,
// which would crowd the breadcrumb out); a span's data is its ID, duration
// and status.
func (lt *localTrace) breadcrumbs(sc Scrubber) []crumb {
	str := func(s string) string { out, _ := sc.String(s); return out }
	var cs []crumb
	add := func(at time.Time, span trace.SpanID, event int, b *sentry.Breadcrumb) {
		b.Timestamp = at
		cs = append(cs, crumb{at: at, seq: len(cs), span: span, event: event, b: b})
	}
	for _, s := range lt.spans {
		sid := s.SpanContext().SpanID()
		name := str(s.Name())
		typ, cat := spanCrumbKind(s, name)
		add(s.StartTime(), sid, -1, &sentry.Breadcrumb{
			Type: typ, Category: cat, Level: sentry.LevelInfo,
			Message: "start " + name,
			Data:    map[string]any{"span_id": sid.String()},
		})
		if end := s.EndTime(); !end.IsZero() {
			level, status := sentry.LevelInfo, "ok"
			if s.Status().Code == codes.Error {
				level, status = sentry.LevelError, "error"
			}
			data := map[string]any{
				"span_id":     sid.String(),
				"duration_ms": float64(end.Sub(s.StartTime()).Microseconds()) / 1000,
				"status":      status,
			}
			for _, kv := range s.Attributes() {
				if kv.Key == "http.response.status_code" {
					data["status_code"] = kv.Value.AsInterface()
				}
			}
			add(end, sid, -1, &sentry.Breadcrumb{Type: typ, Category: cat, Level: level, Message: "end " + name, Data: data})
		}
		for i, ev := range s.Events() {
			add(ev.Time, sid, i, eventCrumb(sc, ev))
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if !cs[i].at.Equal(cs[j].at) {
			return cs[i].at.Before(cs[j].at)
		}
		return cs[i].seq < cs[j].seq
	})
	return cs
}

func eventCrumb(sc Scrubber, ev sdktrace.Event) *sentry.Breadcrumb {
	name, _ := sc.String(ev.Name)
	b := &sentry.Breadcrumb{Type: "default", Category: namePrefix(name), Level: sentry.LevelInfo, Message: name}
	if ev.Name == exceptionEvent {
		b.Type, b.Category, b.Level = "error", "exception", sentry.LevelError
	}
	var typ, msg string
	for _, kv := range ev.Attributes {
		switch kv.Key {
		case "exception.stacktrace":
			continue
		case "exception.type":
			typ, _ = sc.String(kv.Value.Emit())
		case "exception.message":
			msg, _ = sc.String(kv.Value.Emit())
		case "level", "log.level", "severity", "log.severity":
			b.Level = crumbLevel(kv.Value.Emit(), b.Level)
		}
		if b.Data == nil {
			b.Data = make(map[string]any, len(ev.Attributes))
		}
		b.Data[string(kv.Key)] = scrubbedValue(sc, kv)
	}
	if ev.Name == exceptionEvent {
		b.Message = strings.TrimPrefix(typ+": "+msg, ": ")
	}
	return b
}

func crumbLevel(v string, def sentry.Level) sentry.Level {
	switch strings.ToLower(v) {
	case "debug", "trace":
		return sentry.LevelDebug
	case "info", "information":
		return sentry.LevelInfo
	case "warn", "warning":
		return sentry.LevelWarning
	case "error":
		return sentry.LevelError
	case "fatal", "critical":
		return sentry.LevelFatal
	}
	return def
}

// spanCrumbKind returns the breadcrumb type and category of a span's start
// and end.
func spanCrumbKind(s sdktrace.ReadOnlySpan, name string) (typ, category string) {
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case "http.request.method":
			return "http", "http"
		case "db.system.name", "db.system":
			return "query", "db"
		}
	}
	return "default", namePrefix(name)
}

// namePrefix is the part of a name before its first dot or space, or the
// name itself: "agent.tool_call" → "agent".
func namePrefix(name string) string {
	if i := strings.IndexAny(name, ". "); i > 0 {
		return name[:i]
	}
	return name
}

// select returns, for the event of exception x, the breadcrumbs at or before
// its time — except x's own exception event — keeping the most recent max.
// It returns how many it had to leave out.
func selectCrumbs(all []crumb, x *exception, max int) ([]*sentry.Breadcrumb, int) {
	sid := x.span.SpanContext().SpanID()
	out := make([]*sentry.Breadcrumb, 0, min(len(all), max))
	dropped := 0
	// Walk backwards from the error so the cap keeps the latest.
	end := sort.Search(len(all), func(i int) bool { return all[i].at.After(x.time) })
	for i := end - 1; i >= 0; i-- {
		c := all[i]
		if c.span == sid && c.event == x.event {
			continue
		}
		if len(out) == max {
			dropped++
			continue
		}
		out = append(out, copyCrumb(c.b))
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, dropped
}

// copyCrumb gives each event its own breadcrumbs: sentry-go serializes them
// later, on another goroutine, and BeforeSend rewrites them in place.
func copyCrumb(b *sentry.Breadcrumb) *sentry.Breadcrumb {
	c := *b
	if b.Data != nil {
		c.Data = make(map[string]any, len(b.Data))
		for k, v := range b.Data {
			if ss, ok := v.([]string); ok {
				v = append([]string(nil), ss...)
			}
			c.Data[k] = v
		}
	}
	return &c
}

// scrubbedValue is an attribute's value for an event: strings (and string
// slices) through the scrubber with their key, other kinds as they are.
func scrubbedValue(sc Scrubber, kv attribute.KeyValue) any {
	switch kv.Value.Type() {
	case attribute.STRING:
		v, _ := sc.Attr(string(kv.Key), kv.Value.AsString())
		return v
	case attribute.STRINGSLICE:
		in := kv.Value.AsStringSlice()
		out := make([]string, len(in))
		for i, s := range in {
			out[i], _ = sc.Attr(string(kv.Key), s)
		}
		return out
	case attribute.INT64:
		return scrubInt(sc, string(kv.Key), kv.Value.AsInt64())
	case attribute.INT64SLICE:
		in := kv.Value.AsInt64Slice()
		out := make([]any, len(in))
		for i, v := range in {
			out[i] = scrubInt(sc, string(kv.Key), v)
		}
		return out
	}
	return kv.Value.AsInterface()
}
