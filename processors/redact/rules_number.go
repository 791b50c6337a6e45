package redact

import (
	"net/netip"
	"strings"
)

// maxGroups bounds the digit groups of one numeric token. Longer runs are
// scanned in windows that overlap by four groups, enough for a card
// printed 4-4-4-4-3.
const maxGroups = 12

// numTok is a run of digit groups joined by one kind of single separator:
// "4111 1111 1111 1111", "10.0.0.1", "303-555-0145", "1753739583295".
type numTok struct {
	start, end [maxGroups]int32
	ng         int
	sep        byte // 0 when there is a single group
}

func (t *numTok) glen(k int) int { return int(t.end[k] - t.start[k]) }

// number handles a word that starts with a digit: cards, IPv4, SSNs and
// North-American phone numbers, which all need a word boundary on both
// sides.
func (sc *scanner) number(i int) int {
	s := sc.s
	// The digits continue a dotted or dashed identifier: the "4dd2" group of
	// a UUID, the "1060" of "6.8.0-1060-aws", the "2" of "v1.2.3.4".
	if p := sc.at(i - 1); (p == '-' || p == '.' || p == '_') && isWord[sc.at(i-2)] {
		return skipWord(s, i+1)
	}
	// Fast path for the common short number ("200", "12ms", "$1"): one
	// group too short for a card, with no separator that could extend it.
	j := i + 1
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j-i < 13 && (j == len(s) || (s[j] != ' ' && s[j] != '-' && s[j] != '.')) {
		return skipWord(s, j)
	}
	var t numTok
	j = i
	mixed := false // stopped at another kind of separator: "0 124.47.17.9"
	overflow := false
	for {
		st := j
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		t.start[t.ng], t.end[t.ng] = int32(st), int32(j)
		t.ng++
		if j+1 >= len(s) {
			break
		}
		c := s[j]
		if (c != ' ' && c != '-' && c != '.') || !isDigit(s[j+1]) {
			break
		}
		if t.sep != 0 && c != t.sep {
			mixed = true
			break
		}
		if t.ng == maxGroups {
			// A long run of numbers ("0 0 0 0 … 4111 1111 1111 1111"):
			// look at it in overlapping windows of groups.
			overflow = true
			break
		}
		t.sep = c
		j++
	}
	end := int(t.end[t.ng-1])
	resume := end
	if end < len(s) && (isWord[s[end]] || s[end] == '_') {
		// Glued to letters: "20ms", "1b0dcdb5", "4m12s" — an identifier.
		// Only its last group is; the groups before still count.
		resume = skipWord(s, end)
		if t.ng == 1 {
			return resume
		}
		t.ng--
		end = int(t.end[t.ng-1])
		mixed, overflow = false, false
	}
	switch t.sep {
	case '.':
		if t.ng == 4 {
			if sc.ipv4Tok(&t, i) {
				return end
			}
		}
		if t.ng == 3 && sc.nanp(&t) {
			return end
		}
		if e := sc.phoneNational(&t); e > 0 {
			return e
		}
	case '-':
		if t.ng == 3 && sc.ssn(&t) {
			return end
		}
		if (t.ng == 3 || t.ng == 4) && sc.nanp(&t) {
			return end
		}
		if e := sc.phoneNational(&t); e > 0 {
			return e
		}
	}
	if t.sep != '.' {
		if e := sc.card(&t); e > 0 {
			return e
		}
		if e := sc.phone00(&t); e > 0 {
			return e
		}
		if e := sc.phoneNational(&t); e > 0 {
			return e
		}
	}
	if overflow {
		return int(t.start[t.ng-5])
	}
	if mixed && t.ng > 1 {
		// The last group may start a token of the other kind.
		return int(t.start[t.ng-1])
	}
	return resume
}

// card tries the whole token, then its contiguous sub-runs of groups
// ("order 12 4111 1111 1111 1111"), as a card number.
func (sc *scanner) card(t *numTok) int {
	total := 0
	for k := 0; k < t.ng; k++ {
		total += t.glen(k)
	}
	if total < 13 {
		return 0
	}
	var d [19]byte
	for a := 0; a < t.ng; a++ {
		for b := t.ng - 1; b >= a; b-- {
			n := 0
			for k := a; k <= b; k++ {
				n += t.glen(k)
			}
			if n < 13 || n > 19 {
				continue
			}
			n = 0
			for k := a; k <= b; k++ {
				n += copy(d[n:], sc.s[t.start[k]:t.end[k]])
			}
			if isCardNumber(d[:n]) && sc.emit(int(t.start[a]), int(t.end[b]), ruleCreditCard) {
				return int(t.end[b])
			}
		}
	}
	return 0
}

