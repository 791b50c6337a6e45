// Package placeholder holds the text that replaces each kind of redacted
// value. The placeholders are part of the contract with every consumer of
// redacted telemetry (DESIGN.md, "Redaction defaults"): dashboards and
// alerts match on them. The engine (processors/redact) and the regexp
// baseline (internal/regexpscrub) both write these.
package placeholder

const (
	Redacted   = "[REDACTED]"
	Email      = "[EMAIL_REDACTED]"
	Card       = "[CREDIT_CARD_REDACTED]"
	APIKey     = "[API_KEY_REDACTED]"
	PrivateKey = "[PRIVATE_KEY_REDACTED]"
	IP         = "[IP_REDACTED]"
	IBAN       = "[IBAN_REDACTED]"
	SSN        = "[SSN_REDACTED]"
	Phone      = "[PHONE_REDACTED]"
)
