package processors

import (
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// exception is one span's error, as the worker sees it.
type exception struct {
	span  sdktrace.ReadOnlySpan
	event int // index of the exception event in span.Events()
	typ   string
	msg   string
	stack string
	time  time.Time
	dup   bool // collapsed into a deeper span's event
}

// exceptions returns one exception per span that has an exception event:
// the span's last, which is the one that made it fail (earlier ones, of
// retries for example, become breadcrumbs). Two kinds of events the SDK
// records by itself are looked through:
//   - when a panic unwinds through span.End, the SDK records it again
//     (exception.type "string", no stack); a "panic" event with the same
//     message — Recover's, with the full stack — is preferred to it;
//   - http.ErrAbortHandler is net/http's way to abort a response, not a
//     failure: such events are ignored.
func (lt *localTrace) exceptions() []exception {
	var xs []exception
	for _, s := range lt.spans {
		var cands []exception
		for i, ev := range s.Events() {
			if ev.Name != exceptionEvent {
				continue
			}
			x := exception{span: s, event: i, time: ev.Time}
			for _, kv := range ev.Attributes {
				switch kv.Key {
				case "exception.type":
					x.typ = kv.Value.Emit()
				case "exception.message":
					x.msg = kv.Value.Emit()
				case "exception.stacktrace":
					x.stack = kv.Value.Emit()
				}
			}
			if x.msg == abortHandlerMessage {
				continue
			}
			cands = append(cands, x)
		}
		if len(cands) == 0 {
			continue
		}
		x := cands[len(cands)-1]
		if x.typ != panicType {
			for _, c := range cands {
				if c.typ == panicType && c.msg == x.msg {
					x = c
				}
			}
		}
		xs = append(xs, x)
	}
	return xs
}

// abortHandlerMessage is http.ErrAbortHandler's text.
const abortHandlerMessage = "net/http: abort Handler"

// collapseDuplicates marks as duplicates the exceptions that repeat the
// exception of a descendant span — the same error recorded again at every
// level as it bubbles up — so that only the deepest span's event is sent. It
// returns how many it marked.
//
// An ancestor's exception repeats a descendant's when both have the same type
// and message, or when the ancestor's message wraps the descendant's the way
// fmt.Errorf("…: %w") and errors.Join do. Ancestry follows known parent
// links only: if a span between the two was lost from the history, both are
// sent.
func collapseDuplicates(lt *localTrace, xs []exception) int {
	n := 0
	for i := range xs {
		for j := range xs {
			if i == j || xs[i].dup {
				continue
			}
			if repeats(&xs[i], &xs[j]) && lt.isAncestor(xs[i].span, xs[j].span) {
				xs[i].dup = true
				n++
			}
		}
	}
	return n
}

// repeats reports whether outer (recorded on an ancestor) is the same error
// as inner, or wraps it.
func repeats(outer, inner *exception) bool {
	if outer.msg == inner.msg {
		return outer.typ == inner.typ
	}
	if inner.msg == "" {
		return false
	}
	for _, line := range strings.Split(outer.msg, "\n") {
		if line == inner.msg || strings.HasSuffix(line, ": "+inner.msg) {
			return true
		}
	}
	return false
}