func (sc *scanner) ipv4Tok(t *numTok, i int) bool {
	for k := 0; k < 4; k++ {
		if !octet(sc.s[t.start[k]:t.end[k]]) {
			return false
		}
	}
	if sc.versionContext(i, int(t.end[3])) {
		return false
	}
	if e := int(t.end[3]); e+1 < len(sc.s) && sc.s[e] == '-' && (isLower(sc.s[e+1]) || isUpper(sc.s[e+1])) {
		// A pre-release or build suffix: V8's "11.3.244.8-node.23".
		return false
	}
	if g := sc.s[t.start[0]:t.end[0]]; g == "127" || sc.s[i:t.end[3]] == "0.0.0.0" {
		// Loopback and "any": no one's address, and everywhere in logs
		// ("dial tcp 127.0.0.1:6379", "listening on 0.0.0.0:8080").
		return true
	}
	if e := int(t.end[3]); e-i == 7 && !sc.addressContext(i, e) {
		// Four single digits, "vSphere 8.0.2.0", "plugin amazon 1.3.1.1":
		// a version far more often than an address (one address in
		// ~16 000 has four one-digit octets, and the public resolvers
		// among them, 8.8.8.8, 1.1.1.1, are no one's). Written where an
		// address goes — with a port or a prefix length, as a URL's host,
		// after ip=, from, host … — it is one.
		return true
	}
	return sc.emit(i, int(t.end[3]), ruleIP)
}

// addressContext reports whether the dotted quad s[i:e] is written as an
// address: a port (":8080") or prefix length ("/24") follows, it is a
// URL's host, or the word before it names an address or a peer.
func (sc *scanner) addressContext(i, e int) bool {
	s := sc.s
	if e+1 < len(s) && (s[e] == ':' || s[e] == '/') && isDigit(s[e+1]) {
		return true
	}
	if strings.HasSuffix(s[sc.tokenStart(i):i], "//") || sc.at(i-1) == '@' {
		return true
	}
	j := i
	for n := 0; n < 3 && j > sc.last && strings.IndexByte(` =:"'`, s[j-1]) >= 0; n++ {
		j--
	}
	we := j
	for j > sc.last && isKeyChar[s[j-1]] {
		j--
	}
	w := s[j:we]
	if k := strings.LastIndexAny(w, "._-"); k >= 0 {
		w = w[k+1:]
	}
	switch strings.ToLower(w) {
	case "ip", "ipv4", "addr", "address", "host", "hostname", "client", "remote", "peer", "from", "to",
		"src", "source", "dst", "dest", "destination", "nameserver", "server", "gateway", "resolver", "dns", "at":
		return true
	}
	return false
}

// inURLAuthority reports whether the '@' at j ends the userinfo of a URL:
// its token holds "://".
func (sc *scanner) inURLAuthority(j int) bool {
	return strings.Contains(sc.s[sc.tokenStart(j):j], "://")
}

// tokenStart returns where the token that s[j] ends starts: back, at most
// 512 bytes, to a blank, a quote, '(' or '=' ("dsn=postgres://…",
// "SecretId=arn:aws:…"). It only reads: a token may span earlier matches.
func (sc *scanner) tokenStart(j int) int {
	s := sc.s
	k := j
	for k > 0 && j-k < 512 && !isSpace(s[k-1]) && s[k-1] != '"' && s[k-1] != '\'' && s[k-1] != '(' && s[k-1] != '=' {
		k--
	}
	return k
}

// lettersBefore reports whether the token that ends at j is a product
// name: letters, joined by '-' or '_' ("Chrome", "acme-android"), with no
// digit — "worker-2" names a host.
func (sc *scanner) lettersBefore(j int) bool {
	k := j
	for k > sc.last && isKeyChar[sc.s[k-1]] && sc.s[k-1] != '.' {
		if c := sc.s[k-1]; !isAlpha(c) && !((c == '-' || c == '_') && k < j && isAlpha(sc.s[k])) {
			return false
		}
		k--
	}
	return k < j && isAlpha(sc.s[k]) && (k == 0 || !isKeyChar[sc.s[k-1]])
}

