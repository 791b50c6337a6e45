package redact

import "strings"

// shape is a vendor credential recognised by its fixed prefix and the
// alphabet and length of what follows. There is deliberately no generic
// "long random string" rule: it would take trace IDs, git SHAs and digests
// with it.
type shape struct {
	prefix string
	set    uint16 // alphabet of the body
	min    int    // minimum body length
	max    int    // maximum body length; 0 for none
	mixed  bool   // body must mix two of lower case, upper case and digits
}

// shapes, grouped by first byte in shapesByFirst; within a group a longer
// prefix must come before a shorter one it extends ("sk-ant-" before "sk-").
var shapes = []shape{
	// GitHub, GitLab, Grafana
	{prefix: "ghp_", set: setAlnum, min: 30},
	{prefix: "gho_", set: setAlnum, min: 30},
	{prefix: "ghu_", set: setAlnum, min: 30},
	{prefix: "ghs_", set: setAlnum, min: 30},
	{prefix: "ghr_", set: setAlnum, min: 30},
	{prefix: "github_pat_", set: setAlnum | bUnder, min: 40},
	{prefix: "glpat-", set: setB64URL, min: 20},
	{prefix: "gldt-", set: setB64URL, min: 20},
	{prefix: "glrt-", set: setB64URL, min: 20},
	{prefix: "glptt-", set: setB64URL, min: 20},
	{prefix: "glsa_", set: setAlnum | bUnder, min: 32},
	{prefix: "glc_", set: setB64 | bUnder, min: 32},
	// Stripe
	{prefix: "sk_live_", set: setAlnum, min: 16},
	{prefix: "sk_test_", set: setAlnum, min: 16},
	{prefix: "rk_live_", set: setAlnum, min: 16},
	{prefix: "rk_test_", set: setAlnum, min: 16},
	{prefix: "whsec_", set: setB64, min: 24},
	// Anthropic, OpenAI
	{prefix: "sk-ant-", set: setB64URL, min: 32},
	{prefix: "sk-proj-", set: setB64URL, min: 32},
	{prefix: "sk-svcacct-", set: setB64URL, min: 32},
	{prefix: "sk-admin-", set: setB64URL, min: 32},
	{prefix: "sk-", set: setAlnum, min: 32, mixed: true},
	// Shopify, Sentry, Square
	{prefix: "shpat_", set: setHex, min: 32},
	{prefix: "shpss_", set: setHex, min: 32},
	{prefix: "shpca_", set: setHex, min: 32},
	{prefix: "shppa_", set: setHex, min: 32},
	{prefix: "sntrys_", set: setB64 | bUnder | bDash, min: 32},
	// Honeycomb API and ingest keys
	{prefix: "hcaik_", set: setAlnum, min: 40},
	{prefix: "hcxik_", set: setAlnum, min: 40},
	{prefix: "sntryu_", set: setHex, min: 64},
	{prefix: "sq0atp-", set: setB64URL, min: 22},
	{prefix: "sq0csp-", set: setB64URL, min: 40},
	// Slack
	{prefix: "xoxb-", set: setAlnum | bDash, min: 20},
	{prefix: "xoxp-", set: setAlnum | bDash, min: 20},
	{prefix: "xoxa-", set: setAlnum | bDash, min: 20},
	{prefix: "xoxe-", set: setAlnum | bDash, min: 20},
	{prefix: "xoxo-", set: setAlnum | bDash, min: 20},
	{prefix: "xoxr-", set: setAlnum | bDash, min: 20},
	{prefix: "xoxs-", set: setAlnum | bDash, min: 20},
	{prefix: "xapp-", set: setAlnum | bDash, min: 20},
	// Hugging Face, HashiCorp Vault
	{prefix: "hf_", set: setAlnum, min: 30, mixed: true},
	{prefix: "hvs.", set: setB64URL, min: 24},
	{prefix: "hvb.", set: setB64URL, min: 24},
	{prefix: "hvr.", set: setB64URL, min: 24},
	// npm, PyPI, Linear
	{prefix: "npm_", set: setAlnum, min: 36},
	{prefix: "pypi-AgEIcHlwaS5vcmc", set: setB64URL, min: 30},
	{prefix: "lin_api_", set: setAlnum, min: 32},
	// DigitalOcean, Databricks
	{prefix: "dop_v1_", set: setHex, min: 64},
	{prefix: "doo_v1_", set: setHex, min: 64},
	{prefix: "dor_v1_", set: setHex, min: 64},
	{prefix: "dapi", set: setHex, min: 32, max: 32},
	// Google
	{prefix: "ya29.", set: setB64URL | bDot, min: 20, mixed: true},
	{prefix: "AIza", set: setB64URL, min: 30},
	{prefix: "GOCSPX-", set: setB64URL, min: 24},
	// AWS access key IDs (long-term, temporary, bearer, context)
	{prefix: "AKIA", set: setUAlnum, min: 16, max: 16},
	{prefix: "ASIA", set: setUAlnum, min: 16, max: 16},
	{prefix: "ABIA", set: setUAlnum, min: 16, max: 16},
	{prefix: "ACCA", set: setUAlnum, min: 16, max: 16},
	// age, Postman, Twilio
	{prefix: "AGE-SECRET-KEY-1", set: setUAlnum, min: 50},
	{prefix: "PMAK-", set: setAlnum | bDash, min: 50},
	{prefix: "SK", set: setHex, min: 32, max: 32},
}

// shapesByFirst groups the shapes by first byte, then by second byte, so
// that a word is compared with the few prefixes it could start.
var shapesByFirst [256][]shapeGroup

