package processors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

var liteResource = resource.NewSchemaless(attribute.String("service.name", "lite-test"))

var liteTracerOpts = []trace.TracerOption{
	trace.WithInstrumentationVersion("1.2.3"),
	trace.WithSchemaURL("https://opentelemetry.io/schemas/1.26.0"),
	trace.WithInstrumentationAttributes(attribute.String("scope.attr", "x")),
}

// litePair returns two tracers with the same sampler and limits, each at
// the head of an enrich stage that defers context attributes and a
// capture: the SDK's (the reference) and a LightProvider's.
func litePair(t *testing.T, sampler sdktrace.Sampler, limits sdktrace.SpanLimits) (ref, lite trace.Tracer, refOut, liteOut *spanRecorder) {
	t.Helper()
	refOut, liteOut = &spanRecorder{}, &spanRecorder{}
	refTP := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanLimits(limits),
		sdktrace.WithResource(liteResource), sdktrace.WithSpanProcessor(NewChain(refOut, EnrichDeferred(nil, limits))))
	chain := NewChain(liteOut, EnrichDeferred(nil, limits))
	lp := NewLightProvider(LightConfig{Sampler: sampler, Processor: chain, Resource: liteResource, Limits: limits})
	t.Cleanup(func() {
		lp.Close()
		_ = refTP.Shutdown(context.Background())
		_ = chain.Shutdown(context.Background())
	})
	return refTP.Tracer("lite", liteTracerOpts...), lp.Tracer("lite", liteTracerOpts...), refOut, liteOut
}

// A tracer asked for without a name has the SDK's default scope name.
func TestLightSpanScopeWithoutName(t *testing.T) {
	refOut, liteOut := &spanRecorder{}, &spanRecorder{}
	ref := sdktrace.NewTracerProvider(sdktrace.WithSampler(recordOnly{}), sdktrace.WithSpanProcessor(refOut))
	lp := NewLightProvider(LightConfig{Sampler: recordOnly{}, Processor: liteOut, Limits: sdktrace.NewSpanLimits()})
	for _, tp := range []trace.TracerProvider{ref, lp} {
		_, s := tp.Tracer("").Start(context.Background(), "s")
		s.End()
	}
	want, got := refOut.ended()[0].InstrumentationScope(), liteOut.ended()[0].InstrumentationScope()
	if got != want {
		t.Errorf("scope %+v, want %+v", got, want)
	}
}