func octet(g string) bool {
	if len(g) == 0 || len(g) > 3 {
		return false
	}
	v := 0
	for i := 0; i < len(g); i++ {
		v = v*10 + int(g[i]-'0')
	}
	return v <= 255
}

// versionContext reports whether the dotted quad at i reads as a version:
// "version 1.2.3.4", "ver=1.2.3.4", "Chrome/120.0.0.0", "pkg@1.2.3.4".
// ("v1.2.3.4" never gets here: the digits are glued to the "v".)
func (sc *scanner) versionContext(i, end int) bool {
	p := sc.at(i - 1)
	switch p {
	case '@':
		// "pkg@1.2.3.4" is a version; the host of "scheme://user:pw@1.2.3.4"
		// is an address, and so is a private one or one with a port after
		// a user name ("orders/app@10.0.3.14:53422", "admin@10.0.3.14").
		if sc.inURLAuthority(i - 1) {
			return false
		}
		if end+1 < len(sc.s) && sc.s[end] == ':' && isDigit(sc.s[end+1]) {
			return false // a port follows
		}
		a, err := netip.ParseAddr(sc.s[i:end])
		return err != nil || !a.IsPrivate() && !sharedIPv4.Contains(a)
	case '/':
		// A product token, "Chrome/120.0.0.0"; not a host, "worker-2/10.0.0.5".
		return sc.lettersBefore(i - 1)
	case ' ', '=', ':':
	case '"', '\'':
		// An attribute argument, AssemblyVersion("1.0.0.0"), or a quoted
		// value, version="1.2.3.4", {"version": "1.2.3.4"}.
		j := i - 1
		for n := 0; n < 4 && j > sc.last && strings.IndexByte(`(=: "'`, sc.s[j-1]) >= 0; n++ {
			j--
		}
		return sc.versionWordBefore(j)
	default:
		return false
	}
	j := i - 1
	if p == ' ' && sc.at(j-1) == ':' {
		j--
	}
	return sc.versionWordBefore(j)
}

// versionWordBefore reports whether the word ending at j names a version:
// "version", "build", "FileVersion", "versionName", ….
func (sc *scanner) versionWordBefore(j int) bool {
	we := j
	for j > sc.last && isWord[sc.s[j-1]] {
		j--
	}
	w := sc.s[j:we]
	if n := len(w) - len("version"); n > 0 && isUpper(w[n]) && isLower(w[n-1]) && equalFold(w[n:], "version") {
		// "FileVersion: 6.2.9.200", "ProductVersion=…".
		return true
	}
	if len(w) > len("version") && hasFoldPrefix(w, "version") && isUpper(w[len("version")]) {
		// Android's "versionName=4.20.1.3".
		return true
	}
	for _, v := range [...]string{"version", "ver", "release", "build", "rev", "revision", "firmware", "fw",
		"previous", "prev", "patch", "upgraded", "downgraded", "sdk", "plugin", "library"} {
		if equalFold(w, v) {
			return true
		}
	}
	return false
}

// ssn matches a US Social Security number, AAA-GG-SSSS, with the ranges the
// SSA never assigns excluded (area 000, 666, 900–999; group 00; serial
// 0000). The dashes are required: nine bare digits are far more often
// something else.
func (sc *scanner) ssn(t *numTok) bool {
	if t.glen(0) != 3 || t.glen(1) != 2 || t.glen(2) != 4 {
		return false
	}
	s := sc.s
	a, g, se := s[t.start[0]:t.end[0]], s[t.start[1]:t.end[1]], s[t.start[2]:t.end[2]]
	if a == "000" || a == "666" || a[0] == '9' || g == "00" || se == "0000" {
		return false
	}
	return sc.emit(int(t.start[0]), int(t.end[2]), ruleSSN)
}

