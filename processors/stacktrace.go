package processors

import (
	"path"
	"strconv"
	"strings"

	"github.com/getsentry/sentry-go"
)

// parseGoStack turns a Go goroutine dump — what runtime/debug.Stack and the
// OpenTelemetry SDK's RecordError(err, trace.WithStackTrace(true)) write —
// into Sentry frames, outermost call first as Sentry expects.
//
// Only the first goroutine is read. Frames that describe the act of
// recording rather than the failure are cut: everything up to and including
// the innermost panic(…) frame of a recovered panic, and the leading frames of
// the OpenTelemetry SDK, runtime/debug and runtime. A frame cut short by a
// truncated dump (the SDK keeps 2 KiB) is dropped. inApp decides which
// modules are the application's own.
func parseGoStack(stack string, inApp inAppFunc) []sentry.Frame {
	type raw struct {
		fn   string
		file string
		line int
	}
	var frames []raw
	lines := strings.Split(strings.TrimLeft(stack, "\n"), "\n")
	i := 0
	if len(lines) > 0 && strings.HasPrefix(lines[0], "goroutine ") {
		i = 1
	}
	for ; i < len(lines); i++ {
		fnLine := lines[i]
		if strings.TrimSpace(fnLine) == "" || strings.HasPrefix(fnLine, "goroutine ") {
			break // the end of the first goroutine
		}
		if strings.HasPrefix(fnLine, "\t") || strings.HasPrefix(fnLine, "...") {
			continue // a stray file line, or "...additional frames elided..."
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "\t") {
			continue // a truncated dump ends in a function line
		}
		i++
		file, line, ok := parseFileLine(lines[i])
		if !ok {
			continue
		}
		frames = append(frames, raw{fn: parseFuncName(fnLine), file: file, line: line})
	}

	// Cut the frames of a recovered panic's handler: the innermost panic
	// frame and everything called after it (debug.Stack, deferred funcs).
	for j, f := range frames {
		if f.fn == "panic" || f.fn == "runtime.gopanic" {
			frames = frames[j+1:]
			break
		}
	}
	// Cut the recording machinery at the top of the stack.
	for len(frames) > 0 && recorderFrame(frames[0].fn) {
		frames = frames[1:]
	}

	out := make([]sentry.Frame, len(frames))
	for j, f := range frames {
		// Go prints the innermost call first; Sentry wants it last.
		out[len(frames)-1-j] = newSentryFrame(f.fn, f.file, f.line, inApp)
	}
	return out
}

// parseFuncName strips the argument list from a dump's function line:
// "net/http.(*conn).serve(0xc000..., {0x7f..., 0xc0...})" → "net/http.(*conn).serve",
// "created by net/http.(*Server).Serve in goroutine 1" → "net/http.(*Server).Serve".
func parseFuncName(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "created by "); ok {
		if i := strings.Index(rest, " in goroutine "); i >= 0 {
			rest = rest[:i]
		}
		return rest
	}
	if !strings.HasSuffix(s, ")") {
		return s
	}
	depth := 0
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				return s[:i]
			}
		}
	}
	return s
}

// parseFileLine reads "\t/path/to/file.go:123 +0x1d".
func parseFileLine(s string) (file string, line int, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, " +0x"); i >= 0 {
		s = s[:i]
	}
	colon := strings.LastIndexByte(s, ':')
	if colon <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(s[colon+1:])
	if err != nil || n <= 0 {
		return "", 0, false
	}
	return s[:colon], n, true
}

// recorderPackages are the packages whose frames sit on top of a stack only
// because they recorded it.
var recorderPackages = []string{
	"runtime",
	"runtime/debug",
	"go.opentelemetry.io/otel/sdk/trace",
	"go.opentelemetry.io/otel/trace",
	"go.opentelemetry.io/auto/sdk",
	"github.com/getsentry/sentry-go",
}

// recorderFuncs are the functions of this package that record a stack as
// the SDK's span does (light spans, see LightProvider); a leading frame
// of one of them, or of a method of liteSpan, is cut too.
var recorderFuncs = []string{
	"github.com/otelsentry/otelsentry/processors.recordStackTrace",
	"github.com/otelsentry/otelsentry/processors.(*liteSpan).",
}

