package redact

import (
	"strings"

	"github.com/otelsentry/otelsentry/internal/placeholder"
)

// ruleID indexes Engine.rules: the built-in rules first, in this order, then
// the custom rules of the Config. It is a byte so that a match stays small
// enough for the scanner's on-stack buffer.
type ruleID uint8

const (
	ruleEmail ruleID = iota
	ruleCreditCard
	ruleAPIKey
	ruleBearer
	ruleCookie
	rulePrivateKey
	ruleURLPassword
	ruleQuerySecret
	ruleInlineSecret
	ruleSQLPassword
	ruleIP
	ruleIBAN
	ruleSSN
	rulePhone
	ruleKeySecret
	ruleKeyEmail
	ruleKeyIP
	numBuiltin
)

// maxCustomRules keeps rule IDs within a byte.
const maxCustomRules = 255 - int(numBuiltin)

// Placeholders are part of the contract with every consumer of redacted
// telemetry (DESIGN.md, "Redaction defaults"); change them only with it.
const (
	phRedacted   = placeholder.Redacted
	phEmail      = placeholder.Email
	phCard       = placeholder.Card
	phAPIKey     = placeholder.APIKey
	phPrivateKey = placeholder.PrivateKey
	phIP         = placeholder.IP
	phIBAN       = placeholder.IBAN
	phSSN        = placeholder.SSN
	phPhone      = placeholder.Phone
)

var builtin = [numBuiltin]struct{ name, placeholder string }{
	ruleEmail:        {"email", phEmail},
	ruleCreditCard:   {"credit_card", phCard},
	ruleAPIKey:       {"api_key", phAPIKey},
	ruleBearer:       {"bearer", phRedacted},
	ruleCookie:       {"cookie", phRedacted},
	rulePrivateKey:   {"private_key", phPrivateKey},
	ruleURLPassword:  {"url_password", phRedacted},
	ruleQuerySecret:  {"query_secret", phRedacted},
	ruleInlineSecret: {"inline_secret", phRedacted},
	ruleSQLPassword:  {"sql_password", phRedacted},
	ruleIP:           {"ip", phIP},
	ruleIBAN:         {"iban", phIBAN},
	ruleSSN:          {"ssn", phSSN},
	rulePhone:        {"phone", phPhone},
	ruleKeySecret:    {"key_secret", phRedacted},
	ruleKeyEmail:     {"key_email", phEmail},
	ruleKeyIP:        {"key_ip", phIP},
}

// RuleNames returns the names of the built-in rules in a stable order. The
// names are what Config.Disable, Config.Modes, Counts and Match.Rule use.
// The slice is freshly allocated on each call.
func RuleNames() []string {
	out := make([]string, numBuiltin)
	for i := range builtin {
		out[i] = builtin[i].name
	}
	return out
}

func builtinByName(name string) (ruleID, bool) {
	for i := range builtin {
		if builtin[i].name == name {
			return ruleID(i), true
		}
	}
	return 0, false
}

// hashTag derives the label used by hash mode from a placeholder:
// "[EMAIL_REDACTED]" → "EMAIL", "[REDACTED]" → "REDACTED". A placeholder
// of another shape falls back to the upper-cased rule name.
func hashTag(placeholder, name string) string {
	if len(placeholder) > 2 && placeholder[0] == '[' && placeholder[len(placeholder)-1] == ']' {
		inner := placeholder[1 : len(placeholder)-1]
		if validTag(inner) {
			if t, ok := strings.CutSuffix(inner, "_REDACTED"); ok && t != "" {
				return t
			}
			return inner
		}
	}
	return strings.ToUpper(name)
}

func validTag(t string) bool {
	if t == "" || !isUpper(t[0]) {
		return false
	}
	for i := 1; i < len(t); i++ {
		c := t[i]
		if !isUpper(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// isPlaceholderShape reports whether v is exactly one placeholder this
// package writes: "[TAG]", "[TAG:hex8]" (hash mode) or "[TAG:…1234]" (mask
// mode). Values already in that shape are left alone so that redaction is
// idempotent.
func isPlaceholderShape(v string) bool {
	if len(v) < 3 || v[0] != '[' || v[len(v)-1] != ']' {
		return false
	}
	inner := v[1 : len(v)-1]
	tag, rest, hasRest := strings.Cut(inner, ":")
	if !validTag(tag) {
		return false
	}
	if !hasRest {
		return true
	}
	if r, ok := strings.CutPrefix(rest, "…"); ok {
		return len(r) == 4 && isDigit(r[0]) && isDigit(r[1]) && isDigit(r[2]) && isDigit(r[3])
	}
	if len(rest) != hashHexLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !isHex(rest[i]) {
			return false
		}
	}
	return true
}