// A span the sampler drops is not recorded, and reaches no processor; its
// SpanContext is the one the SDK would give it.
func TestLightProviderDrop(t *testing.T) {
	ref, lite, refOut, liteOut := litePair(t, sdktrace.NeverSample(), sdktrace.NewSpanLimits())
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{7}, SpanID: trace.SpanID{8},
		TraceFlags: 0x02, Remote: true})
	var scs []trace.SpanContext
	for _, tr := range []trace.Tracer{ref, lite} {
		ctx, s := tr.Start(trace.ContextWithRemoteSpanContext(context.Background(), remote), "dropped")
		if s.IsRecording() {
			t.Error("a dropped span records")
		}
		if got := trace.SpanFromContext(ctx).SpanContext(); !got.Equal(s.SpanContext()) {
			t.Errorf("the context holds %v, the span is %v", got, s.SpanContext())
		}
		s.End()
		scs = append(scs, s.SpanContext())
	}
	if len(refOut.ended())+len(liteOut.ended()) != 0 {
		t.Error("a dropped span reached the processor")
	}
	w, g := scs[0], scs[1]
	if g.TraceID() != remote.TraceID() || g.TraceFlags() != w.TraceFlags() || g.IsRemote() || !g.SpanID().IsValid() {
		t.Errorf("dropped span context %+v, want the SDK's %+v (span ID aside)", g, w)
	}
}

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// liteScripts are the calls made on both tracers. Every time is given, so
// that the two runs can be compared exactly.
var liteScripts = []struct {
	name string
	run  func(ctx context.Context, tr trace.Tracer)
}{
	{"plain", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "plain", trace.WithTimestamp(at(0)), trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.route", "/a"), attribute.Int("n", 1), attribute.Bool("b", true)))
		s.SetAttributes(attribute.Float64("f", 1.5), attribute.Int64Slice("is", []int64{1, 2}))
		s.End(trace.WithTimestamp(at(5)))
	}},
	{"duplicate keys", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "dupes", trace.WithTimestamp(at(0)), trace.WithAttributes(attribute.Int("a", 1)))
		s.SetAttributes(attribute.Int("a", 2), attribute.Int("b", 1))
		s.SetAttributes(attribute.Int("c", 1), attribute.Int("a", 3))
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"past the attribute count limit", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "many", trace.WithTimestamp(at(0)),
			trace.WithAttributes(attribute.Int("k1", 1), attribute.Int("k2", 2), attribute.Int("k3", 3)))
		s.SetAttributes(attribute.Int("k4", 4), attribute.Int("k5", 5), attribute.Int("k1", 10))
		s.SetAttributes(attribute.Int("k6", 6), attribute.Int("k2", 20), attribute.Int("k6", 60))
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"long and composite values", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "long", trace.WithTimestamp(at(0)), trace.WithAttributes(
			attribute.String("long", strings.Repeat("x", 40)),
			attribute.String("utf8", strings.Repeat("é", 10)),
			attribute.StringSlice("ss", []string{"short", strings.Repeat("y", 30)})))
		s.SetAttributes(attribute.Slice("slice", attribute.StringValue("a"), attribute.IntValue(1)),
			attribute.Map("map", attribute.String("k", "v"), attribute.String("k", "w")),
			attribute.ByteSlice("bytes", []byte(strings.Repeat("z", 20))))
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"more attributes than the as-is path takes", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "wide", trace.WithTimestamp(at(0)))
		for i := range maxPlainAttributes + 8 {
			s.SetAttributes(attribute.Int(fmt.Sprint("k", i%(maxPlainAttributes+4)), i))
		}
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"a long string", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "long string", trace.WithTimestamp(at(0)), trace.WithAttributes(
			attribute.String("short", "12345678"), attribute.String("long", "123456789")))
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"a long string in a slice", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "long slice", trace.WithTimestamp(at(0)), trace.WithAttributes(
			attribute.StringSlice("ss", []string{"12345678", "123456789"})))
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"a nested value in an event", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "nested event", trace.WithTimestamp(at(0)))
		s.AddEvent("e", trace.WithTimestamp(at(1)), trace.WithAttributes(
			attribute.Map("m", attribute.Int("x", 1), attribute.Int("x", 2))))
		s.End(trace.WithTimestamp(at(2)))
	}},
	{"duplicate keys in an event", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "event dupes", trace.WithTimestamp(at(0)))
		s.AddEvent("e", trace.WithTimestamp(at(1)), trace.WithAttributes(attribute.Int("x", 1), attribute.Int("x", 2)))
		s.End(trace.WithTimestamp(at(2)))
	}},
	{"invalid attribute", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "invalid", trace.WithTimestamp(at(0)), trace.WithAttributes(attribute.KeyValue{Value: attribute.IntValue(1)}))
		s.SetAttributes(attribute.Int("ok", 1))
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"events", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "events", trace.WithTimestamp(at(0)))
		s.AddEvent("e1", trace.WithTimestamp(at(1)))
		s.AddEvent("e2", trace.WithTimestamp(at(2)), trace.WithAttributes(attribute.Int("a", 1), attribute.Int("a", 2)))
		s.AddEvent("e3", trace.WithTimestamp(at(3)), trace.WithAttributes(attribute.Int("a", 1), attribute.Int("b", 2), attribute.Int("c", 3)))
		s.AddEvent("e4", trace.WithTimestamp(at(4)))
		s.AddEvent("e5", trace.WithTimestamp(at(5)), trace.WithAttributes(attribute.Map("m", attribute.Int("x", 1))))
		s.End(trace.WithTimestamp(at(6)))
	}},
	{"plain events", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "plain events", trace.WithTimestamp(at(0)))
		for i := range 4 {
			s.AddEvent(fmt.Sprint("e", i), trace.WithTimestamp(at(i+1)))
		}
		s.End(trace.WithTimestamp(at(6)))
	}},
	{"one event", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "event", trace.WithTimestamp(at(0)), trace.WithAttributes(attribute.Int("a", 1)))
		s.AddEvent("cache.miss", trace.WithTimestamp(at(1)), trace.WithAttributes(attribute.String("key", "k")))
		s.End(trace.WithTimestamp(at(2)))
	}},
	{"errors", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "errors", trace.WithTimestamp(at(0)))
		s.RecordError(nil)
		s.RecordError(fmt.Errorf("wrapped: %w", errors.New("boom")), trace.WithTimestamp(at(1)))
		s.RecordError(errors.New("with stack"), trace.WithTimestamp(at(2)), trace.WithStackTrace(true),
			trace.WithAttributes(attribute.String("extra", "x")))
		s.SetStatus(codes.Error, "failed")
		s.End(trace.WithTimestamp(at(3)))
	}},
	{"links", func(ctx context.Context, tr trace.Tracer) {
		other := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
		_, s := tr.Start(ctx, "links", trace.WithTimestamp(at(0)), trace.WithLinks(
			trace.Link{}, // empty: ignored
			trace.Link{SpanContext: other, Attributes: []attribute.KeyValue{attribute.Int("a", 1), attribute.Int("b", 2)}}))
		s.AddLink(trace.Link{SpanContext: other})
		s.AddLink(trace.Link{Attributes: []attribute.KeyValue{attribute.Int("only", 1)}})
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"status", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "status", trace.WithTimestamp(at(0)))
		s.SetStatus(codes.Error, "first")
		s.SetStatus(codes.Unset, "ignored")
		s.SetStatus(codes.Ok, "not kept")
		s.SetStatus(codes.Error, "too late")
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"error status kept", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "status2", trace.WithTimestamp(at(0)))
		s.SetStatus(codes.Error, "e1")
		s.SetStatus(codes.Error, "e2")
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"renamed, then calls after End", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "before", trace.WithTimestamp(at(0)))
		s.SetName("after")
		s.End(trace.WithTimestamp(at(1)))
		s.SetName("ignored")
		s.SetAttributes(attribute.Int("late", 1))
		s.AddEvent("late", trace.WithTimestamp(at(2)))
		s.SetStatus(codes.Error, "late")
		s.RecordError(errors.New("late"), trace.WithTimestamp(at(2)))
		s.End(trace.WithTimestamp(at(3)))
	}},
	{"a tree", func(ctx context.Context, tr trace.Tracer) {
		rctx, root := tr.Start(ctx, "root", trace.WithTimestamp(at(0)), trace.WithSpanKind(trace.SpanKindServer))
		cctx, child := tr.Start(rctx, "child", trace.WithTimestamp(at(1)), trace.WithSpanKind(trace.SpanKindClient))
		_, grand := tr.Start(cctx, "grandchild", trace.WithTimestamp(at(2)))
		grand.End(trace.WithTimestamp(at(3)))
		child.End(trace.WithTimestamp(at(4)))
		_, second := tr.Start(rctx, "second", trace.WithTimestamp(at(5)), trace.WithSpanKind(trace.SpanKind(99)))
		second.End(trace.WithTimestamp(at(6)))
		_, fresh := tr.Start(rctx, "new root", trace.WithTimestamp(at(7)), trace.WithNewRoot())
		fresh.End(trace.WithTimestamp(at(8)))
		root.End(trace.WithTimestamp(at(9)))
	}},
	{"remote parent", func(ctx context.Context, tr trace.Tracer) {
		ts, _ := trace.ParseTraceState("vendor=v1")
		remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{7}, SpanID: trace.SpanID{8},
			TraceState: ts, Remote: true})
		_, s := tr.Start(trace.ContextWithRemoteSpanContext(ctx, remote), "from remote", trace.WithTimestamp(at(0)))
		s.End(trace.WithTimestamp(at(1)))
	}},
	{"panic in End", func(ctx context.Context, tr trace.Tracer) {
		_, s := tr.Start(ctx, "panics", trace.WithTimestamp(at(0)))
		func() {
			defer func() { _ = recover() }()
			defer s.End(trace.WithTimestamp(at(1)), trace.WithStackTrace(true))
			panic(errors.New("kaboom"))
		}()
	}},
	{"context attributes", func(ctx context.Context, tr trace.Tracer) {
		ctx = ContextWithAttributes(ctx, attribute.String("request_id", "r1"), attribute.String("k1", "from context"),
			attribute.String("user.id", "u1"))
		rctx, s := tr.Start(ctx, "ctx", trace.WithTimestamp(at(0)), trace.WithAttributes(attribute.Int("k1", 1)))
		_, c := tr.Start(rctx, "ctx child", trace.WithTimestamp(at(1)), trace.WithAttributes(
			attribute.Int("k2", 2), attribute.Int("k3", 3), attribute.Int("k4", 4)))
		c.End(trace.WithTimestamp(at(2)))
		s.End(trace.WithTimestamp(at(3)))
	}},
}

