package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"hash/maphash"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Engine redacts strings. It is immutable after New and safe for concurrent
// use by any number of goroutines; the only shared mutable state is the
// per-rule counters, which are atomic.
type Engine struct {
	on          uint32 // enabled built-in rules, bit per ruleID
	rules       []ruleSpec
	allowExact  map[string]struct{}
	allowPrefix []string
	customKeys  []ruleID // custom rules matched on attribute keys
	customRegex []ruleID // custom rules matched on values
	customPh    map[string]struct{}
	hashKey     []byte
	macs        sync.Pool // of hash.Hash (HMAC-SHA256 keyed with hashKey)
	counts      []counter
	keys        keyCache  // key → decision, by identity (keycache.go)
	clean       cleanMemo // values found clean, by content (memo.go)
	ident       identSet  // values found clean, by identity (ident.go)
}

type ruleSpec struct {
	name        string
	placeholder string
	tag         string // hash-mode label
	mode        Mode
	re          *regexp.Regexp
	key         keyPattern
}

// counter is padded to a cache line so that goroutines redacting different
// kinds of data do not contend on one line.
type counter struct {
	n atomic.Uint64
	_ [56]byte
}

// Match reports one redaction made by Explain.
type Match struct {
	Rule       string // rule name, as in Config.Disable
	Start, End int    // byte offsets of the replaced span in the input
}

// defaultAllowPrefix and isDefaultAllowed are the built-in key allowlist:
// identifiers and low-cardinality request metadata that must reach the
// backend intact and that no rule should ever touch.
var defaultAllowPrefix = []string{"service.", "telemetry.sdk."}

func isDefaultAllowed(key string) bool {
	switch key {
	case "trace_id", "span_id", "parent_span_id", "trace.id", "span.id",
		"traceid", "spanid", "trace_flags", "http.route", "http.request.method",
		"http.method", "http.response.status_code", "http.status_code":
		return true
	}
	return false
}

// New builds an Engine from cfg. It returns an error naming the offending
// rule when cfg names an unknown rule, gives a rule a mode it does not
// support, asks for hash mode without a HashKey, or holds an invalid custom
// rule.
func New(cfg Config) (*Engine, error) {
	e := &Engine{
		on:          1<<numBuiltin - 1,
		allowPrefix: slices.Clone(defaultAllowPrefix),
		hashKey:     slices.Clone(cfg.HashKey),
	}
	e.clean.seed = maphash.MakeSeed()
	e.rules = make([]ruleSpec, numBuiltin, int(numBuiltin)+len(cfg.Custom))
	for i, b := range builtin {
		e.rules[i] = ruleSpec{name: b.name, placeholder: b.placeholder, tag: hashTag(b.placeholder, b.name), mode: ModeReplace}
	}
	if len(cfg.Custom) > maxCustomRules {
		return nil, errorf("too many custom rules (%d, at most %d)", len(cfg.Custom), maxCustomRules)
	}
	for _, cr := range cfg.Custom {
		spec, err := compileCustom(cr, e.rules)
		if err != nil {
			return nil, err
		}
		id := ruleID(len(e.rules))
		e.rules = append(e.rules, spec)
		if spec.re != nil {
			e.customRegex = append(e.customRegex, id)
		} else {
			e.customKeys = append(e.customKeys, id)
		}
		if e.customPh == nil {
			e.customPh = map[string]struct{}{}
		}
		e.customPh[spec.placeholder] = struct{}{}
	}
	for _, name := range cfg.Disable {
		id, ok := e.ruleByName(name)
		if !ok {
			return nil, errRule(name, "unknown rule (known: %s)", strings.Join(e.ruleNames(), ", "))
		}
		if id < numBuiltin {
			e.on &^= 1 << id
		} else {
			e.rules[id].mode = modeOff
		}
	}
	for name, m := range cfg.Modes {
		id, ok := e.ruleByName(name)
		if !ok {
			return nil, errRule(name, "unknown rule (known: %s)", strings.Join(e.ruleNames(), ", "))
		}
		if err := checkMode(name, id, m); err != nil {
			return nil, err
		}
		if e.rules[id].mode != modeOff {
			e.rules[id].mode = m
		}
		if m == ModeHash && len(e.hashKey) == 0 {
			return nil, errRule(name, "mode hash needs a hash key (Config.HashKey, environment %s)", HashKeyEnv)
		}
	}
	for _, a := range cfg.Allow {
		if a == "" {
			return nil, errorf("allow: empty key")
		}
		if p, ok := strings.CutSuffix(a, "*"); ok {
			e.allowPrefix = append(e.allowPrefix, p)
			continue
		}
		if e.allowExact == nil {
			e.allowExact = map[string]struct{}{}
		}
		e.allowExact[a] = struct{}{}
	}
	if len(e.hashKey) > 0 {
		key := e.hashKey
		e.macs.New = func() any { return hmac.New(sha256.New, key) }
	}
	e.counts = make([]counter, len(e.rules))
	return e, nil
}

