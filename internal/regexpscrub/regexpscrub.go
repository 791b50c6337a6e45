// Package regexpscrub is the straightforward way to redact telemetry: one
// Go regular expression per rule, applied in turn, plus the key rules a
// user would write as regular expressions too. It exists only as the
// baseline that the redaction engine (processors/redact) is measured
// against — by the engine's own benchmarks and by the bench module, which
// also hands its patterns to the Collector's redactionprocessor — so that
// every comparison uses one and the same scrubber.
//
// It covers the engine's rules with the engine's placeholders
// ([EMAIL_REDACTED], [CREDIT_CARD_REDACTED], …, see processors/redact) and
// the same kind of validators (Luhn, IBAN mod-97, SSN ranges), written
// here, small and standard-library only; it does not attempt every
// refinement of the engine. It is internal: a test and benchmark helper.
package regexpscrub

import (
	"regexp"
	"strings"

	"github.com/otelsentry/otelsentry/internal/checksum"
	"github.com/otelsentry/otelsentry/internal/placeholder"
)

// SecretKeyPattern matches an attribute key whose value is secret whatever
// it looks like: its last segment is, or ends in, one of the engine's
// secret key names at a '.', '_' or '-' boundary ("db.password",
// "http.request.header.x-api-key", "set-cookie"; not "password_changed_at"
// or "gen_ai.usage.input_tokens"). Anchored at the end only, so it serves
// as is on the last segment or on the whole key (the Collector's
// blocked_key_patterns).
const SecretKeyPattern = `(?i)(?:^|[._-])(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|authorization|cookie|session|credit[_-]?card|card[_-]?number|cvv|cvc|ssn|private[_-]?key|secret[_-]?key|access[_-]?key|account[_-]?key|credentials)$`

// EmailKeyPattern matches an attribute key that names an e-mail address
// ("user.email", "customer.email_address"), like SecretKeyPattern.
const EmailKeyPattern = `(?i)(?:^|[._-])(?:email|e[_-]mail|email[_-]address)$`

// Rule is one value rule: the name of the engine rule it stands for and
// its regular expression (RE2 syntax). Where the scrubber checks a match
// further in Go (Luhn for credit_card, mod-97 for iban, the never-assigned
// ranges for ssn, the credential's length for bearer, cookie attributes
// for cookie), Pattern alone matches more than the scrubber redacts.
type Rule struct {
	Name    string
	Pattern string
}