// TestLightSpansReadAsTheSDKsOwn runs the same calls on a span the SDK
// records and on a light span, with the SDK's default limits (the light
// span's as-is path) and with tight ones (its replay path), and compares
// everything a processor or exporter can read.
func TestLightSpansReadAsTheSDKsOwn(t *testing.T) {
	tight := sdktrace.NewSpanLimits()
	tight.AttributeCountLimit = 4
	tight.AttributeValueLengthLimit = 8
	tight.EventCountLimit = 3
	tight.LinkCountLimit = 2
	tight.AttributePerEventCountLimit = 2
	tight.AttributePerLinkCountLimit = 1
	for _, lim := range []struct {
		name   string
		limits sdktrace.SpanLimits
	}{{"default limits", sdktrace.NewSpanLimits()}, {"tight limits", tight}} {
		for _, smp := range []sdktrace.Sampler{recordOnly{}, sdktrace.AlwaysSample()} {
			for _, sc := range liteScripts {
				t.Run(lim.name+"/"+smp.Description()+"/"+sc.name, func(t *testing.T) {
					ref, lite, refOut, liteOut := litePair(t, smp, lim.limits)
					for _, tr := range []trace.Tracer{ref, lite} {
						sc.run(context.Background(), tr) // one call site: the same stacks
					}
					want, got := refOut.ended(), liteOut.ended()
					if len(got) != len(want) || len(want) == 0 {
						t.Fatalf("%d spans ended, want %d (and more than 0)", len(got), len(want))
					}
					for i := range want {
						if _, ok := got[i].(*liteSpan); !ok {
							t.Errorf("span %q is a %T, want a light span", got[i].Name(), got[i])
						}
						compareSpans(t, want[i], got[i])
					}
					checkTree(t, want)
					checkTree(t, got)
				})
			}
		}
	}
}