// Default returns an Engine with every built-in rule on, in replace mode.
func Default() *Engine {
	e, err := New(Config{})
	if err != nil {
		panic("redact: default config rejected: " + err.Error())
	}
	return e
}

func (e *Engine) ruleByName(name string) (ruleID, bool) {
	for i := range e.rules {
		if e.rules[i].name == name {
			return ruleID(i), true
		}
	}
	return 0, false
}

func (e *Engine) ruleNames() []string {
	out := make([]string, len(e.rules))
	for i := range e.rules {
		out[i] = e.rules[i].name
	}
	return out
}

// String redacts free text with the value rules, and replaces invalid
// UTF-8 with U+FFFD: what it returns is always valid UTF-8. When nothing
// matches and s is valid it returns s itself and false, without allocating
// — except once per clean value of 16 to 512 bytes that comes back, which
// is copied into a memo of recent clean values so that its next sightings
// skip the scan. A clean value that comes back as the same string is known
// by its address (identSet). Otherwise it returns a new string and true.
// Every redaction increments its rule's counter.
func (e *Engine) String(s string) (string, bool) {
	if s == "" || e.ident.has(s) {
		return s, false
	}
	memo := memoable(s)
	var h uint64
	if memo {
		if h = e.clean.hash(s); e.clean.has(s, h) {
			e.ident.sawClean(s)
			return s, false
		}
	}
	if !utf8.ValidString(s) {
		// Redact the text as it will leave: a second pass over the output
		// then sees what this one saw, which keeps String idempotent.
		r, _ := e.scan(strings.ToValidUTF8(s, "\uFFFD"))
		return r, true
	}
	r, changed := e.scan(s)
	if !changed {
		if memo {
			e.clean.sawClean(s, h)
		}
		e.ident.sawClean(s)
	}
	return r, changed
}

// scan applies the value rules to s, valid UTF-8, and counts what it
// redacts.
func (e *Engine) scan(s string) (string, bool) {
	var sc scanner
	sc.e, sc.s, sc.on = e, s, e.on
	sc.run()
	ms := sc.matches()
	if len(e.customRegex) > 0 {
		ms = e.addCustom(s, ms)
	}
	if len(ms) == 0 {
		return s, false
	}
	return repairUTF8(e.render(s, ms)), true
}

// repairUTF8 replaces each invalid UTF-8 sequence of s with U+FFFD. Every
// string the Engine returns is valid UTF-8: OTLP carries strings as
// protobuf strings, and one invalid sequence makes an exporter reject its
// whole batch.
func repairUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Attr redacts the value of the attribute named key. An allowlisted key
// leaves the value untouched but for invalid UTF-8, repaired as by String;
// a key naming a secret, an e-mail address or a client address replaces
// the whole value; any other key gets the value rules of String. Empty values and values that already are a placeholder
// are returned as they are. Allocation and counting are as for String.
func (e *Engine) Attr(key, value string) (string, bool) {
	if value == "" {
		return value, false
	}
	switch d := e.decide(key); {
	case d == keyAllowed:
		if e.ident.has(value) {
			return value, false
		}
		if !utf8.ValidString(value) {
			return repairUTF8(value), true
		}
		return value, false
	case d >= keyRule:
		r := ruleID(d - keyRule)
		if e.isPlaceholder(value) || r == ruleKeyIP && isLocalAddress(value) {
			// (A client address of 127.0.0.1 or ::1 is no one's.)
			return value, false
		}
		e.counts[r].n.Add(1)
		return e.whole(r, value), true
	}
	return e.String(value)
}

