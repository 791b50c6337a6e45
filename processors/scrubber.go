package processors

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/getsentry/sentry-go"
)

// A Scrubber redacts text before it leaves the process. *redact.Engine
// satisfies it; the errors stage and the Sentry BeforeSend hook take one so
// that every string of a Sentry event goes through the same engine as the
// spans do.
//
// Implementations must be safe for concurrent use, must not retain their
// arguments, and must be idempotent: scrubbing scrubbed text changes nothing
// (events are scrubbed once while built and once more in BeforeSend).
type Scrubber interface {
	// String redacts free text (messages, stack frames) and reports whether
	// it changed anything.
	String(s string) (string, bool)
	// Attr redacts the value of the attribute or field named key; key-based
	// rules (password, token, …) apply as well as the text rules.
	Attr(key, value string) (string, bool)
}

// An IntScrubber also redacts integers: a card number typed as a number, a
// value under a secret key. *redact.Engine is one. Scrubbers that are not
// have integers checked as text instead (see scrubInt).
type IntScrubber interface {
	Int(key string, v int64) (string, bool)
}

// scrubInt returns v, or the placeholder string that replaces it.
func scrubInt(s Scrubber, key string, v int64) any {
	if is, ok := s.(IntScrubber); ok {
		if out, changed := is.Int(key, v); changed {
			return out
		}
		return v
	}
	if out, changed := s.Attr(key, strconv.FormatInt(v, 10)); changed {
		return out
	}
	return v
}

// ScrubEvent runs every string an event carries to Sentry through s: message,
// transaction, exception types, values and frames, thread frames,
// breadcrumbs (message, category, data), tags, user, request, contexts,
// fingerprint, server name and text attachments. The user's email and IP
// address are removed outright (the pipeline never sends them), as are cookies.
// It modifies e in place and returns it, so it can serve as (part of) a
// BeforeSend hook; a nil event is returned as is.
//
// Left alone on purpose: identifiers that are safe to keep and that a
// pattern rule could mangle (event ID, contexts.trace IDs), the SDK's own
// metadata (sdk, modules, platform, timestamps) and numbers.
func ScrubEvent(s Scrubber, e *sentry.Event) *sentry.Event {
	if e == nil {
		return nil
	}
	str := func(v string) string {
		if v == "" {
			return v
		}
		out, _ := s.String(v)
		return out
	}
	attr := func(k, v string) string {
		if v == "" {
			return v
		}
		out, _ := s.Attr(k, v)
		return out
	}
	sv := valueScrubber{attr: attr, num: func(k string, v int64) any { return scrubInt(s, k, v) }}

	e.Message = str(e.Message)
	e.Transaction = str(e.Transaction)
	e.ServerName = str(e.ServerName)
	e.Logger = str(e.Logger)
	e.Dist = str(e.Dist)
	for i, f := range e.Fingerprint {
		e.Fingerprint[i] = str(f)
	}
	for i := range e.Exception {
		x := &e.Exception[i]
		x.Type, x.Value, x.Module = str(x.Type), str(x.Value), str(x.Module)
		scrubStacktrace(str, sv, x.Stacktrace)
		if x.Mechanism != nil {
			x.Mechanism.Description = str(x.Mechanism.Description)
			x.Mechanism.Data = sv.scrubMap(x.Mechanism.Data)
		}
	}
	for i := range e.Threads {
		e.Threads[i].Name = str(e.Threads[i].Name)
		scrubStacktrace(str, sv, e.Threads[i].Stacktrace)
	}
	for _, b := range e.Breadcrumbs {
		if b == nil {
			continue
		}
		b.Message, b.Category = str(b.Message), str(b.Category)
		b.Data = sv.scrubMap(b.Data)
	}
	if len(e.Tags) > 0 {
		tags := make(map[string]string, len(e.Tags))
		for k, v := range e.Tags {
			tags[str(k)] = attr(k, v)
		}
		e.Tags = tags
	}
	e.User.Email, e.User.IPAddress = "", ""
	e.User.ID = attr("user.id", e.User.ID)
	e.User.Username = attr("user.name", e.User.Username)
	e.User.Name = attr("user.full_name", e.User.Name)
	for k, v := range e.User.Data {
		e.User.Data[k] = attr(k, v)
	}
	if r := e.Request; r != nil {
		r.URL = attr("url.full", r.URL)
		r.Method = str(r.Method)
		r.Data = str(r.Data)
		r.QueryString = attr("url.query", r.QueryString)
		r.Cookies = ""
		for k, v := range r.Headers {
			r.Headers[k] = attr(k, v)
		}
		for k, v := range r.Env {
			r.Env[k] = attr(k, v)
		}
	}
	for name, c := range e.Contexts {
		if name == "trace" {
			sv.scrubTraceContext(c)
			continue
		}
		e.Contexts[name] = sv.scrubMap(c)
	}
	for _, a := range e.Attachments {
		if a != nil && textual(a.ContentType) {
			a.Payload = []byte(str(string(a.Payload)))
		}
	}
	return e
}

