package redact

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func (m *cleanMemo) remembers(s string) bool { return m.has(s, m.hash(s)) }

func TestCleanMemoAdmitsOnTheSecondSighting(t *testing.T) {
	e := Default()
	v := strings.Clone("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
	if _, changed := e.String(v); changed || e.clean.remembers(v) {
		t.Fatalf("remembered after one sighting (changed %t)", changed)
	}
	if _, changed := e.String(v); changed || !e.clean.remembers(v) {
		t.Fatalf("not remembered after two sightings (changed %t)", changed)
	}
	sl := &e.clean.slots[e.clean.hash(v)%memoSlots]
	if sl.ptr.Load() == unsafe.StringData(v) {
		t.Error("the memo holds the caller's string, not a copy")
	}
	// Another string with the same bytes is answered from the memo.
	if !e.clean.remembers(strings.Clone(v)) {
		t.Error("an equal string at another address is not remembered")
	}
	for _, s := range []string{"too short", strings.Repeat("long ", 200)} {
		for range 3 {
			e.String(s)
		}
		if e.clean.remembers(s) {
			t.Errorf("a %d-byte value was remembered (memo takes %d to %d)", len(s), memoMin, memoMax)
		}
	}
}

func TestCleanMemoNeverRemembersWhatItRedacts(t *testing.T) {
	e := Default()
	v := "contact: alice.smith@example.com, card 4111 1111 1111 1111"
	for i := range 5 {
		out, changed := e.String(v)
		if !changed || strings.Contains(out, "alice.smith") || strings.Contains(out, "4111") {
			t.Fatalf("call %d: %q, %t", i+1, out, changed)
		}
	}
	if e.clean.remembers(v) {
		t.Fatal("a value with PII was remembered as clean")
	}
	if got := e.Counts(); got["email"] != 5 || got["credit_card"] != 5 {
		t.Errorf("counts %v, want 5 emails and 5 cards: every call redacts and counts", got)
	}
}

// TestCleanMemoComparesBytes: a slot holding another value of the same
// length and hash bits (a collision) does not answer for s.
func TestCleanMemoComparesBytes(t *testing.T) {
	m := &Default().clean
	a, b := "clean value number one", "clean value number two"
	h := m.hash(a)
	m.put(a, h)
	if !m.has(a, h) {
		t.Fatal("put value not found")
	}
	if m.has(b, h) {
		t.Fatal("a different value with the same hash was taken for the remembered one")
	}
}

// TestCleanMemoCollidingValuesDoNotThrash: two repeated values that share
// a slot — one seen once per round, the other twice — settle: the one in
// place keeps the slot while it is used, and no round copies anything. (An
// earlier memo evicted the remembered value on every other round, one
// allocation a round: a flaky TestCleanInputsDoNotAllocate found it.)
func TestCleanMemoCollidingValuesDoNotThrash(t *testing.T) {
	e := Default()
	x := "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
	var y string
	for i := 0; y == ""; i++ {
		if c := fmt.Sprintf("worker-%d finished batch in 12ms", i); e.clean.hash(c)%memoSlots == e.clean.hash(x)%memoSlots {
			y = c
		}
	}
	round := func() {
		e.String(y)
		e.String(x)
		e.String(x)
	}
	round()
	round()
	if !e.clean.remembers(x) {
		t.Fatal("the value seen twice a round is not remembered")
	}
	if allocs := testing.AllocsPerRun(100, round); allocs != 0 {
		t.Errorf("%v allocations a round, want 0", allocs)
	}
	if !e.clean.remembers(x) {
		t.Error("the used value lost its slot")
	}
	// x no longer comes: y takes the slot at its second attempt. (Copies of
	// y, each a new string: the same string would be answered by the
	// identity set in front of the memo, and never reach it.)
	for range 3 {
		e.String(strings.Clone(y))
		e.String(strings.Clone(y))
	}
	if !e.clean.remembers(y) {
		t.Error("an unused value kept its slot against a repeated newcomer")
	}
}

// TestCleanMemoUniqueValuesDoNotAllocate: values seen once (request IDs,
// paths with IDs) go on probation only.
func TestCleanMemoUniqueValuesDoNotAllocate(t *testing.T) {
	e := Default()
	vals := make([]string, 2000)
	for i := range vals {
		vals[i] = fmt.Sprintf("/api/monitors/%08x-route-%d", i*7919, i)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(vals)-1, func() {
		e.String(vals[i])
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per unique clean value, want 0", allocs)
	}
}

// TestCleanMemoConcurrent: goroutines redacting a mix of clean and dirty
// values that repeat (so the memo admits, evicts and answers while others
// write) get exactly what a fresh engine gives for each.
func TestCleanMemoConcurrent(t *testing.T) {
	var vals, want []string
	ref := Default()
	for i := range 3000 {
		var v string
		switch i % 3 {
		case 0:
			v = fmt.Sprintf("GET /api/items/%d?page=2 HTTP/1.1", i%700)
		case 1:
			v = fmt.Sprintf("user%d@example.com asked about order %d", i%500, i)
		default:
			v = fmt.Sprintf("worker-%d finished batch in 12ms", i%900)
		}
		out, _ := ref.String(v)
		vals, want = append(vals, v), append(want, out)
	}
	e := Default()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 5 {
				for j := range vals {
					k := (j*(g+1) + round*31) % len(vals)
					if got, _ := e.String(vals[k]); got != want[k] {
						t.Errorf("String(%q) = %q, want %q", vals[k], got, want[k])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkCleanMemo compares a clean value answered by the memo with its
// scan (a fresh engine each round would be needed to defeat the memo, so
// the scan is measured on the scanner itself).
func BenchmarkCleanMemo(b *testing.B) {
	e := Default()
	v := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	b.Run("memo=hit", func(b *testing.B) {
		e.String(v)
		e.String(v)
		b.ReportAllocs()
		for b.Loop() {
			e.String(v)
		}
	})
	b.Run("memo=none", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var sc scanner
			sc.e, sc.s, sc.on = e, v, e.on
			sc.run()
		}
	})
}
