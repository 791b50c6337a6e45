package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoSentryImportsInTheService enforces the project's premise: the
// service and its command use only the OpenTelemetry API; everything Sentry
// lives behind telemetry.Setup. Tests included — a test importing sentry-go
// would be the first step of the service depending on it.
func TestNoSentryImportsInTheService(t *testing.T) {
	fset := token.NewFileSet()
	parsed := 0
	for _, root := range []string{"../../app", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			parsed++
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if strings.Contains(p, sentryModule) {
					t.Errorf("%s imports %s: app/ and cmd/ must use only the OpenTelemetry API", fset.Position(imp.Pos()), p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walking %s: %v", root, err)
		}
	}
	if parsed < 10 {
		t.Fatalf("parsed only %d files: is the test running from cmd/app?", parsed)
	}
}

// sentryModule is spelled in two parts so that this file, which names it to
// forbid it, does not itself show up in a grep for the import path.
const sentryModule = "getsentry/" + "sentry-go"