// compareSpans fails t where got does not read as want. IDs differ (each
// provider makes its own); the exception.stacktrace value is only checked
// to be there.
func compareSpans(t *testing.T, want, got sdktrace.ReadOnlySpan) {
	t.Helper()
	name := want.Name()
	check := func(what string, w, g any) {
		t.Helper()
		if fmt.Sprint(w) != fmt.Sprint(g) {
			t.Errorf("%s: %s = %v, want %v", name, what, g, w)
		}
	}
	check("Name", want.Name(), got.Name())
	check("SpanKind", want.SpanKind(), got.SpanKind())
	check("StartTime", want.StartTime(), got.StartTime())
	check("EndTime", want.EndTime(), got.EndTime())
	check("Status", want.Status(), got.Status())
	check("Attributes", attrsString(want.Attributes()), attrsString(got.Attributes()))
	check("DroppedAttributes", want.DroppedAttributes(), got.DroppedAttributes())
	check("DroppedEvents", want.DroppedEvents(), got.DroppedEvents())
	check("DroppedLinks", want.DroppedLinks(), got.DroppedLinks())
	check("ChildSpanCount", want.ChildSpanCount(), got.ChildSpanCount())
	check("InstrumentationScope", want.InstrumentationScope(), got.InstrumentationScope())
	check("InstrumentationLibrary", want.InstrumentationLibrary(), got.InstrumentationLibrary()) //nolint:staticcheck // part of the interface
	check("Resource", want.Resource(), got.Resource())
	check("sampled", want.SpanContext().IsSampled(), got.SpanContext().IsSampled())
	check("TraceState", want.SpanContext().TraceState(), got.SpanContext().TraceState())
	check("Parent valid", want.Parent().IsValid(), got.Parent().IsValid())
	check("Parent remote", want.Parent().IsRemote(), got.Parent().IsRemote())
	if want.Parent().IsRemote() {
		check("Parent", want.Parent(), got.Parent())
	}
	if !got.SpanContext().IsValid() || got.SpanContext().IsRemote() {
		t.Errorf("%s: SpanContext %v, want a valid local one", name, got.SpanContext())
	}
	we, ge := want.Events(), got.Events()
	check("len(Events)", len(we), len(ge))
	if ge == nil {
		t.Errorf("%s: Events() is nil, want a slice (as the SDK's)", name)
	}
	for i := range min(len(we), len(ge)) {
		check(fmt.Sprintf("event %d Name", i), we[i].Name, ge[i].Name)
		if we[i].Name != exceptionEvent || !strings.HasPrefix(name, "panic") {
			check(fmt.Sprintf("event %d Time", i), we[i].Time, ge[i].Time)
		}
		check(fmt.Sprintf("event %d Attributes", i), attrsString(withoutStack(we[i].Attributes)), attrsString(withoutStack(ge[i].Attributes)))
		check(fmt.Sprintf("event %d has a stack", i), len(withoutStack(we[i].Attributes)) != len(we[i].Attributes),
			len(withoutStack(ge[i].Attributes)) != len(ge[i].Attributes))
		check(fmt.Sprintf("event %d DroppedAttributeCount", i), we[i].DroppedAttributeCount, ge[i].DroppedAttributeCount)
		// The stack, as the error bridge reads it: the frames that
		// recorded it cut, the same calls below.
		check(fmt.Sprintf("event %d stack frames", i), stackFrames(we[i].Attributes), stackFrames(ge[i].Attributes))
	}
	wl, gl := want.Links(), got.Links()
	check("len(Links)", len(wl), len(gl))
	for i := range min(len(wl), len(gl)) {
		check(fmt.Sprintf("link %d", i), fmt.Sprint(wl[i].SpanContext, attrsString(wl[i].Attributes), wl[i].DroppedAttributeCount),
			fmt.Sprint(gl[i].SpanContext, attrsString(gl[i].Attributes), gl[i].DroppedAttributeCount))
	}
	// What the stages of this package read without allocating is what
	// Attributes returns.
	own, ctx, limit := splitAttributes(got)
	check("splitAttributes", attrsString(got.Attributes()), attrsString(mergeContext(own, ctx, limit)))
	// Keys kept, keys the count limit drops (k5, k6 in one script), none.
	for _, kv := range append(want.Attributes(), attribute.Int("k5", 0), attribute.Int("k6", 0), attribute.String("absent", "")) {
		wv, wok := spanAttr(want, kv.Key)
		gv, gok := spanAttr(got, kv.Key)
		check("spanAttr "+string(kv.Key), fmt.Sprint(wv.Emit(), wok), fmt.Sprint(gv.Emit(), gok))
	}
}

