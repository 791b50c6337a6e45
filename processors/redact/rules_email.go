package redact

import "strings"

// email matches local@domain around an '@' at s[at] (or its encodings
// "%40" and "\u0040", atLen bytes long). The local part is found by looking
// left, which is cheaper than trying every word start.
//
// The domain needs two labels and an alphabetic top-level label, which is
// what rejects "@scope/pkg@1.2.3", "checkout%401.15.7", "@app.route" and
// "user@localhost".
func (sc *scanner) email(at, atLen int) int {
	s := sc.s
	next := at + atLen
	ls := at
	for ls > sc.last && at-ls < 64 && isLocal[s[ls-1]] {
		ls--
	}
	// A local part starts with a word byte; leading punctuation belongs to
	// the surrounding text ("-alice@…", "+bob@…").
	for ls < at && !isWord[s[ls]] && s[ls] != '_' {
		ls++
	}
	if ls == at {
		return next
	}
	end := domainEnd(s, next)
	if end < 0 || densitySuffix(s[next:end]) {
		return next
	}
	if end < len(s) && s[end] == ':' && s[ls:at] == "git" {
		// An scp-style Git remote, git@github.com:org/repo.git.
		return end
	}
	if !sc.emit(ls, end, ruleEmail) {
		return next
	}
	return end
}

// densitySuffix reports whether domain is the scale suffix of an asset's
// file name, as in "logo@2x.png" and "icon@1.5x.webp": not an address.
func densitySuffix(domain string) bool {
	name, ext, ok := strings.Cut(domain, "x.")
	if !ok || name == "" || strings.IndexByte(ext, '.') >= 0 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isDigit(name[i]) && name[i] != '.' {
			return false
		}
	}
	switch strings.ToLower(ext) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico", "bmp", "tiff":
		return true
	}
	return false
}

// domainEnd returns the end of the host name starting at i, or -1 when it
// is not a plausible e-mail domain. When the last label is not alphabetic
// ("bar.com.4111"), the domain ends at the last label that is.
func domainEnd(s string, i int) int {
	best := -1
	labels := 0
	j := i
	for {
		st := j
		for j < len(s) && j-st <= 63 && (isWord[s[j]] || s[j] == '-') {
			j++
		}
		for j > st && s[j-1] == '-' {
			j--
		}
		if j == st || s[st] == '-' {
			break
		}
		labels++
		if labels >= 2 && j-st >= 2 && (allLetters(s[st:j]) || isPunycodeTLD(s[st:j])) {
			best = j
		}
		if j+1 < len(s) && s[j] == '.' && isWord[s[j+1]] {
			j++
			continue
		}
		break
	}
	if best > 0 && best < len(s) && isWord[s[best]] {
		return -1
	}
	return best
}

// placeholderEndsAt reports whether s[:end] ends with a placeholder.
func placeholderEndsAt(s string, end int) bool {
	for b := end - 2; b >= 0 && end-b <= 40; b-- {
		if s[b] == '[' {
			return isPlaceholderShape(s[b:end])
		}
	}
	return false
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLower(s[i]) && !isUpper(s[i]) {
			return false
		}
	}
	return true
}

// goDSN matches the password of a Go MySQL driver DSN,
// "user:pass@tcp(host:3306)/db", which has no "://" to announce it.
func (sc *scanner) goDSN(at int) int {
	s := sc.s
	rest := s[at+1:]
	if !(hasFoldPrefix(rest, "tcp(") || hasFoldPrefix(rest, "tcp6(") ||
		hasFoldPrefix(rest, "unix(") || hasFoldPrefix(rest, "udp(")) {
		return 0
	}
	us := at
	for us > sc.last && at-us < 256 && !isSpace(s[us-1]) && s[us-1] != '"' && s[us-1] != '\'' && s[us-1] != '=' && s[us-1] != '/' {
		if s[us-1] == ']' && placeholderEndsAt(s, us) {
			break // as far as a first pass, which stopped at its match, looked
		}
		us--
	}
	for c := us; c < at; c++ {
		if s[c] == ':' {
			if c+1 < at && !isPlaceholderShape(s[c+1:at]) && sc.emit(c+1, at, ruleURLPassword) {
				return at + 1
			}
			return 0
		}
	}
	return 0
}

// isPunycodeTLD reports whether label is an internationalised top-level
// domain as DNS carries it: "xn--p1ai" (.рф).
func isPunycodeTLD(label string) bool {
	if len(label) < 6 || !hasFoldPrefix(label, "xn--") {
		return false
	}
	for i := 4; i < len(label); i++ {
		if !isWord[label[i]] {
			return false
		}
	}
	return true
}
