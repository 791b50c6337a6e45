package redact

// Byte classes drive the scanner's main loop: one table lookup per byte
// decides whether anything can start there. Most bytes of realistic
// telemetry (spaces, lower-case words, punctuation) fall in clsSkip or
// clsWord and cost a lookup and a branch.
const (
	clsSkip    uint8 = iota // nothing starts here
	clsLetter               // a word: look at its first two bytes (pairs)
	clsDigit                // digit: cards, IPs, SSNs, phones
	clsSpecial              // a byte some rule hinges on: @ : = % + ( ' - ~ \
)

// Character-set bits for token bodies (vendor key shapes).
const (
	bLower uint16 = 1 << iota
	bUpper
	bDigit
	bDash
	bUnder
	bPlusSlash
	bEq
	bDot
	bHexLetter
	bTilde

	setAlnum  = bLower | bUpper | bDigit
	setUAlnum = bUpper | bDigit
	setB64URL = setAlnum | bDash | bUnder
	setB64    = setAlnum | bPlusSlash | bEq
	setHex    = bDigit | bHexLetter
)

var (
	class   [256]uint8
	isWord  [256]bool   // [A-Za-z0-9]
	charset [256]uint16 // bits above
	// isKeyChar covers attribute and header names as they appear in text:
	// "db.password", "x-api-key", "AWS_SECRET_ACCESS_KEY".
	isKeyChar [256]bool
	// isLocal covers the local part of an e-mail address as it appears in
	// telemetry (quoted and exotic forms are not worth the false positives).
	isLocal [256]bool
	// isToken68 is RFC 7235's token68, the credential of an Authorization
	// header, without the trailing '=' padding.
	isToken68 [256]bool
)

// pairs holds the first two bytes of every prefix and keyword a rule can
// start a word with ("gh" for ghp_, "AK" for AKIA, "be" for bearer, "DE"
// for a German IBAN, …). A word whose first two bytes are not in it — most
// words — is skipped without calling any matcher. 8 KiB: it stays in L1.
var pairs [1 << 16 / 64]uint64

func addPair(a, b byte) {
	k := uint(a)<<8 | uint(b)
	pairs[k>>6] |= 1 << (k & 63)
}

// addFoldPair registers a keyword matched case-insensitively.
func addFoldPair(a, b byte) {
	for _, x := range []byte{lowerByte(a), a &^ 0x20} {
		for _, y := range []byte{lowerByte(b), b &^ 0x20} {
			addPair(x, y)
		}
	}
}

func hasPair(a, b byte) bool {
	k := uint(a)<<8 | uint(b)
	return pairs[k>>6]&(1<<(k&63)) != 0
}

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case 'a' <= b && b <= 'z':
			class[c] = clsLetter
			isWord[c] = true
			charset[c] |= bLower
		case 'A' <= b && b <= 'Z':
			class[c] = clsLetter
			isWord[c] = true
			charset[c] |= bUpper
		case '0' <= b && b <= '9':
			class[c] = clsDigit
			isWord[c] = true
			charset[c] |= bDigit
		}
		if ('a' <= b && b <= 'f') || ('A' <= b && b <= 'F') {
			charset[c] |= bHexLetter
		}
		isKeyChar[c] = isWord[c] || b == '_' || b == '.' || b == '-'
		isLocal[c] = isWord[c] || b == '.' || b == '_' || b == '%' || b == '+' || b == '-'
		isToken68[c] = isWord[c] || b == '-' || b == '.' || b == '_' || b == '~' || b == '+' || b == '/'
	}
	for _, b := range []byte("@:=%+('-~\\<") {
		class[b] = clsSpecial
	}
	charset['-'] |= bDash
	charset['_'] |= bUnder
	charset['+'] |= bPlusSlash
	charset['/'] |= bPlusSlash
	charset['='] |= bEq
	charset['.'] |= bDot
	charset['~'] |= bTilde
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool { return isUpper(c) || isLower(c) }
func isHex(c byte) bool   { return charset[c]&setHex != 0 }
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func lowerByte(c byte) byte {
	if isUpper(c) {
		return c + 'a' - 'A'
	}
	return c
}

// skipWord returns the end of the [A-Za-z0-9] run starting at i.
func skipWord(s string, i int) int {
	for i < len(s) && isWord[s[i]] {
		i++
	}
	return i
}

// glued reports whether a candidate ending at end runs on into a word
// ("10.0.0.1abc"). Only a word byte on both sides glues: after a non-word
// byte ("fe80::"), a following word is a word start, where another match
// may begin — and a second pass, seeing that match's placeholder, must
// decide the same way.
func glued(s string, end int) bool {
	return end > 0 && end < len(s) && isWord[s[end]] && isWord[s[end-1]]
}

// span returns the end of the run of bytes in set starting at i.
func span(s string, i int, set uint16) int {
	for i < len(s) && charset[s[i]]&set != 0 {
		i++
	}
	return i
}

// hasFoldPrefix reports whether s starts with prefix, ignoring ASCII case;
// prefix must be lower case.
func hasFoldPrefix(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lowerByte(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// equalFold reports whether s equals lower (lower case), ignoring ASCII case.
func equalFold(s, lower string) bool {
	return len(s) == len(lower) && hasFoldPrefix(s, lower)
}

// hasFoldSuffix reports whether s ends with suffix (lower case), ignoring
// ASCII case.
func hasFoldSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && hasFoldPrefix(s[len(s)-len(suffix):], suffix)
}