// nanp matches a North-American number written 303-555-0145, 303.555.0145
// or 1-303-555-0145.
func (sc *scanner) nanp(t *numTok) bool {
	k := 0
	if t.ng == 4 {
		if t.glen(0) != 1 || sc.s[t.start[0]] != '1' {
			return false
		}
		k = 1
	}
	if t.glen(k) != 3 || t.glen(k+1) != 3 || t.glen(k+2) != 4 {
		return false
	}
	s := sc.s
	if s[t.start[k]] < '2' || s[t.start[k+1]] < '2' {
		return false
	}
	return sc.emit(int(t.start[0]), int(t.end[k+2]), rulePhone)
}

// phoneIntl matches an international number whose digits start at i after
// a '+' (or "%2B") at start: "+447700900631", "+1 (212) 555-0180",
// "+55 11 95668-9551". E.164 allows at most 15 digits; fewer than 9 is
// more likely a time-zone offset or an arithmetic sign.
func (sc *scanner) phoneIntl(start, i int) int {
	s := sc.s
	if i >= len(s) || s[i] < '1' || s[i] > '9' {
		return 0
	}
	digits := 0
	end := 0
	j := i
	for j < len(s) {
		st := j
		n := 0
		if s[j] == '(' {
			j++
			for j < len(s) && isDigit(s[j]) && j-st <= 5 {
				j++
			}
			n = j - st - 1
			if n == 0 || j >= len(s) || s[j] != ')' {
				break
			}
			j++
			// "+49 (0)30 …": the bracketed trunk prefix runs on into the
			// area code.
			for j < len(s) && isDigit(s[j]) && n < 8 {
				j++
				n++
			}
		} else {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			n = j - st
			if n == 0 {
				break
			}
		}
		if digits+n > 15 || glued(s, j) || (j < len(s) && s[j] == '_') {
			// Past E.164, or the group runs on into a word ("0A::0"): the
			// number, if any, ended with the previous group.
			break
		}
		digits += n
		end = j
		if j+1 < len(s) && (s[j] == ' ' || s[j] == '-' || s[j] == '.') && (isDigit(s[j+1]) || s[j+1] == '(') {
			j++
			continue
		}
		if j < len(s) && s[j] == '(' {
			continue
		}
		break
	}
	if digits < 9 {
		return 0
	}
	if sc.emit(start, end, rulePhone) {
		return end
	}
	return 0
}

// phone00 matches an international number dialled with the "00" prefix
// instead of '+', written in groups: "0044 20 7946 0958", "0049-30-1234567".
// The first group is the prefix and a country code ("0044", "001",
// "00353"); a zero-padded ID is rarely split into groups like that.
func (sc *scanner) phone00(t *numTok) int {
	s := sc.s
	if t.ng < 3 || (t.sep != ' ' && t.sep != '-') {
		return 0
	}
	g0 := s[t.start[0]:t.end[0]]
	if len(g0) < 3 || len(g0) > 5 || g0[0] != '0' || g0[1] != '0' || !countryCode(g0[2:]) {
		return 0
	}
	return sc.phoneIntl(int(t.start[0]), int(t.start[0])+2)
}

