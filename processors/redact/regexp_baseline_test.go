package redact

import (
	"regexp"
	"strings"
	"testing"
)

// regexpScrubber is the straightforward way to write this package: one
// regular expression per rule, applied in turn with the standard library's
// regexp. It exists only as the baseline the benchmarks compare the
// hand-written scanner against, so it covers the same rules with the same
// validators (Luhn, mod-97, SSN ranges) but not every refinement.
type regexpScrubber struct {
	rules []reRule
}

type reRule struct {
	re *regexp.Regexp
	// repl is a regexp.Expand template; when fn is set it is used instead.
	repl string
	fn   func(m string) string
}

func newRegexpScrubber() *regexpScrubber {
	card := func(m string) string {
		d := make([]byte, 0, 19)
		for i := 0; i < len(m); i++ {
			if isDigit(m[i]) {
				d = append(d, m[i])
			}
		}
		if isCardNumber(d) {
			return phCard
		}
		return m
	}
	iban := func(m string) string {
		c := strings.ReplaceAll(m, " ", "")
		if n := ibanLengths[c[0]-'A'][c[1]-'A']; int(n) == len(c) && ibanValid([]byte(c)) {
			return phIBAN
		}
		return m
	}
	ssn := func(m string) string {
		if m[:3] == "000" || m[:3] == "666" || m[0] == '9' || m[4:6] == "00" || m[7:] == "0000" {
			return m
		}
		return phSSN
	}
	bearer := regexp.MustCompile(`^(\S+ )([A-Za-z0-9._~+/-]+=*)(.?)$`)
	scheme := func(m string) string {
		p := bearer.FindStringSubmatch(m)
		if p == nil || p[3] == `"` || len(p[2]) < 8 {
			return m
		}
		return p[1] + phRedacted + p[3]
	}
	cookieVal := regexp.MustCompile(`([!#$%&'*+.^_\x60|~0-9A-Za-z-]+=)([^;\s",]+)`)
	cookie := func(m string) string {
		return cookieVal.ReplaceAllStringFunc(m, func(kv string) string {
			name, _, _ := strings.Cut(kv, "=")
			if isCookieAttr(name) {
				return kv
			}
			return name + "=" + phRedacted
		})
	}
	return &regexpScrubber{rules: []reRule{
		{re: regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`), repl: phPrivateKey},
		{re: regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{7,}\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`), repl: phAPIKey},
		{re: regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{40,}|gl(?:pat|dt|rt|ptt)-[\w-]{20,}|glsa_\w{32,}|glc_[\w+/=]{32,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{24,}|sk-(?:ant|proj|svcacct|admin)-[\w-]{32,}|sk-[A-Za-z0-9]{32,}|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32,}|sntrys_[\w+/=]{32,}|sntryu_[a-fA-F0-9]{64,}|sq0(?:atp-[\w-]{22,}|csp-[\w-]{40,})|xox[abeoprs]-[A-Za-z0-9-]{20,}|xapp-[A-Za-z0-9-]{20,}|hf_[A-Za-z0-9]{30,}|hv[sbr]\.[\w-]{24,}|npm_[A-Za-z0-9]{36,}|pypi-AgEIcHlwaS5vcmc[\w-]{30,}|lin_api_[A-Za-z0-9]{32,}|do[opr]_v1_[a-fA-F0-9]{64,}|dapi[a-fA-F0-9]{32}|ya29\.[\w.-]{20,}|AIza[\w-]{30,}|GOCSPX-[\w-]{24,}|A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}|AGE-SECRET-KEY-1[A-Z0-9]{50,}|PMAK-[A-Za-z0-9-]{50,}|SK[0-9a-fA-F]{32}|SG\.[\w-]{16,}\.[\w-]{32,})\b`), repl: phAPIKey},
		{re: regexp.MustCompile(`\b[A-Za-z0-9._~]{3}\dQ~[\w.~-]{30,}`), repl: phAPIKey},
		{re: regexp.MustCompile(`(?i)aws_secret_access_key[ \t]+[A-Za-z0-9/+]{40}\b`), fn: func(m string) string {
			return m[:len(m)-40] + phAPIKey
		}},
		{re: regexp.MustCompile(`\b(?:[Bb]earer|[Bb]asic|Token) [A-Za-z0-9._~+/-]+=*.?`), fn: scheme},
		{re: regexp.MustCompile(`(?i)\b(?:set-)?cookie:[^\r\n]*`), fn: cookie},
		{re: regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)(@)`), repl: "${1}" + phRedacted + "${3}"},
		{re: regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)([\w-]{16,})(@)`), repl: "${1}" + phRedacted + "${3}"},
		{re: regexp.MustCompile(`(?i)([?&](?:token|access_token|refresh_token|id_token|client_secret|api_key|apikey|key|password|passwd|pwd|secret|sig|signature|code|jwt|x-amz-signature|x-amz-credential|x-amz-security-token|awsaccesskeyid|x-goog-signature|x-goog-credential)=)([^&\s#"']+)`), repl: "${1}" + phRedacted},
		{re: regexp.MustCompile(`(?i)((?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|secret[_-]?key|access[_-]?key|private[_-]?key|signature|session|cvv|cvc|ssn|card[_-]?number|credit[_-]?card|AccountKey|SharedAccessKey)["']?\s*[:=]\s*["']?)([^\s"'&,;)}<>]+)`), repl: "${1}" + phRedacted},
		{re: regexp.MustCompile(`(?i)((?:identified by|password)\s+')([^']*)(')`), repl: "${1}" + phRedacted + "${3}"},
		{re: regexp.MustCompile(`\bAUTH [^\r\n"']+`), repl: "AUTH " + phRedacted},
		{re: regexp.MustCompile(`[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b`), repl: phEmail},
		{re: regexp.MustCompile(`\b(?:\d[ -]?){12,18}\d\b`), fn: card},
		{re: regexp.MustCompile(`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`), fn: iban},
		{re: regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`), fn: ssn},
		{re: regexp.MustCompile(`\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b`), repl: phIP},
		{re: regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|(?:\b[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?\b|::ffff:(?:\d{1,3}\.){3}\d{1,3}`), repl: phIP},
		{re: regexp.MustCompile(`(?:\+|%2[Bb])[1-9][\d ().-]{7,18}\d\b|\(\d{3}\) ?\d{3}[-. ]\d{4}\b|\b\d{3}[-.]\d{3}[-.]\d{4}\b`), repl: phPhone},
	}}
}

func (r *regexpScrubber) String(s string) string {
	for _, rule := range r.rules {
		if rule.fn != nil {
			s = rule.re.ReplaceAllStringFunc(s, rule.fn)
		} else {
			s = rule.re.ReplaceAllString(s, rule.repl)
		}
	}
	return s
}

// TestRegexpBaselineRedacts keeps the baseline honest: a benchmark against
// a scrubber that redacts nothing would prove nothing.
func TestRegexpBaselineRedacts(t *testing.T) {
	r := newRegexpScrubber()
	for _, tc := range []struct{ in, secret string }{
		{"user alice@example.com failed", "alice@example.com"},
		{"card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"},
		{"token ghp_P8DCV3JB0njkzkvkRGA3BNNbqqt9nC0lLwxD leaked", "ghp_P8DCV3JB0njkzkvkRGA3BNNbqqt9nC0lLwxD"},
		{"postgres://app:s3cr3t@db:5432/x", "s3cr3t"},
		{"from 203.0.113.7", "203.0.113.7"},
		{"password=hunter2", "hunter2"},
	} {
		if out := r.String(tc.in); strings.Contains(out, tc.secret) {
			t.Errorf("baseline kept %q: %q", tc.secret, out)
		}
	}
}