// Int redacts an int64 attribute value: a payment card number, or any
// value under a key rule, becomes a placeholder string. Otherwise it
// returns ("", false) without allocating. In replace mode the placeholder
// is a constant and nothing is allocated either.
func (e *Engine) Int(key string, v int64) (string, bool) {
	switch d := e.decide(key); {
	case d == keyAllowed:
		return "", false
	case d >= keyRule:
		r := ruleID(d - keyRule)
		e.counts[r].n.Add(1)
		if e.rules[r].mode == ModeHash {
			return e.whole(r, strconv.FormatInt(v, 10)), true
		}
		return e.whole(r, ""), true
	}
	if e.on&(1<<ruleCreditCard) == 0 || v < 1e12 {
		return "", false
	}
	var buf [20]byte
	d := strconv.AppendInt(buf[:0], v, 10)
	if !isCardNumber(d) {
		return "", false
	}
	e.counts[ruleCreditCard].n.Add(1)
	if e.rules[ruleCreditCard].mode == ModeReplace {
		return phCard, true
	}
	return e.whole(ruleCreditCard, string(d)), true
}

// Explain redacts s like Attr(key, s) — or like String(s) when key is
// empty, invalid UTF-8 repaired alike — and also reports which rule
// replaced which bytes of s (of s repaired, when it was not valid UTF-8).
// It is meant for dry runs and tooling: it allocates, and it does not
// count.
func (e *Engine) Explain(key, s string) (string, []Match) {
	if s == "" {
		return s, nil
	}
	if key != "" {
		switch d := e.decideBytes(key); {
		case d == keyAllowed:
			return repairUTF8(s), nil
		case d >= keyRule:
			if e.isPlaceholder(s) {
				return s, nil
			}
			r := ruleID(d - keyRule)
			return e.whole(r, s), []Match{{Rule: e.rules[r].name, Start: 0, End: len(s)}}
		}
	}
	s = repairUTF8(s) // as String: the rules see the text as it will leave
	var sc scanner
	sc.e, sc.s, sc.on = e, s, e.on
	sc.run()
	ms := sc.matches()
	if len(e.customRegex) > 0 {
		ms = e.addCustom(s, ms)
	}
	if len(ms) == 0 {
		return s, nil
	}
	out := make([]Match, len(ms))
	for i, m := range ms {
		out[i] = Match{Rule: e.rules[m.rule].name, Start: int(m.start), End: int(m.end)}
	}
	return repairUTF8(e.build(s, ms)), out
}

// Counts returns, for every rule, how many redactions it has made since
// New. The map is a snapshot; reading it while other goroutines redact is
// safe.
func (e *Engine) Counts() map[string]uint64 {
	m := make(map[string]uint64, len(e.rules))
	for i := range e.rules {
		m[e.rules[i].name] = e.counts[i].n.Load()
	}
	return m
}

// allowedExact reports whether key is on the allowlist by name: a default
// key or an exact Config.Allow entry. Those win over the key rules.
func (e *Engine) allowedExact(key string) bool {
	if isDefaultAllowed(key) {
		return true
	}
	_, ok := e.allowExact[key]
	return ok
}