// rules are the value rules in the order they are applied: private keys
// and credentials of a known shape first, so that later, broader rules
// (email, digits, IPs) do not take pieces of them.
var rules = []Rule{
	{"private_key", `-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`},
	{"api_key", `\beyJ[A-Za-z0-9_-]{7,}\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`},
	{"api_key", `\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{40,}|gl(?:pat|dt|rt|ptt)-[\w-]{20,}|glsa_\w{32,}|glc_[\w+/=]{32,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{24,}|sk-(?:ant|proj|svcacct|admin)-[\w-]{32,}|sk-[A-Za-z0-9]{32,}|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32,}|sntrys_[\w+/=]{32,}|sntryu_[a-fA-F0-9]{64,}|sq0(?:atp-[\w-]{22,}|csp-[\w-]{40,})|xox[abeoprs]-[A-Za-z0-9-]{20,}|xapp-[A-Za-z0-9-]{20,}|hf_[A-Za-z0-9]{30,}|hv[sbr]\.[\w-]{24,}|npm_[A-Za-z0-9]{36,}|pypi-AgEIcHlwaS5vcmc[\w-]{30,}|lin_api_[A-Za-z0-9]{32,}|do[opr]_v1_[a-fA-F0-9]{64,}|dapi[a-fA-F0-9]{32}|ya29\.[\w.-]{20,}|AIza[\w-]{30,}|GOCSPX-[\w-]{24,}|A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}|AGE-SECRET-KEY-1[A-Z0-9]{50,}|PMAK-[A-Za-z0-9-]{50,}|SK[0-9a-fA-F]{32}|SG\.[\w-]{16,}\.[\w-]{32,})\b`},
	{"api_key", `\b[A-Za-z0-9._~]{3}\dQ~[\w.~-]{30,}`},
	{"api_key", `(?i)aws_secret_access_key[ \t]+[A-Za-z0-9/+]{40}\b`},
	{"bearer", `\b(?:[Bb]earer|[Bb]asic|Token) [A-Za-z0-9._~+/-]+=*.?`},
	{"cookie", `(?i)\b(?:set-)?cookie:[^\r\n]*`},
	{"url_password", `([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)(@)`},
	{"url_password", `([a-zA-Z][a-zA-Z0-9+.-]*://)([\w-]{16,})(@)`},
	{"query_secret", `(?i)([?&](?:token|access_token|refresh_token|id_token|client_secret|api_key|apikey|key|password|passwd|pwd|secret|sig|signature|code|jwt|x-amz-signature|x-amz-credential|x-amz-security-token|awsaccesskeyid|x-goog-signature|x-goog-credential)=)([^&\s#"']+)`},
	{"inline_secret", `(?i)((?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|secret[_-]?key|access[_-]?key|private[_-]?key|signature|session|cvv|cvc|ssn|card[_-]?number|credit[_-]?card|AccountKey|SharedAccessKey)["']?\s*[:=]\s*["']?)([^\s"'&,;)}<>]+)`},
	{"sql_password", `(?i)((?:identified by|password)\s+')([^']*)(')`},
	{"sql_password", `\bAUTH [^\r\n"']+`},
	{"email", `[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b`},
	{"credit_card", `\b(?:\d[ -]?){12,18}\d\b`},
	{"iban", `\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`},
	{"ssn", `\b\d{3}-\d{2}-\d{4}\b`},
	{"ip", `\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b`},
	{"ip", `(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|(?:\b[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?\b|::ffff:(?:\d{1,3}\.){3}\d{1,3}`},
	{"phone", `(?:\+|%2[Bb])[1-9][\d ().-]{7,18}\d\b|\(\d{3}\) ?\d{3}[-. ]\d{4}\b|\b\d{3}[-.]\d{3}[-.]\d{4}\b`},
}

// Rules returns the value rules in the order the scrubber applies them.
// The bench module configures the Collector's blocked_values with their
// patterns.
func Rules() []Rule {
	return append([]Rule(nil), rules...)
}

// Scrubber applies the rules. It is immutable after New and safe for
// concurrent use.
type Scrubber struct {
	rules     []compiled
	secretKey *regexp.Regexp
	emailKey  *regexp.Regexp
}

type compiled struct {
	re *regexp.Regexp
	// repl is a regexp.Expand template; when fn is set it is used instead.
	repl string
	fn   func(m string) string
}

// New compiles the rules.
func New() *Scrubber {
	bearer := regexp.MustCompile(`^(\S+ )([A-Za-z0-9._~+/-]+=*)(.?)$`)
	cookieVal := regexp.MustCompile(`([!#$%&'*+.^_\x60|~0-9A-Za-z-]+=)([^;\s",]+)`)
	// How each rule replaces a match, by position in rules.
	how := []compiled{
		{repl: placeholder.PrivateKey},
		{repl: placeholder.APIKey},
		{repl: placeholder.APIKey},
		{repl: placeholder.APIKey},
		{fn: func(m string) string { return m[:len(m)-40] + placeholder.APIKey }},
		{fn: func(m string) string {
			// Not a challenge (Bearer realm="…") nor a short word.
			p := bearer.FindStringSubmatch(m)
			if p == nil || p[3] == `"` || len(p[2]) < 8 {
				return m
			}
			return p[1] + placeholder.Redacted + p[3]
		}},
		{fn: func(m string) string {
			return cookieVal.ReplaceAllStringFunc(m, func(kv string) string {
				name, _, _ := strings.Cut(kv, "=")
				if isCookieAttr(name) {
					return kv
				}
				return name + "=" + placeholder.Redacted
			})
		}},
		{repl: "${1}" + placeholder.Redacted + "${3}"},
		{repl: "${1}" + placeholder.Redacted + "${3}"},
		{repl: "${1}" + placeholder.Redacted},
		{repl: "${1}" + placeholder.Redacted},
		{repl: "${1}" + placeholder.Redacted + "${3}"},
		{repl: "AUTH " + placeholder.Redacted},
		{repl: placeholder.Email},
		{fn: func(m string) string {
			if isCardNumber(m) {
				return placeholder.Card
			}
			return m
		}},
		{fn: func(m string) string {
			if ibanValid(strings.ReplaceAll(m, " ", "")) {
				return placeholder.IBAN
			}
			return m
		}},
		{fn: func(m string) string {
			if !ssnAssignable(m) {
				return m
			}
			return placeholder.SSN
		}},
		{repl: placeholder.IP},
		{repl: placeholder.IP},
		{repl: placeholder.Phone},
	}
	if len(how) != len(rules) {
		panic("regexpscrub: rules and replacements out of step")
	}
	sc := &Scrubber{
		secretKey: regexp.MustCompile(SecretKeyPattern),
		emailKey:  regexp.MustCompile(EmailKeyPattern),
	}
	for i, r := range rules {
		c := how[i]
		c.re = regexp.MustCompile(r.Pattern)
		sc.rules = append(sc.rules, c)
	}
	return sc
}

