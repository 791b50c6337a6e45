package redact

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
	"unsafe"
)

// cleanMemo remembers values that String found clean and that came back, by
// content, so that a value seen again — a user agent, a host name, a
// database statement, a status text: much of what spans carry repeats from
// span to span — costs a hash, a probe and a comparison instead of a scan.
// A value is only ever remembered as clean: String is a pure function of
// its input for a given Engine (rules and configuration are fixed by New),
// so a remembered value needs no scan to be clean again, and nothing that
// would be redacted is ever skipped.
//
// Admission takes two sightings. A clean value seen for the first time
// leaves only its hash in a probation table; seen again while its hash is
// still there, it is copied into the memo. Values unique to one request
// (IDs, paths with IDs) therefore never evict a remembered value nor
// allocate; they cost the hash and one store on top of their scan. The copy
// means the memo holds no caller's memory: at most memoSlots values of at
// most memoMax bytes (≤ 512 KiB per Engine).
//
// Only values of memoMin to memoMax bytes take part: shorter ones cost
// little to scan (a memo hit costs ~16 ns), and longer ones (stack
// traces, bodies) rarely repeat. A memoMin of 64 instead of 16 made no
// difference the suite's benchmark could see.
//
// Both tables are direct-mapped by the value's hash. Memo slots are written
// under a per-slot sequence lock, as in keyCache: a writer that finds the
// slot busy gives up, and a reader that sees a write in progress scans.
//
// Admission gives the slot's value a second chance: a remembered value is
// marked used when it is admitted and whenever it is found, and a newcomer
// whose slot holds a used value clears the mark instead of taking the slot.
// Two repeated values that share a slot therefore do not evict each other
// on every sighting — each eviction a copy, an allocation — but the one in
// place stays while it is used, and a value nobody asks for is replaced at
// the second attempt.
type cleanMemo struct {
	seed      maphash.Seed
	slots     [memoSlots]memoSlot
	probation [memoSlots]atomic.Uint64 // hashes of clean values seen once
}

const (
	memoSlots = 1024
	memoMin   = 16
	memoMax   = 512
)

type memoSlot struct {
	seq  atomic.Uint32        // odd while a writer fills the slot
	used atomic.Uint32        // 1: found (or admitted) since the last refusal
	ptr  atomic.Pointer[byte] // unsafe.StringData of the value
	meta atomic.Uint64        // len<<32 | the hash's upper half (0: empty)
}

func memoable(s string) bool { return memoMin <= len(s) && len(s) <= memoMax }

func (m *cleanMemo) hash(s string) uint64 { return maphash.String(m.seed, s) }

func memoMeta(s string, h uint64) uint64 { return uint64(len(s))<<32 | h>>32 }

// has reports whether s, whose hash is h, is remembered as clean.
func (m *cleanMemo) has(s string, h uint64) bool {
	sl := &m.slots[h%memoSlots]
	s1 := sl.seq.Load()
	if s1&1 != 0 {
		return false
	}
	p, meta := sl.ptr.Load(), sl.meta.Load()
	if sl.seq.Load() != s1 || meta != memoMeta(s, h) {
		return false
	}
	// p keeps the remembered value alive, and Go strings are immutable: its
	// bytes are the ones stored, whatever the slot holds by now.
	if unsafe.String(p, len(s)) != s {
		return false
	}
	if sl.used.Load() == 0 { // write only when it changes: hits stay reads
		sl.used.Store(1)
	}
	return true
}

// sawClean records that s, whose hash is h, was found clean: the first
// sighting puts its hash on probation, the second admits a copy of s —
// unless the slot holds a value used since the last attempt, which is then
// given its second chance instead (and nothing is copied).
func (m *cleanMemo) sawClean(s string, h uint64) {
	pr := &m.probation[h%memoSlots]
	if pr.Load() != h {
		pr.Store(h)
		return
	}
	if sl := &m.slots[h%memoSlots]; sl.used.Load() != 0 {
		sl.used.Store(0)
		return
	}
	m.put(strings.Clone(s), h)
}

// put remembers s, whose hash is h, unless another writer holds its slot.
func (m *cleanMemo) put(s string, h uint64) {
	sl := &m.slots[h%memoSlots]
	q := sl.seq.Load()
	if q&1 != 0 || !sl.seq.CompareAndSwap(q, q+1) {
		return
	}
	sl.ptr.Store(unsafe.StringData(s))
	sl.meta.Store(memoMeta(s, h))
	sl.used.Store(1)
	sl.seq.Store(q + 2)
}
