package telemetry

import (
	"context"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

const unknownRelease = "unknown"

// processRelease is detectRelease, once per process: the binary and its
// checkout do not change under a running process, and the git fallback
// costs a subprocess — too much for every Setup of a test suite.
var processRelease = sync.OnceValue(detectRelease)

// detectRelease finds the release when neither an option nor SENTRY_RELEASE
// names one: the VCS revision stamped into the binary by `go build`, else the
// HEAD of the git checkout the process runs in (so `go run` works), else
// "unknown".
func detectRelease() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		if r := releaseFromBuildInfo(info); r != "" {
			return r
		}
	}
	if r := releaseFromGit(); r != "" {
		return r
	}
	return unknownRelease
}

// releaseFromBuildInfo returns the short VCS revision, with "-dirty" when the
// build had uncommitted changes; "" when the binary carries no revision
// (`go run`, -buildvcs=false, a build outside a checkout).
func releaseFromBuildInfo(info *debug.BuildInfo) string {
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return ""
	}
	if len(rev) > 7 {
		rev = rev[:7]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// releaseFromGit asks git for HEAD's short SHA, bounded in time so a hung
// git never delays start-up by more than a second.
func releaseFromGit() string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