func recorderFrame(fn string) bool {
	for _, f := range recorderFuncs {
		if strings.HasPrefix(fn, f) {
			return true
		}
	}
	pkg := packageOf(fn)
	for _, p := range recorderPackages {
		if pkg == p {
			return true
		}
	}
	return false
}

// packageOf returns the import path of a qualified Go function name, the way
// the runtime prints it: the path up to the last slash, then up to the first
// dot ("github.com/x/y.(*T).M" → "github.com/x/y"). Built-ins ("panic") have
// none.
func packageOf(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	if slash < 0 {
		slash = 0
	}
	dot := strings.IndexByte(fn[slash:], '.')
	if dot < 0 {
		return ""
	}
	return fn[:slash+dot]
}

// newSentryFrame builds one frame. Module is the Go import path, function
// the rest of the qualified name. An absolute path goes to abs_path and a
// path relative to its module to filename — for the application's own code
// relative to the main module's root, which is what Sentry's code mappings
// (source links, suspect commits) match against the repository.
func newSentryFrame(fn, file string, line int, inApp inAppFunc) sentry.Frame {
	module := packageOf(fn)
	function := fn
	if module != "" {
		function = fn[len(module)+1:]
	}
	f := sentry.Frame{Function: function, Module: module, Lineno: line}
	app, rel := inApp(module)
	f.InApp = app
	switch {
	case file == "":
		f.Filename = "unknown"
	case strings.HasPrefix(file, "/") || len(file) > 2 && file[1] == ':':
		f.AbsPath = file
		base := path.Base(strings.ReplaceAll(file, `\`, "/"))
		switch {
		case app && rel == "":
			f.Filename = base
		case app:
			f.Filename = rel + "/" + base
		case module != "":
			f.Filename = module + "/" + base
		default:
			f.Filename = base
		}
	default:
		f.Filename = file // a -trimpath build: already module-relative
	}
	return f
}

// codeLocationFrame is the one frame a span's code attributes describe, for
// an exception recorded without a stack. Both the current semantic
// conventions (code.function.name fully qualified, code.file.path,
// code.line.number) and the older ones (code.namespace + code.function,
// code.filepath, code.lineno) are read. ok is false when the span names no
// function.
func codeLocationFrame(get func(key string) (string, bool), inApp inAppFunc) (sentry.Frame, bool) {
	fn, ok := get("code.function.name")
	if !ok {
		if fn, ok = get("code.function"); ok {
			if ns, nsOK := get("code.namespace"); nsOK && ns != "" && !strings.HasPrefix(fn, ns) {
				fn = ns + "." + fn
			}
		}
	}
	if !ok || fn == "" {
		return sentry.Frame{}, false
	}
	file, fileOK := get("code.file.path")
	if !fileOK {
		file, _ = get("code.filepath")
	}
	lineStr, lineOK := get("code.line.number")
	if !lineOK {
		lineStr, _ = get("code.lineno")
	}
	line, _ := strconv.Atoi(lineStr)
	return newSentryFrame(fn, file, line, inApp), true
}

// inAppFunc reports whether a module (Go import path) is the application's
// own code and, if so, the module's directory relative to the main module's
// root ("" for the root itself).
type inAppFunc func(module string) (inApp bool, rel string)

// inAppPrefixes returns the inAppFunc for the given import path prefixes
// (the main module's path, typically). Package main is always in-app.
func inAppPrefixes(prefixes []string) inAppFunc {
	return func(module string) (bool, string) {
		if module == "main" {
			return true, ""
		}
		for _, p := range prefixes {
			if p == "" {
				continue
			}
			if module == p {
				return true, ""
			}
			if rest, ok := strings.CutPrefix(module, p+"/"); ok {
				if strings.HasPrefix(rest, "vendor/") || strings.Contains(rest, "/vendor/") {
					return false, ""
				}
				return true, rest
			}
		}
		return false, ""
	}
}
