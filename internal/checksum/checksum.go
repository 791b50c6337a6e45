// Package checksum holds the check-digit algorithms the redaction rules
// validate candidates with, shared by the engine (processors/redact) and
// the regexp baseline it is measured against (internal/regexpscrub).
package checksum

// Luhn reports whether the ASCII digits d pass the Luhn (mod 10) check.
// Alone it accepts about one random digit string in ten; callers check a
// card network's prefix and length first.
func Luhn[T ~string | ~[]byte](d T) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// IBAN applies ISO 13616's mod-97 check to a compact IBAN (upper-case
// letters and digits, no spaces): move the first four characters to the
// end, read letters as 10–35, and the number mod 97 must be 1. Any other
// byte, or fewer than five characters, fails. Country lengths are the
// caller's business.
func IBAN[T ~string | ~[]byte](b T) bool {
	if len(b) < 5 {
		return false
	}
	r := 0
	for i := range len(b) {
		c := b[(i+4)%len(b)]
		switch {
		case '0' <= c && c <= '9':
			r = (r*10 + int(c-'0')) % 97
		case 'A' <= c && c <= 'Z':
			r = (r*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return r == 1
}