// phoneNational matches a number in the national format of the countries
// that dial a trunk 0, as they group it: the UK's and Germany's — a first
// group of 3–5 digits starting "0" and a non-zero digit, then one or two
// groups of 3 or more, 10 or 11 digits in all, separated by single spaces
// ("020 7946 0321", "07700 900461", "030 1234567") — France's, five
// pairs separated by spaces or dots ("06 41 27 90 59", "01.42.68.53.00"),
// and East Asia's, three groups with dashes, the last of four
// ("03-5561-8802").
func (sc *scanner) phoneNational(t *numTok) int {
	s := sc.s
	if s[t.start[0]] != '0' || t.glen(0) < 2 || s[t.start[0]+1] == '0' {
		return 0
	}
	ng := t.ng // the groups the number takes
	switch {
	case t.ng == 5 && (t.sep == ' ' || t.sep == '.') && t.glen(0) == 2 && t.glen(1) == 2 && t.glen(2) == 2 && t.glen(3) == 2 && t.glen(4) == 2:
		// France's "06 41 27 90 59". Five groups of other lengths are left
		// to the cases below, which take what a second pass would: a
		// following group ("010 0000 000 0 0::0") must not change the
		// answer for the number before it.
	case t.ng == 2 && t.sep == '-' && t.glen(0) <= 4 && t.glen(1) >= 6:
		// The Netherlands' "06-41827395": 10 digits.
		if t.glen(0)+t.glen(1) != 10 {
			return 0
		}
	case t.ng == 4 && t.sep == ' ' && (t.glen(0) == 3 || t.glen(0) == 4) && t.glen(1) == 3 && t.glen(2) == 2 && t.glen(3) == 2:
		// Ukraine's and Turkey's "067 482 19 33", "0542 771 09 38".
	case t.ng == 3 && t.sep == '-' && t.glen(0) <= 5 && t.glen(2) == 4:
		// Japan's, Korea's and Taiwan's: "03-5561-8802", "090-1234-5678",
		// "02-3456-7890" — 10 or 11 digits.
		if n := t.glen(0) + t.glen(1) + 4; n != 10 && n != 11 {
			return 0
		}
	case t.ng >= 2 && t.sep == ' ' && t.glen(0) <= 5 && t.glen(0) >= 3:
		// Two or three groups of three or more digits; what follows them
		// ("020 7946 0321 12") is not part of the number, as a second pass
		// that sees it redacted would not take it either.
		// The number takes as many of them as keep it within 10–12
		// digits (12: German mobiles, "0151 2345 6789").
		ng = 1
		n := t.glen(0)
		for ng < t.ng && ng < 3 && t.glen(ng) >= 3 {
			n += t.glen(ng)
			ng++
		}
		for ng > 2 && n > 12 {
			ng--
			n -= t.glen(ng)
		}
		if ng < 2 || n < 10 || n > 12 || ng < t.ng && t.glen(ng) >= 4 {
			// (The last: the digits run on in another group of four or
			// more, "0989 4273 3442 8776 36" — an account number; a short
			// group after a number, "020 7946 0321 123", is an extension
			// or a count.)
			return 0
		}
	default:
		return 0
	}
	end := int(t.end[ng-1])
	if sc.emit(int(t.start[0]), end, rulePhone) {
		return end
	}
	return 0
}

// countryCode reports whether cc is an assigned ITU calling code (E.164):
// 1 and 7; the two-digit codes; and the three-digit blocks.
func countryCode(cc string) bool {
	switch len(cc) {
	case 1:
		return cc == "1" || cc == "7"
	case 2:
		switch cc {
		case "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41",
			"43", "44", "45", "46", "47", "48", "49", "51", "52", "53", "54",
			"55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
			"81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98":
			return true
		}
	case 3:
		switch cc[:2] {
		case "21", "22", "23", "24", "25", "26", "28", "29", "35", "37", "38",
			"42", "50", "59", "67", "68", "69", "85", "87", "88", "96", "97", "99":
			return true
		}
	}
	return false
}

// paren matches "(312) 555-0193".
func (sc *scanner) paren(i int) int {
	s := sc.s
	if i+1 < len(s) && s[i+1] == '\'' && isWord[sc.at(i-1)] {
		if e := sc.connectArgs(i); e > 0 {
			return e
		}
	}
	if isWord[sc.at(i-1)] || i+13 > len(s) {
		return i + 1
	}
	j := i + 1
	if !(isDigit(s[j]) && isDigit(s[j+1]) && isDigit(s[j+2]) && s[j+3] == ')' && s[j] >= '2') {
		return i + 1
	}
	j += 4
	if s[j] == ' ' {
		j++
	}
	if j+8 > len(s) || s[j] < '2' {
		return i + 1
	}
	for k := 0; k < 3; k++ {
		if !isDigit(s[j+k]) {
			return i + 1
		}
	}
	if c := s[j+3]; c != '-' && c != '.' && c != ' ' {
		return i + 1
	}
	for k := 4; k < 8; k++ {
		if !isDigit(s[j+k]) {
			return i + 1
		}
	}
	end := j + 8
	if end < len(s) && (isWord[s[end]] || s[end] == '_') {
		return i + 1
	}
	if sc.emit(i, end, rulePhone) {
		return end
	}
	return i + 1
}

// sharedIPv4 is the shared address space of carrier-grade NAT (RFC 6598),
// as personal as a private address.
var sharedIPv4 = netip.MustParsePrefix("100.64.0.0/10")
