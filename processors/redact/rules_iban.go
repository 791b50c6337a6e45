package redact

import "github.com/otelsentry/otelsentry/internal/checksum"

// ibanLengths is the IBAN length of each country in the SWIFT IBAN
// registry, indexed by its two-letter code. The exact length plus the
// mod-97 check leaves about one random candidate in ten thousand.
var ibanLengths [26][26]uint8

func init() {
	for _, e := range []struct {
		cc string
		n  uint8
	}{
		{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
		{"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22},
		{"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20},
		{"EG", 29}, {"ES", 24}, {"FI", 18}, {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22},
		{"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28},
		{"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30},
		{"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21},
		{"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
		{"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
		{"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33},
		{"SA", 24}, {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27},
		{"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29},
		{"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
	} {
		ibanLengths[e.cc[0]-'A'][e.cc[1]-'A'] = e.n
	}
}

// iban matches an IBAN at the word start i, compact
// ("DE51223880426912957485") or printed in groups of four
// ("GB38 OLZC 9893 7599 8456 80").
func (sc *scanner) iban(i int) int {
	s := sc.s
	// Written in lower case ("it60x0542…") the letters must all be lower
	// case; the check digits are computed on the upper-case form.
	lower := isLower(s[i])
	want := int(ibanLengths[s[i]&^0x20-'A'][s[i+1]&^0x20-'A'])
	if want == 0 {
		return 0
	}
	letter := func(c byte) bool {
		if lower {
			return isLower(c)
		}
		return isUpper(c)
	}
	var buf [34]byte
	k, grp, j := 0, 0, i
	for k < want && j < len(s) {
		c := s[j]
		if letter(c) || isDigit(c) {
			if lower && !isDigit(c) {
				c -= 'a' - 'A'
			}
			buf[k] = c
			k++
			grp++
			j++
			continue
		}
		if c == ' ' && grp == 4 && j+1 < len(s) && (letter(s[j+1]) || isDigit(s[j+1])) {
			grp = 0
			j++
			continue
		}
		break
	}
	if k != want || (j < len(s) && isWord[s[j]]) || !checksum.IBAN(buf[:k]) {
		return 0
	}
	if sc.emit(i, j, ruleIBAN) {
		return j
	}
	return 0
}