func scrubStacktrace(str func(string) string, sv valueScrubber, st *sentry.Stacktrace) {
	if st == nil {
		return
	}
	for i := range st.Frames {
		f := &st.Frames[i]
		f.Function, f.Module, f.Symbol = str(f.Function), str(f.Module), str(f.Symbol)
		f.Filename, f.AbsPath, f.Package = str(f.Filename), str(f.AbsPath), str(f.Package)
		f.ContextLine = str(f.ContextLine)
		for j := range f.PreContext {
			f.PreContext[j] = str(f.PreContext[j])
		}
		for j := range f.PostContext {
			f.PostContext[j] = str(f.PostContext[j])
		}
		f.Vars = sv.scrubMap(f.Vars)
	}
}

// traceIDKeys are the contexts.trace fields that hold hex identifiers. A
// pattern rule must never rewrite them: the event would lose its trace.
var traceIDKeys = map[string]int{"trace_id": 32, "span_id": 16, "parent_span_id": 16}

func (sv valueScrubber) scrubTraceContext(c sentry.Context) {
	for k, v := range c {
		if n, ok := traceIDKeys[k]; ok {
			if s, isStr := v.(string); isStr && len(s) == n && isHex(s) {
				continue
			}
		}
		c[k] = sv.scrubValue(k, v)
	}
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// valueScrubber scrubs the values of generic maps (contexts, breadcrumb
// data): strings with their key, integers as numbers that may be card
// numbers or sit under a secret key.
type valueScrubber struct {
	attr func(k, v string) string
	num  func(k string, v int64) any
}

func (sv valueScrubber) scrubMap(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = sv.scrubValue(k, v)
	}
	return m
}

// scrubValue walks v and scrubs every string and integer it finds under
// key. Values of types it does not know (structs a library put into a
// context) are turned into their JSON form first, so no string can hide
// inside them.
func (sv valueScrubber) scrubValue(key string, v any) any {
	switch x := v.(type) {
	case nil, bool, float32, json.Number:
		return v
	case float64:
		// JSON numbers decode as float64; an integral one may be a card.
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			if out := sv.num(key, int64(x)); out != int64(x) {
				return out
			}
		}
		return v
	case int:
		return sv.num(key, int64(x))
	case int8, int16, int32, uint8, uint16, uint32:
		return v // too small to be a card number
	case int64:
		return sv.num(key, x)
	case uint, uint64:
		return sv.scrubValue(key, fmt.Sprint(x))
	case string:
		return sv.attr(key, x)
	case []string:
		for i := range x {
			x[i] = sv.attr(key, x[i])
		}
		return x
	case map[string]string:
		for k, s := range x {
			x[k] = sv.attr(k, s)
		}
		return x
	case map[string]any:
		return sv.scrubMap(x)
	case []any:
		for i := range x {
			x[i] = sv.scrubValue(key, x[i])
		}
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Unserializable values never reach Sentry either (the SDK fails
		// the same way); drop them rather than guess.
		return nil
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil
	}
	return sv.scrubValue(key, generic)
}

func textual(contentType string) bool {
	ct := strings.ToLower(contentType)
	return ct == "" || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "xml")
}
