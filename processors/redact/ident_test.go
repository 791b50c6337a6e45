package redact

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestIdentSetAnswersTheSameString: a clean value seen twice is known by
// its identity from then on; a copy of it (same bytes, another string) is
// not, and is still answered correctly through the memo or a scan.
func TestIdentSetAnswersTheSameString(t *testing.T) {
	e := Default()
	s := strings.Clone("GET /api/monitors/{id} from api.internal")
	for range 2 {
		if out, changed := e.String(s); changed || out != s {
			t.Fatalf("String(%q) = %q, %v", s, out, changed)
		}
	}
	if !e.ident.has(s) {
		t.Fatal("a clean value seen twice is not in the identity set")
	}
	c := strings.Clone(s)
	if e.ident.has(c) {
		t.Fatal("a copy of the value was taken for the value itself")
	}
	if out, changed := e.String(c); changed || out != c {
		t.Fatalf("String(copy) = %q, %v", out, changed)
	}
	if allocs := testing.AllocsPerRun(100, func() { e.String(s) }); allocs != 0 {
		t.Errorf("an identity hit allocates %v times", allocs)
	}
}

// TestIdentSetKeysOnLength: a clean prefix shares its data pointer with
// the whole string; the whole string, which carries an email, must not be
// answered by the prefix's entry.
func TestIdentSetKeysOnLength(t *testing.T) {
	e := Default()
	whole := strings.Clone("report sent by the scheduler to alice.smith@example.com")
	prefix := whole[:len("report sent by the scheduler")]
	e.String(prefix)
	e.String(prefix)
	if !e.ident.has(prefix) {
		t.Fatal("the clean prefix is not in the identity set")
	}
	for range 3 {
		out, changed := e.String(whole)
		if !changed || strings.Contains(out, "alice") {
			t.Fatalf("String(whole) = %q, %v: answered by its prefix's entry", out, changed)
		}
	}
}

// TestIdentSetOnlyCleanValidShortValues: what is redacted, what is not
// valid UTF-8, and what is longer than memoMax never enters, however often
// it comes; a value under an allowed key is answered from the set only
// when String found it clean.
func TestIdentSetOnlyCleanValidShortValues(t *testing.T) {
	e := Default()
	dirty := strings.Clone("card 4111 1111 1111 1111 on file")
	invalid := strings.Clone("caf\xe9 menu for the week")
	long := strings.Repeat("a clean line of log text; ", memoMax/20)
	for range 4 {
		if _, changed := e.String(dirty); !changed {
			t.Fatal("the card was not redacted")
		}
		if out, changed := e.String(invalid); !changed || out != "caf\uFFFD menu for the week" {
			t.Fatalf("String(invalid) = %q, %v", out, changed)
		}
		if out, _ := e.Attr("http.route", invalid); out != "caf\uFFFD menu for the week" {
			t.Fatalf("Attr(allowed key, invalid) = %q", out)
		}
		e.String(long)
	}
	for _, s := range []string{dirty, invalid, long} {
		if e.ident.has(s) {
			t.Errorf("%.30q… entered the identity set", s)
		}
	}
}

// TestIdentSetConcurrent: goroutines redacting the same strings and new
// ones at once — entries written while others read — agree with an engine
// that has seen nothing. Run with -race.
func TestIdentSetConcurrent(t *testing.T) {
	e, fresh := Default(), Default()
	shared := make([]string, 64)
	for i := range shared {
		if i%4 == 0 {
			shared[i] = fmt.Sprintf("user%d@example.com asked for report %d", i, i)
		} else {
			shared[i] = fmt.Sprintf("worker-%d finished batch %d in 12ms", i, i*7)
		}
	}
	want := make([]string, len(shared))
	for i, s := range shared {
		want[i], _ = fresh.String(strings.Clone(s))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for n := range 2000 {
				i := (n*7 + g) % len(shared)
				s := shared[i]
				if n%3 == 0 {
					s = strings.Clone(s)
				}
				if got, _ := e.String(s); got != want[i] {
					select {
					case errs <- fmt.Sprintf("String(%q) = %q, want %q", s, got, want[i]):
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