// allowedPrefix reports whether key falls under a "prefix.*" allowlist
// entry (service.*, telemetry.sdk.*, Config.Allow). A key rule wins over
// those: service.api_key under service.* is still a secret.
func (e *Engine) allowedPrefix(key string) bool {
	for _, p := range e.allowPrefix {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

func (e *Engine) keyRule(key string) (ruleID, bool) {
	if r, ok := attrKeyRule(key); ok && e.on&(1<<r) != 0 {
		return r, true
	}
	for _, id := range e.customKeys {
		if e.rules[id].mode != modeOff && e.rules[id].key.match(key) {
			return id, true
		}
	}
	return 0, false
}

// isPlaceholder reports whether v is exactly a placeholder this engine
// writes, so that re-redacting it changes nothing.
func (e *Engine) isPlaceholder(v string) bool {
	if isPlaceholderShape(v) {
		return true
	}
	if e.customPh != nil {
		_, ok := e.customPh[v]
		return ok
	}
	return false
}

// addCustom merges the matches of the custom value rules into ms. Built-in
// matches win where they overlap.
func (e *Engine) addCustom(s string, ms []match) []match {
	out := ms
	for _, id := range e.customRegex {
		if e.rules[id].mode == modeOff {
			continue
		}
		for _, loc := range e.rules[id].re.FindAllStringIndex(s, -1) {
			if loc[0] == loc[1] || e.isPlaceholder(s[loc[0]:loc[1]]) {
				continue
			}
			m := match{int32(loc[0]), int32(loc[1]), id}
			k, _ := slices.BinarySearchFunc(out, m, func(a, b match) int { return int(a.start - b.start) })
			if k > 0 && out[k-1].end > m.start || k < len(out) && out[k].start < m.end {
				continue
			}
			if len(out) > 0 && &out[0] == &ms[0] {
				out = slices.Clone(out) // never write into the scanner's buffer
			}
			out = slices.Insert(out, k, m)
		}
	}
	return out
}

// render writes the redacted string and counts each redaction.
func (e *Engine) render(s string, ms []match) string {
	for _, m := range ms {
		e.counts[m.rule].n.Add(1)
	}
	return e.build(s, ms)
}

func (e *Engine) build(s string, ms []match) string {
	if len(ms) == 1 && ms[0].start == 0 && int(ms[0].end) == len(s) {
		return e.whole(ms[0].rule, s) // a constant in replace mode
	}
	var b strings.Builder
	b.Grow(len(s) + 24*len(ms))
	last := 0
	for _, m := range ms {
		b.WriteString(s[last:m.start])
		e.writeRepl(&b, m.rule, s[m.start:m.end])
		last = int(m.end)
	}
	b.WriteString(s[last:])
	return b.String()
}

// whole returns the replacement for an entire value.
func (e *Engine) whole(r ruleID, secret string) string {
	if e.rules[r].mode == ModeReplace || e.rules[r].mode == modeOff {
		return e.rules[r].placeholder
	}
	var b strings.Builder
	e.writeRepl(&b, r, secret)
	return b.String()
}

const hashHexLen = 8

func (e *Engine) writeRepl(b *strings.Builder, r ruleID, secret string) {
	spec := &e.rules[r]
	switch spec.mode {
	case ModeHash:
		mac := e.macs.Get().(hash.Hash)
		mac.Reset()
		mac.Write([]byte(secret))
		var sum [sha256.Size]byte
		var hx [hashHexLen]byte
		hex.Encode(hx[:], mac.Sum(sum[:0])[:hashHexLen/2])
		e.macs.Put(mac)
		b.WriteByte('[')
		b.WriteString(spec.tag)
		b.WriteByte(':')
		b.Write(hx[:])
		b.WriteByte(']')
	case ModeMask:
		var last4 [4]byte
		n := 0
		for i := len(secret) - 1; i >= 0 && n < 4; i-- {
			if isDigit(secret[i]) {
				n++
				last4[4-n] = secret[i]
			}
		}
		b.WriteByte('[')
		b.WriteString(spec.tag)
		b.WriteString(":…")
		b.Write(last4[4-n:])
		b.WriteByte(']')
	default:
		b.WriteString(spec.placeholder)
	}
}

// isLocalAddress reports whether v is a loopback or unspecified address,
// with or without a port: "127.0.0.1", "[::1]:8080", "0.0.0.0".
func isLocalAddress(v string) bool {
	a, err := netip.ParseAddr(v)
	if err != nil {
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			return false
		}
		a = ap.Addr()
	}
	return a.IsLoopback() || a.IsUnspecified()
}