// String redacts s with every value rule in turn. A rule whose pattern
// does not match is skipped (MatchString first, as a user would, since
// ReplaceAllString copies its input even when nothing matches). It returns
// s itself and false when nothing changed.
func (sc *Scrubber) String(s string) (string, bool) {
	if s == "" {
		return s, false
	}
	out := s
	for _, r := range sc.rules {
		if !r.re.MatchString(out) {
			continue
		}
		if r.fn != nil {
			out = r.re.ReplaceAllStringFunc(out, r.fn)
		} else {
			out = r.re.ReplaceAllString(out, r.repl)
		}
	}
	if out == s {
		return s, false
	}
	return out, true
}

// Attr redacts the value of the attribute named key: the whole value when
// the key's last segment names a secret ([REDACTED]) or an e-mail address
// ([EMAIL_REDACTED]), else as String does. Empty values and values that
// already are the placeholder are left alone.
func (sc *Scrubber) Attr(key, value string) (string, bool) {
	if value == "" {
		return value, false
	}
	seg := key[strings.LastIndexByte(key, '.')+1:]
	if sc.secretKey.MatchString(seg) {
		return whole(value, placeholder.Redacted)
	}
	if sc.emailKey.MatchString(seg) {
		return whole(value, placeholder.Email)
	}
	return sc.String(value)
}

func whole(value, ph string) (string, bool) {
	if value == ph {
		return value, false
	}
	return ph, true
}

// cookieAttrs are Set-Cookie attributes; their values are not secret.
var cookieAttrs = []string{
	"path", "domain", "expires", "max-age", "samesite", "secure",
	"httponly", "priority", "partitioned", "version", "comment",
}

func isCookieAttr(name string) bool {
	for _, a := range cookieAttrs {
		if strings.EqualFold(name, a) {
			return true
		}
	}
	return false
}

// isCardNumber reports whether the digits of m (spaces and dashes
// dropped) are 13–19 long, start like a card network's numbers (2–6: none
// issues numbers starting with 0, 1, 7, 8 or 9) and pass the Luhn check.
func isCardNumber(m string) bool {
	var d [19]byte
	n := 0
	for i := 0; i < len(m); i++ {
		if c := m[i]; c >= '0' && c <= '9' {
			if n == len(d) {
				return false
			}
			d[n] = c
			n++
		}
	}
	if n < 13 || d[0] < '2' || d[0] > '6' {
		return false
	}
	return checksum.Luhn(d[:n])
}

// ibanValid applies ISO 13616's checks to a compact candidate: 15–34
// upper-case letters and digits with a valid mod-97 check.
func ibanValid(s string) bool {
	return len(s) >= 15 && len(s) <= 34 && checksum.IBAN(s)
}

// ssnAssignable reports whether AAA-GG-SSSS lies outside the ranges the
// SSA never assigns: area 000, 666 or 9xx, group 00, serial 0000.
func ssnAssignable(m string) bool {
	return m[:3] != "000" && m[:3] != "666" && m[0] != '9' && m[4:6] != "00" && m[7:] != "0000"
}
