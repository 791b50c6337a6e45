package telemetry

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// ConsoleExporter writes spans as a readable tree, one block per trace and
// batch: each span on a line under its parent with its duration, status and
// attributes, its events below it, errors marked with "!". It is the default
// exporter without a DSN, so `go run ./cmd/app` shows what the pipeline would
// ship. Like every exporter it sits behind the redaction stage.
//
// Spans of one trace that arrive in different batches print as separate
// blocks; a span whose parent is not in the block is shown at the top level
// with "↳" and its parent's ID. Safe for concurrent use.
type ConsoleExporter struct {
	mu       sync.Mutex
	w        io.Writer
	shutdown bool
}

// NewConsoleExporter returns a console exporter writing to w.
func NewConsoleExporter(w io.Writer) *ConsoleExporter { return &ConsoleExporter{w: w} }

// consoleMaxValue truncates long attribute values so one span stays readable.
const consoleMaxValue = 120

// consoleSkip lists attributes that are noise on a terminal.
var consoleSkip = map[attribute.Key]bool{
	"network.protocol.version": true, "network.peer.address": true, "network.peer.port": true,
	"server.port": true, "user_agent.original": true, "client.address": true,
	"sentry.environment": true, "sentry.release": true, "http.request.body.size": true,
	"http.response.body.size": true,
}

// ExportSpans writes spans grouped by trace. It returns an error only when
// the writer fails.
func (e *ConsoleExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shutdown {
		return nil
	}
	bw := bufio.NewWriter(e.w)
	for _, group := range groupByTrace(spans) {
		writeTrace(bw, group)
	}
	return bw.Flush()
}

// Shutdown stops the exporter; later batches are ignored.
func (e *ConsoleExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	e.shutdown = true
	e.mu.Unlock()
	return nil
}

func groupByTrace(spans []sdktrace.ReadOnlySpan) [][]sdktrace.ReadOnlySpan {
	idx := map[trace.TraceID]int{}
	var groups [][]sdktrace.ReadOnlySpan
	for _, s := range spans {
		id := s.SpanContext().TraceID()
		i, ok := idx[id]
		if !ok {
			i = len(groups)
			idx[id] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], s)
	}
	return groups
}

func writeTrace(w *bufio.Writer, spans []sdktrace.ReadOnlySpan) {
	present := make(map[trace.SpanID]bool, len(spans))
	children := make(map[trace.SpanID][]sdktrace.ReadOnlySpan, len(spans))
	for _, s := range spans {
		present[s.SpanContext().SpanID()] = true
	}
	var roots []sdktrace.ReadOnlySpan
	for _, s := range spans {
		p := s.Parent().SpanID()
		if s.Parent().IsValid() && present[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	byStart := func(ss []sdktrace.ReadOnlySpan) {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].StartTime().Before(ss[j].StartTime()) })
	}
	byStart(roots)
	fmt.Fprintf(w, "trace %s\n", spans[0].SpanContext().TraceID())
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		writeSpan(w, s, depth, depth == 1 && s.Parent().IsValid())
		kids := children[s.SpanContext().SpanID()]
		byStart(kids)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 1)
	}
}

func writeSpan(w *bufio.Writer, s sdktrace.ReadOnlySpan, depth int, orphan bool) {
	indent := strings.Repeat("  ", depth)
	mark := ""
	if s.Status().Code == codes.Error {
		mark = "! "
	}
	fmt.Fprintf(w, "%s%s%s  %s  %s", indent, mark, s.Name(), formatDuration(s.EndTime().Sub(s.StartTime())), kindName(s.SpanKind()))
	switch st := s.Status(); st.Code {
	case codes.Error:
		fmt.Fprintf(w, "  ERROR")
		if st.Description != "" {
			fmt.Fprintf(w, " %q", truncate(st.Description))
		}
	case codes.Ok:
		fmt.Fprintf(w, "  OK")
	}
	if orphan {
		fmt.Fprintf(w, "  ↳ parent %s", s.Parent().SpanID())
	}
	if !s.SpanContext().IsSampled() {
		fmt.Fprintf(w, "  (unsampled)")
	}
	w.WriteByte('\n')
	if attrs := formatAttrs(s.Attributes()); attrs != "" {
		fmt.Fprintf(w, "%s    %s\n", indent, attrs)
	}
	for _, ev := range s.Events() {
		bullet := "•"
		if ev.Name == "exception" {
			bullet = "!"
		}
		fmt.Fprintf(w, "%s    %s %s +%s", indent, bullet, ev.Name, formatDuration(ev.Time.Sub(s.StartTime())))
		if a := formatAttrs(ev.Attributes); a != "" {
			fmt.Fprintf(w, "  %s", a)
		}
		w.WriteByte('\n')
	}
}

func formatAttrs(kvs []attribute.KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		if consoleSkip[kv.Key] || kv.Key == "exception.stacktrace" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(kv.Key))
		b.WriteByte('=')
		v := kv.Value.Emit()
		if kv.Value.Type() == attribute.STRING && strings.ContainsAny(v, " \t\n\"") {
			v = fmt.Sprintf("%q", truncate(v))
		} else {
			v = truncate(v)
		}
		b.WriteString(v)
	}
	return b.String()
}

func truncate(s string) string {
	if len(s) <= consoleMaxValue {
		return s
	}
	cut := consoleMaxValue
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

func kindName(k trace.SpanKind) string {
	switch k {
	case trace.SpanKindServer:
		return "server"
	case trace.SpanKindClient:
		return "client"
	case trace.SpanKindProducer:
		return "producer"
	case trace.SpanKindConsumer:
		return "consumer"
	}
	return "internal"
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