func attrsString(kvs []attribute.KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		fmt.Fprintf(&b, "%s=%s(%s) ", kv.Key, kv.Value.Emit(), kv.Value.Type())
	}
	return b.String()
}

func withoutStack(kvs []attribute.KeyValue) []attribute.KeyValue {
	var out []attribute.KeyValue
	for _, kv := range kvs {
		if kv.Key != exceptionStacktrace {
			out = append(out, kv)
		}
	}
	return out
}

// checkTree checks that each span whose parent ended in the same run
// points at it, in the same trace.
func checkTree(t *testing.T, spans []sdktrace.ReadOnlySpan) {
	t.Helper()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	for _, s := range spans {
		if p, ok := byID[s.Parent().SpanID()]; ok {
			if p.SpanContext().TraceID() != s.SpanContext().TraceID() {
				t.Errorf("%s: trace %s, its parent %s's is %s", s.Name(), s.SpanContext().TraceID(), p.Name(), p.SpanContext().TraceID())
			}
		} else if s.Parent().IsValid() && !s.Parent().IsRemote() {
			t.Errorf("%s: parent %s did not end in this run", s.Name(), s.Parent().SpanID())
		}
	}
}

// stackFrames is the exception.stacktrace of an event's attributes as the
// error bridge turns it into Sentry frames: function and line, outermost
// first.
func stackFrames(kvs []attribute.KeyValue) string {
	for _, kv := range kvs {
		if kv.Key == exceptionStacktrace {
			var b strings.Builder
			for _, f := range parseGoStack(kv.Value.AsString(), inAppPrefixes([]string{"github.com/otelsentry/otelsentry"})) {
				fmt.Fprintf(&b, "%s.%s:%d ", f.Module, f.Function, f.Lineno)
			}
			return b.String()
		}
	}
	return ""
}

