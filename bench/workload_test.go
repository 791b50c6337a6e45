package bench

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelsentry/otelsentry/processors/redact"
)

// TestAttrSets: the sets differ where requests differ (url.path and
// request_id unique to each set) and nowhere else, every clean set is clean
// to the engine — a generated ID that happened to look like a card number
// would make the clean workload redact — and every pii set holds the PII.
func TestAttrSets(t *testing.T) {
	e := redact.Default()
	for _, pii := range []bool{false, true} {
		sets := AttrSets(pii)
		if len(sets) != Variety {
			t.Fatalf("%d sets, want %d", len(sets), Variety)
		}
		base := Attrs(pii)
		seen := map[string]bool{}
		for i, set := range sets {
			if len(set) != len(base) {
				t.Fatalf("set %d has %d attributes, want %d", i, len(set), len(base))
			}
			for j, kv := range set {
				if kv.Key != base[j].Key {
					t.Fatalf("set %d attribute %d is %s, want %s", i, j, kv.Key, base[j].Key)
				}
				v := kv.Value.Emit()
				switch kv.Key {
				case "url.path", "request_id":
					if seen[v] {
						t.Fatalf("set %d repeats %s %q", i, kv.Key, v)
					}
					seen[v] = true
				default:
					if kv.Value != base[j].Value {
						t.Fatalf("set %d changes %s", i, kv.Key)
					}
				}
				if kv.Value.Type() != attribute.STRING {
					continue
				}
				out, changed := e.Attr(string(kv.Key), kv.Value.AsString())
				isPII := v == piiEmail || strings.Contains(v, piiCard)
				if changed != isPII {
					t.Fatalf("set %d (pii %t): %s=%q redacted to %q (changed %t)", i, pii, kv.Key, v, out, changed)
				}
			}
		}
	}
}
