package redact

import (
	"sync/atomic"
	"unsafe"
)

// identSet remembers, by the identity of the string — its data pointer and
// length, as keyCache does for keys — values that String found clean. It
// sits in front of cleanMemo: a value that comes back as the same string,
// not merely the same bytes (a string constant, a route template, a host
// name read once from configuration, a request's context attribute copied
// onto each of its spans), is then known clean from its address alone —
// no hash of its bytes, no comparison, no UTF-8 check. A value that
// repeats only by content (a header parsed anew for every request) still
// finds cleanMemo behind.
//
// Correctness rests, as for keyCache, on Go strings being immutable: the
// same pointer and length always mean the same bytes, and the slot holds
// the data pointer, which keeps the memory alive so that the address
// cannot be reused by another string while the entry stands. (A string made
// with unsafe over a buffer that is rewritten while a span holds it breaks
// that promise for the SDK, which exports the span later, as for this set.)
//
// What the set keeps alive is bounded: identSlots strings of at most
// memoMax bytes (and, when such a string was cut from a larger one, the
// larger one — as any substring does). Admission takes two sightings, as in
// cleanMemo, so values seen once (IDs) never take a slot: the first sighting
// leaves only a hash on probation.
//
// Slots are direct-mapped, written under a per-slot sequence lock; a writer
// that finds the slot busy gives up, a reader that sees a write in progress
// misses.
type identSet struct {
	slots     [identSlots]identSlot
	probation [identSlots]atomic.Uint64 // identity hash of values seen once
}

const identSlots = 1024

type identSlot struct {
	seq atomic.Uint32        // odd while a writer fills the slot
	ptr atomic.Pointer[byte] // unsafe.StringData of the value
	n   atomic.Uint64        // its length; 0: empty
}

// identHash mixes a string's address and length.
func identHash(p *byte, n int) uint64 {
	h := (uint64(uintptr(unsafe.Pointer(p))) ^ uint64(n)<<48) * 0x9E3779B97F4A7C15
	return h ^ h>>29
}

// has reports whether s is remembered as clean.
func (c *identSet) has(s string) bool {
	if len(s) > memoMax {
		return false
	}
	p := unsafe.StringData(s)
	sl := &c.slots[identHash(p, len(s))%identSlots]
	s1 := sl.seq.Load()
	if s1&1 != 0 {
		return false
	}
	ok := sl.ptr.Load() == p && sl.n.Load() == uint64(len(s))
	return ok && sl.seq.Load() == s1
}

// sawClean records that s was found clean: the first sighting puts its
// identity on probation, the second takes the slot. Strings longer than
// memoMax are not remembered.
func (c *identSet) sawClean(s string) {
	if len(s) > memoMax {
		return
	}
	p := unsafe.StringData(s)
	h := identHash(p, len(s))
	pr := &c.probation[h%identSlots]
	if pr.Load() != h {
		pr.Store(h)
		return
	}
	sl := &c.slots[h%identSlots]
	q := sl.seq.Load()
	if q&1 != 0 || !sl.seq.CompareAndSwap(q, q+1) {
		return
	}
	sl.ptr.Store(p)
	sl.n.Store(uint64(len(s)))
	sl.seq.Store(q + 2)
}
