package redact

import "github.com/otelsentry/otelsentry/internal/checksum"

// isCardNumber reports whether the ASCII digits d have the length and
// issuer prefix of a payment card network and pass the Luhn check.
//
// Prefixes follow the networks' published ranges (Visa 4; Mastercard
// 51–55 and 2221–2720; Amex 34, 37; Diners 300–305, 36, 38–39; JCB
// 3528–3589; Mir 2200–2204; Discover, UnionPay, Maestro and RuPay within
// 50 and 56–69). No network issues numbers starting with 0, 1, 7, 8 or 9,
// which is what keeps epoch-millisecond timestamps (1…) and most order
// and tracking numbers out.
func isCardNumber(d []byte) bool {
	n := len(d)
	if n < 13 || n > 19 {
		return false
	}
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p4 := p2*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	ok := false
	switch d[0] {
	case '4':
		ok = n == 13 || n == 16 || n == 19
	case '2':
		switch {
		case p4 >= 2221 && p4 <= 2720:
			ok = n == 16
		case p4 >= 2200 && p4 <= 2204:
			ok = n >= 16
		}
	case '3':
		switch {
		case p2 == 34 || p2 == 37:
			ok = n == 15
		case p2 == 36 || p2 == 38 || p2 == 39 || (p4 >= 3000 && p4 <= 3059):
			ok = n >= 14
		case p4 >= 3528 && p4 <= 3589:
			ok = n >= 16
		}
	case '5':
		switch {
		case p2 >= 51 && p2 <= 55:
			ok = n == 16
		case p2 == 50 || (p2 >= 56 && p2 <= 58):
			ok = true
		}
	case '6':
		ok = true
	}
	return ok && checksum.Luhn(d)
}