// Light spans are used from many goroutines at once, as the SDK's are:
// children started and ended concurrently, the root written to while they
// run, the ended spans read by several readers (run with -race).
func TestLightSpansConcurrently(t *testing.T) {
	_, lite, _, out := litePair(t, recordOnly{}, sdktrace.NewSpanLimits())
	ctx, root := lite.Start(ContextWithAttributes(context.Background(), attribute.String("request_id", "r")), "root")
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				cctx, c := lite.Start(ctx, "child", trace.WithAttributes(attribute.Int("worker", w)))
				_, g := lite.Start(cctx, "grandchild")
				g.AddEvent("e")
				g.End()
				c.SetAttributes(attribute.Int("i", i), attribute.Int("i", i+1))
				c.RecordError(errors.New("x"))
				c.End()
				root.SetAttributes(attribute.Int(fmt.Sprint("w", w), i))
				root.AddEvent("progress")
				_ = root.(sdktrace.ReadOnlySpan).Attributes()
			}
		})
	}
	wg.Wait()
	root.End()
	spans := out.ended()
	if len(spans) != 2*workers*each+1 {
		t.Fatalf("%d spans ended, want %d", len(spans), 2*workers*each+1)
	}
	if n := root.(sdktrace.ReadOnlySpan).ChildSpanCount(); n != workers*each {
		t.Errorf("root has %d children, want %d", n, workers*each)
	}
	for range 4 {
		wg.Go(func() {
			for _, s := range spans {
				_, _ = s.Attributes(), s.Events()
				_, _ = s.DroppedAttributes(), s.Links()
			}
		})
	}
	wg.Wait()
	for _, s := range spans {
		if s.Name() == "child" {
			if v, _ := spanAttr(s, "i"); v.AsInt64() == 0 || len(s.Attributes()) != 3 {
				t.Fatalf("child attributes %v, want worker, i (last value) and request_id", s.Attributes())
			}
		}
	}
}