type shapeGroup struct {
	second byte
	shapes []shape
}

func init() {
	for _, sh := range shapes {
		c, d := sh.prefix[0], sh.prefix[1]
		addPair(c, d)
		groups := shapesByFirst[c]
		k := 0
		for k < len(groups) && groups[k].second != d {
			k++
		}
		if k == len(groups) {
			groups = append(groups, shapeGroup{second: d})
		}
		groups[k].shapes = append(groups[k].shapes, sh)
		shapesByFirst[c] = groups
	}
	// Keywords the word handlers look for besides the shapes.
	addFoldPair('a', 'w') // aws_secret_access_key
	addFoldPair('b', 'e') // Bearer
	addFoldPair('b', 'a') // Basic
	addPair('T', 'o')     // Token
	addPair('A', 'U')     // AUTH (Redis)
	addPair('e', 'y')     // JWT
	addPair('S', 'G')     // SendGrid
}

// vendor matches a known credential shape at the word start i.
func (sc *scanner) vendor(i int) int {
	s := sc.s
	if i+1 >= len(s) {
		return 0
	}
	var group []shape
	for _, g := range shapesByFirst[s[i]] {
		if g.second == s[i+1] {
			group = g.shapes
			break
		}
	}
	for _, sh := range group {
		if !strings.HasPrefix(s[i:], sh.prefix) {
			continue
		}
		bs := i + len(sh.prefix)
		be := span(s, bs, sh.set)
		n := be - bs
		if n < sh.min || (sh.max > 0 && n > sh.max) {
			continue
		}
		if be < len(s) && isWord[s[be]] {
			continue
		}
		if sh.mixed && !mixedClasses(s[bs:be]) {
			continue
		}
		if sc.emit(i, be, ruleAPIKey) {
			return be
		}
		return 0
	}
	return 0
}

// mixedClasses reports whether s mixes at least two of lower case, upper
// case and digits, as random tokens do and words ("sk-learn-…") do not.
func mixedClasses(s string) bool {
	var seen uint16
	for i := 0; i < len(s); i++ {
		seen |= charset[s[i]] & (bLower | bUpper | bDigit)
	}
	return seen&(seen-1) != 0
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			return true
		}
	}
	return false
}

// sendgrid matches SG.<22>.<43>.
func (sc *scanner) sendgrid(i int) int {
	s := sc.s
	if !strings.HasPrefix(s[i:], "SG.") {
		return 0
	}
	a := i + 3
	b := span(s, a, setB64URL)
	if b-a < 16 || b >= len(s) || s[b] != '.' {
		return 0
	}
	c := span(s, b+1, setB64URL)
	if c-b-1 < 32 || (c < len(s) && isWord[s[c]]) {
		return 0
	}
	if sc.emit(i, c, ruleAPIKey) {
		return c
	}
	return 0
}

// jwt matches a JWS in compact form, eyJ<header>.eyJ<payload>.<signature>.
// Requiring the second "eyJ" keeps plain base64 JSON ("state=eyJyZXR1…"),
// which has no dots, and dotted non-JWT strings out.
func (sc *scanner) jwt(i int) int {
	s := sc.s
	if !strings.HasPrefix(s[i:], "eyJ") {
		return 0
	}
	h := span(s, i, setB64URL)
	if h-i < 10 || h+4 >= len(s) || s[h] != '.' || !strings.HasPrefix(s[h+1:], "eyJ") {
		return 0
	}
	p := span(s, h+1, setB64URL)
	if p >= len(s) || s[p] != '.' {
		return 0
	}
	end := span(s, p+1, setB64URL)
	if end < len(s) && isWord[s[end]] {
		return 0
	}
	if sc.emit(i, end, ruleAPIKey) {
		return end
	}
	return 0
}

// awsSecretSpaced matches an AWS secret access key written after its name
// with only blanks between, as in "aws configure set aws_secret_access_key
// <key>". The "name=value" and "name: value" forms go through assign.
func (sc *scanner) awsSecretSpaced(i int) int {
	s := sc.s
	const name = "aws_secret_access_key"
	if !hasFoldPrefix(s[i:], name) {
		return 0
	}
	j := i + len(name)
	vs := j
	for vs < len(s) && (s[vs] == ' ' || s[vs] == '\t') {
		vs++
	}
	if vs == j {
		return 0
	}
	ve := span(s, vs, setAlnum|bPlusSlash)
	if ve-vs != 40 || (ve < len(s) && isWord[s[ve]]) {
		return 0
	}
	if sc.emit(vs, ve, ruleAPIKey) {
		return ve
	}
	return 0
}

// azureSecret matches an Azure AD client secret, whose only fixed part is
// "Q~" after three characters and a digit: "abc1Q~" + 31–34 more. It is
// triggered by the '~', which is rare in telemetry.
func (sc *scanner) azureSecret(i int) int {
	s := sc.s
	st := i - 5
	if st < sc.last || s[i-1] != 'Q' || !isDigit(s[i-2]) {
		return i + 1
	}
	for k := st; k < st+3; k++ {
		if charset[s[k]]&(setAlnum|bUnder|bDot|bTilde) == 0 {
			return i + 1
		}
	}
	if isWord[sc.at(st-1)] {
		return i + 1
	}
	end := span(s, i+1, setB64URL|bDot|bTilde)
	if end-i-1 < 30 || (end < len(s) && isWord[s[end]]) {
		return i + 1
	}
	if sc.emit(st, end, ruleAPIKey) {
		return end
	}
	return i + 1
}
