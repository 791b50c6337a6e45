package processors

import (
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

var testInApp = inAppPrefixes([]string{testModule})

func TestParseGoStackFromDebugStack(t *testing.T) {
	frames := parseGoStack(string(debug.Stack()), testInApp)
	if len(frames) < 2 {
		t.Fatalf("frames = %+v", frames)
	}
	top := frames[len(frames)-1]
	if top.Function != "TestParseGoStackFromDebugStack" || top.Module != testModule+"/processors" || !top.InApp ||
		top.Filename != "processors/stacktrace_test.go" || top.Lineno == 0 || !strings.HasPrefix(top.AbsPath, "/") {
		t.Errorf("innermost frame = %+v", top)
	}
	var runner bool
	for _, f := range frames {
		if f.Module == "testing" && strings.HasPrefix(f.Function, "tRunner") {
			runner = true
			if f.InApp || f.Filename != "testing/testing.go" {
				t.Errorf("stdlib frame = %+v", f)
			}
		}
		if f.Module == "runtime/debug" {
			t.Errorf("recording frame kept: %+v", f)
		}
	}
	if !runner {
		t.Error("testing.tRunner frame missing")
	}
	if outer := frames[0]; outer.Function != "(*T).Run" && !strings.HasPrefix(outer.Function, "tRunner") {
		t.Errorf("outermost frame = %s.%s, want the goroutine's creator or its start", outer.Module, outer.Function)
	}
}

func TestParseGoStackFromOTelRecordError(t *testing.T) {
	var got sdktrace.ReadOnlySpan
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(&funcProcessor{onEnd: func(s sdktrace.ReadOnlySpan) { got = s }}))
	_, s := tp.Tracer("t").Start(context.Background(), "op")
	s.RecordError(errors.New("x"), trace.WithStackTrace(true))
	s.End()
	var stack string
	for _, kv := range got.Events()[0].Attributes {
		if kv.Key == "exception.stacktrace" {
			stack = kv.Value.AsString()
		}
	}
	frames := parseGoStack(stack, testInApp)
	if len(frames) == 0 {
		t.Fatal("no frames")
	}
	if top := frames[len(frames)-1]; top.Function != "TestParseGoStackFromOTelRecordError" {
		t.Errorf("innermost frame = %s.%s, want the caller of RecordError", top.Module, top.Function)
	}
}

func TestParseGoStackEdgeCases(t *testing.T) {
	const dump = `goroutine 7 [running]:
runtime/debug.Stack()
	/usr/local/go/src/runtime/debug/stack.go:26 +0x5e
github.com/otelsentry/otelsentry/telemetry.Recover.func1.1()
	/work/main/telemetry/recover.go:40 +0x65
panic({0x7d5e40?, 0x9a1b20?})
	/usr/local/go/src/runtime/panic.go:792 +0x132
github.com/otelsentry/otelsentry/app.(*Service).analyze(0xc000120000, {0xa1b2c0, 0xc0001a2000}, 0xc0001b4000)
	/work/main/app/handlers.go:88 +0x1d
main.main.func1[...](...)
	/work/main/cmd/app/main.go:12
gopkg.in/yaml.v3.(*decoder).unmarshal(...)
	/root/go/pkg/mod/gopkg.in/yaml.v3@v3.0.1/decode.go:500
...additional frames elided...
created by net/http.(*Server).Serve in goroutine 1
	/usr/local/go/src/net/http/server.go:3454 +0x485

goroutine 1 [chan receive]:
main.other()
	/work/main/cmd/app/main.go:99 +0x1
`
	frames := parseGoStack(dump, testInApp)
	var got []string
	for _, f := range frames {
		got = append(got, f.Module+" "+f.Function+" "+f.Filename)
	}
	want := []string{
		"net/http (*Server).Serve net/http/server.go",
		"gopkg.in/yaml v3.(*decoder).unmarshal gopkg.in/yaml/decode.go",
		"main main.func1[...] main.go",
		testModule + "/app (*Service).analyze app/handlers.go",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("frames:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !frames[2].InApp || !frames[3].InApp || frames[0].InApp || frames[1].InApp {
		t.Errorf("in_app = %v %v %v %v", frames[0].InApp, frames[1].InApp, frames[2].InApp, frames[3].InApp)
	}

	// A dump cut at 2 KiB mid-frame loses that frame, not the others.
	truncated := dump[:strings.Index(dump, "/work/main/app/handlers.go")+5]
	if fs := parseGoStack(truncated, testInApp); len(fs) != 0 {
		t.Errorf("frames of a truncated dump = %+v, want the partial frame dropped", fs)
	}
	if fs := parseGoStack("not a stack", testInApp); len(fs) != 0 {
		t.Errorf("frames of garbage = %+v", fs)
	}
	// -trimpath builds print module-relative paths.
	fs := parseGoStack("goroutine 1 [running]:\nmain.f()\n\tgithub.com/x/y/main.go:3 +0x1\n", testInApp)
	if len(fs) != 1 || fs[0].Filename != "github.com/x/y/main.go" || fs[0].AbsPath != "" {
		t.Errorf("trimpath frame = %+v", fs)
	}
}

func TestInAppPrefixes(t *testing.T) {
	for module, want := range map[string]bool{
		"main":                           true,
		testModule:                       true,
		testModule + "/app":              true,
		testModule + "x/app":             false,
		testModule + "/vendor/x.com/lib": false,
		"net/http":                       false,
	} {
		if got, _ := testInApp(module); got != want {
			t.Errorf("inApp(%q) = %v, want %v", module, got, want)
		}
	}
}
