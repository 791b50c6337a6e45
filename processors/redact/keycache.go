package redact

import (
	"sync/atomic"
	"unsafe"
)

// What a key means to Attr and Int, decided once per key string: left
// alone (allowlisted), a key rule that replaces the whole value, or scan
// the value with the value rules.
type keyDecision uint16

const (
	keyScan    keyDecision = iota // no key rule: run the value rules
	keyAllowed                    // allowlisted: never touched
	keyRule                       // + ruleID: the key rule replaces the value
)

// keyCache remembers the decision for attribute keys by the identity of
// the key string — its data pointer and length — not by its bytes.
//
// Attribute keys are nearly always string constants or strings built once
// (semantic-convention keys, a package's own key variables), so the same
// few dozen pointers come back span after span. Deciding a key from its
// bytes costs 10–40 ns (the allowlist, then the last words against the key
// rules); a hit here costs four loads. A key string built anew for every
// span simply misses, and is decided from its bytes as before.
//
// Correctness rests on Go strings being immutable: the same pointer and
// length always mean the same bytes. The cache holds the key's data
// pointer, which keeps the string's memory alive, so the address cannot
// be reused by a different string while the entry stands. (A string made
// with unsafe over a buffer that is later rewritten breaks that promise
// for every map in the program, and for this cache too.)
//
// A key has two slots, at its index and the one beside it (two ways): two
// hot keys whose addresses map to the same index — likely among a few dozen
// keys in 256 slots, and decided by where the linker put the strings —
// would otherwise evict each other on every attribute, each time deciding
// from the bytes and writing the slot. Slots are written without allocation
// under a per-slot sequence lock; concurrent writers to one slot give up
// rather than wait, and a reader that sees a write in progress decides from
// the bytes.
type keyCache struct {
	slots [keyCacheSlots]keySlot
}

const keyCacheSlots = 256

type keySlot struct {
	seq  atomic.Uint32        // odd while a writer fills the slot
	ptr  atomic.Pointer[byte] // unsafe.StringData of the key
	meta atomic.Uint64        // len<<16 | decision+1 (0: empty)
}

func keySlotIndex(p *byte, n int) uint {
	h := uint(uintptr(unsafe.Pointer(p)))
	h ^= h >> 9
	h ^= uint(n) * 0x9E37
	return (h ^ h>>8) % keyCacheSlots
}

// get returns the cached decision for key, or false.
func (c *keyCache) get(key string) (keyDecision, bool) {
	p := unsafe.StringData(key)
	i := keySlotIndex(p, len(key))
	if d, ok := c.slots[i].lookup(p, len(key)); ok {
		return d, true
	}
	return c.slots[i^1].lookup(p, len(key))
}

// lookup returns the slot's decision if it holds the key at p of length n.
func (sl *keySlot) lookup(p *byte, n int) (keyDecision, bool) {
	s1 := sl.seq.Load()
	if s1&1 != 0 {
		return 0, false
	}
	ptr, meta := sl.ptr.Load(), sl.meta.Load()
	if sl.seq.Load() != s1 || ptr != p || meta>>16 != uint64(n) || meta&0xffff == 0 {
		return 0, false
	}
	return keyDecision(meta&0xffff - 1), true
}

// put records the decision for key in its first slot when that is free,
// else in the second, unless another writer holds the slot.
func (c *keyCache) put(key string, d keyDecision) {
	p := unsafe.StringData(key)
	i := keySlotIndex(p, len(key))
	sl := &c.slots[i]
	if sl.meta.Load() != 0 {
		sl = &c.slots[i^1]
	}
	s := sl.seq.Load()
	if s&1 != 0 || !sl.seq.CompareAndSwap(s, s+1) {
		return
	}
	sl.ptr.Store(p)
	sl.meta.Store(uint64(len(key))<<16 | uint64(d+1))
	sl.seq.Store(s + 2)
}

// decide returns what the key means, from the cache when it can.
func (e *Engine) decide(key string) keyDecision {
	if d, ok := e.keys.get(key); ok {
		return d
	}
	d := e.decideBytes(key)
	e.keys.put(key, d)
	return d
}

// decideBytes decides from the key's bytes: keys allowed by name first,
// then the built-in and custom key rules, then keys allowed by prefix — so
// that a secret-named key in an allowed namespace (service.api_key) is
// still redacted, and a key the user allowed by name never is.
func (e *Engine) decideBytes(key string) keyDecision {
	if e.allowedExact(key) {
		return keyAllowed
	}
	if r, ok := e.keyRule(key); ok {
		return keyRule + keyDecision(r)
	}
	if e.allowedPrefix(key) || isVersionKey(key) {
		return keyAllowed
	}
	return keyScan
}

// isVersionKey reports whether the key names a version (app.version,
// service.version, os.kernel_version): its value is not scanned, so a
// four-part version is not taken for an address.
func isVersionKey(key string) bool {
	return endsWithWord(key, len(key), "version")
}
