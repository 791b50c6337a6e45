package redact

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// The key cache must never change a decision: every key, constant or
// built at run time, colliding in a slot or not, read while other
// goroutines write, is decided exactly as from its bytes.
func TestKeyCacheDecidesAsTheBytesDo(t *testing.T) {
	e, err := New(Config{
		Allow:  []string{"internal.*", "order.note"},
		Custom: []CustomRule{{Name: "tenant_key", Key: "tenant.secret_code"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	base := []string{
		"http.route", "service.name", "db.password", "user.email", "client.address",
		"http.request.header.authorization", "gen_ai.usage.input_tokens", "password_changed_at",
		"internal.debug", "order.note", "tenant.secret_code", "company", "url.path", "x-api-key", "",
	}
	var keys []string
	for i := 0; i < 2000; i++ { // far more keys than slots: collisions
		k := base[i%len(base)]
		if i >= len(base) {
			k = fmt.Sprintf("%s.%d", k, i) // a fresh string every time
			if i%3 == 0 {
				k = strings.Clone(base[i%len(base)]) // same bytes, new pointer
			}
		}
		keys = append(keys, k)
	}
	want := make([]keyDecision, len(keys))
	for i, k := range keys {
		want[i] = e.decideBytes(k)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for round := 0; round < 20; round++ {
				for i := range keys {
					j := (i*7 + g*131 + round) % len(keys)
					if got := e.decide(keys[j]); got != want[j] {
						t.Errorf("decide(%q) = %d, from its bytes %d", keys[j], got, want[j])
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	if d := e.decide("db.password"); d < keyRule {
		t.Fatalf("db.password: decision %d, want a key rule", d)
	}
	if d := e.decide("http.route"); d != keyAllowed {
		t.Fatalf("http.route: decision %d, want allowed", d)
	}
}

// skipWord stops at the first byte outside [A-Za-z0-9], for every byte
// value at every position. (An eight-bytes-at-a-time version was measured
// and dropped: it no longer inlines, and most words are short — it was
// 8-30 % slower on single strings and no faster on a whole span.)
func TestSkipWordEveryByteEveryLane(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 21; pos++ {
			b := []byte("abcdefghXYZ0123456789")
			b[pos] = byte(c)
			s := string(b)
			for from := 0; from < 4; from++ {
				want := from
				for want < len(s) && isWord[s[want]] {
					want++
				}
				if got := skipWord(s, from); got != want {
					t.Fatalf("byte %#x at %d, from %d: skipWord = %d, want %d", c, pos, from, got, want)
				}
			}
		}
	}
}

func BenchmarkKeyDecision(b *testing.B) {
	e := Default()
	for _, k := range []string{"http.route", "server.address", "user_agent.original", "db.password"} {
		b.Run("key="+k+"/cached", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e.decide(k)
			}
		})
		b.Run("key="+k+"/bytes", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e.decideBytes(k)
			}
		})
	}
}

// TestKeyCacheTwoWays: two keys whose addresses map to the same slot both
// stay cached — with one way they evicted each other on every attribute.
func TestKeyCacheTwoWays(t *testing.T) {
	var c keyCache
	keys := map[uint]string{}
	var a, b string
	for i := 0; b == ""; i++ {
		k := strings.Clone(fmt.Sprintf("app.attribute_%d", i))
		idx := keySlotIndex(unsafe.StringData(k), len(k))
		if prev, ok := keys[idx]; ok {
			a, b = prev, k
		}
		keys[idx] = k
	}
	c.put(a, keyScan)
	c.put(b, keyAllowed)
	for range 3 {
		if d, ok := c.get(a); !ok || d != keyScan {
			t.Fatalf("get(%q) = %v, %v after its neighbour was cached", a, d, ok)
		}
		if d, ok := c.get(b); !ok || d != keyAllowed {
			t.Fatalf("get(%q) = %v, %v", b, d, ok)
		}
	}
}
