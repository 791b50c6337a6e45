package redact

import "strings"

// ipv6 matches an IPv6 address around the ':' at i: its first group is
// found by looking left over at most four hex digits ("2001:db8::1",
// "fe80::1"), or it starts right here with "::" ("::ffff:192.0.2.1").
// IPv4 addresses are handled by number.
func (sc *scanner) ipv6(i int) int {
	s := sc.s
	st := i
	for st > sc.last && i-st < 4 && isHex(s[st-1]) {
		st--
	}
	if st == i {
		if i+1 >= len(s) || s[i+1] != ':' {
			return 0
		}
	}
	if p := sc.at(st - 1); isWord[p] || p == ':' || p == '.' {
		return 0
	}
	end := parseIPv6(s, st)
	if end <= i+1 || glued(s, end) || (end < len(s) && s[end] == '.') || !hasDigit(s[st:end]) {
		return 0
	}
	if isClockTail(s[st:end]) {
		// A date and a time joined by "::", Erlang's "9-May-2024::07:29:33".
		return 0
	}
	if e := hexPairsEnd(s, st); e > 0 {
		// A certificate fingerprint or a MAC address, "5E:FF:56:A2:…":
		// pairs of hex digits, six or more, no "::".
		return e
	}
	if sc.emit(st, end, ruleIP) {
		return end
	}
	return 0
}

// parseIPv6 returns the end of the IPv6 address at i, or -1. It accepts
// eight groups, or fewer (at least two) with one "::", optionally ending in
// a dotted IPv4 address. A lone "::1" is rejected: it is loopback, and
// "a::b" is more often a path separator in code than an address.
func parseIPv6(s string, i int) int {
	j := i
	groups := 0
	dbl := false
	end := -1
	if j+1 < len(s) && s[j] == ':' && s[j+1] == ':' {
		dbl = true
		j += 2
	}
	for groups < 8 {
		st := j
		for j < len(s) && j-st < 4 && isHex(s[j]) {
			j++
		}
		if j == st {
			break
		}
		if j < len(s) && s[j] == '.' {
			// embedded IPv4 takes the place of two groups
			if e := parseIPv4(s, st); e > 0 && groups <= 6 {
				groups += 2
				end = e
			}
			break
		}
		if j < len(s) && isHex(s[j]) {
			// A run of more than four digits is no group: the address, if
			// any, ended before it — as it does before any other word, so
			// that a second pass, seeing the run redacted, agrees.
			break
		}
		groups++
		end = j
		if j+1 < len(s) && s[j] == ':' && s[j+1] == ':' {
			if dbl {
				break
			}
			dbl = true
			j += 2
			end = j
			continue
		}
		if j+1 < len(s) && s[j] == ':' && isHex(s[j+1]) {
			j++
			continue
		}
		break
	}
	if dbl {
		if groups < 2 || groups > 7 {
			return -1
		}
	} else if groups != 8 {
		return -1
	}
	return end
}

// parseIPv4 returns the end of the dotted quad at i, or -1.
func parseIPv4(s string, i int) int {
	j := i
	for k := 0; k < 4; k++ {
		st := j
		for j < len(s) && isDigit(s[j]) && j-st < 3 {
			j++
		}
		if j == st || !octet(s[st:j]) {
			return -1
		}
		if k < 3 {
			if j >= len(s) || s[j] != '.' {
				return -1
			}
			j++
		}
	}
	if j < len(s) && isDigit(s[j]) {
		return -1
	}
	return j
}

// hexPairsEnd returns the end of a run of six or more two-digit hex groups
// joined by ':' at i ("02:42:ac:11:00:02", a SHA-256 fingerprint), or 0.
func hexPairsEnd(s string, i int) int {
	n := 0
	j := i
	for j+1 < len(s) && isHex(s[j]) && isHex(s[j+1]) && (j+2 == len(s) || !isHex(s[j+2])) {
		n++
		j += 2
		if j+1 < len(s) && s[j] == ':' && isHex(s[j+1]) {
			j++
			continue
		}
		break
	}
	if n < 6 || (j < len(s) && s[j] == ':') {
		return 0
	}
	return j
}

// isClockTail reports whether a, an IPv6 candidate of decimal digits only,
// ends in a time of day: "::" then hh:mm or hh:mm:ss, two digits each.
func isClockTail(a string) bool {
	for i := 0; i < len(a); i++ {
		if !isDigit(a[i]) && a[i] != ':' {
			return false
		}
	}
	k := strings.Index(a, "::")
	if k < 0 {
		return false
	}
	parts := strings.Split(a[k+2:], ":")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	for i, p := range parts {
		if len(p) != 2 || i == 0 && p > "23" || i > 0 && p > "59" {
			return false
		}
	}
	return true
}
