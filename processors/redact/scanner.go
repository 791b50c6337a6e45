package redact

// match is one detected span of the input and the rule that claims it.
type match struct {
	start, end int32
	rule       ruleID
}

// scanner makes the one pass over a string. It lives on the caller's stack:
// a clean input costs no allocation, and the first few matches fit in buf.
//
// Invariants the handlers keep:
//   - matches are emitted in order and never overlap (emit drops a match
//     that starts before the end of the previous one);
//   - the main loop only lands on a letter or digit at a word start, because
//     every handler returns a match end, the end of the current word, or the
//     byte after a non-word byte;
//   - handlers that look left (e-mail local parts, key names) stop at
//     sc.last, and at(j) reports the byte before a match as ']' — the last
//     byte of every placeholder — so that a second pass over the output,
//     which sees the placeholder, decides exactly as the first pass did.
//     That is what makes redaction idempotent.
type scanner struct {
	e    *Engine
	s    string
	on   uint32 // enabled built-in rules, bit per ruleID
	last int    // end of the last match
	n    int
	buf  [8]match
	more []match // all matches once buf overflows
}

func (sc *scanner) matches() []match {
	if sc.more != nil {
		return sc.more
	}
	return sc.buf[:sc.n]
}

// emit records [start,end) for rule r. It reports false, recording nothing,
// when the rule is disabled or the span overlaps the previous match; the
// caller then falls back as if nothing matched.
func (sc *scanner) emit(start, end int, r ruleID) bool {
	if start < sc.last || end <= start || sc.on&(1<<r) == 0 {
		return false
	}
	m := match{int32(start), int32(end), r}
	switch {
	case sc.more != nil:
		sc.more = append(sc.more, m)
	case sc.n < len(sc.buf):
		sc.buf[sc.n] = m
	default:
		sc.more = make([]match, sc.n, 2*sc.n)
		copy(sc.more, sc.buf[:])
		sc.more = append(sc.more, m)
	}
	sc.n++
	sc.last = end
	return true
}

// at returns s[j] as a second pass would see it: bytes inside the previous
// match read as ']', bytes before the input as 0.
func (sc *scanner) at(j int) byte {
	if j < 0 {
		return 0
	}
	if j < sc.last {
		return ']'
	}
	return sc.s[j]
}

// run makes the single left-to-right pass over sc.s, recording matches.
func (sc *scanner) run() {
	s := sc.s
	for i := 0; i < len(s); {
		switch class[s[i]] {
		case clsSkip:
			i++
		case clsLetter:
			if i+1 < len(s) && hasPair(s[i], s[i+1]) {
				if isLower(s[i]) {
					i = sc.lower(i)
				} else {
					i = sc.upper(i)
				}
				continue
			}
			if i+3 < len(s) && isDigit(s[i+2]) && isDigit(s[i+3]) &&
				(isUpper(s[i]) && isUpper(s[i+1]) || isLower(s[i]) && isLower(s[i+1])) {
				if end := sc.iban(i); end > 0 {
					i = end
					continue
				}
			}
			e := skipWord(s, i+1)
			if e-i >= 16 { // (a long word: see spacedSecret)
				if end := sc.spacedSecret(i, e); end > 0 {
					i = end
					continue
				}
			}
			if e-i >= 6 && s[e-1]|0x20 == 'd' && e+1 < len(s) && s[e] == ' ' {
				// "rcon_password Rc0nMaster#9": a password after its name
				// and a blank, as game-server consoles write it.
				if end := sc.passwordThenValue(i, e); end > 0 {
					i = end
					continue
				}
			}
			i = e
		case clsDigit:
			e := sc.number(i)
			if e-i >= 16 {
				if end := sc.spacedSecret(i, e); end > 0 {
					i = end
					continue
				}
			}
			i = e
		default:
			// '-' is by far the most frequent special byte (UUIDs, host
			// names) and almost never starts a PEM block: decide inline.
			if s[i] == '-' && (i+1 >= len(s) || s[i+1] != '-') {
				if i+1 < len(s) && (s[i+1] == 'p' || s[i+1] == 'u') && !isWord[sc.at(i-1)] {
					if e := sc.cliSecret(i); e > 0 {
						i = e
						continue
					}
				}
				i++
				continue
			}
			i = sc.special(i)
		}
	}
}

// lower handles a word starting with a lower-case letter whose first two
// bytes begin some vendor prefix or keyword.
func (sc *scanner) lower(i int) int {
	s := sc.s
	end := 0
	switch s[i] {
	case 'a':
		end = sc.awsSecretSpaced(i)
	case 'b':
		end = sc.scheme(i)
	case 'e':
		end = sc.jwt(i)
	default:
		end = sc.vendor(i)
	}
	if end == 0 && i+3 < len(s) && isLower(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
		end = sc.iban(i) // a lower-case IBAN whose country code is a pair: "se10 7410 …"
	}
	if end > 0 {
		return end
	}
	return skipWord(s, i+1)
}

// upper handles a word starting with an upper-case letter whose first two
// bytes begin a vendor prefix or a keyword.
func (sc *scanner) upper(i int) int {
	s := sc.s
	end := 0
	switch s[i] {
	case 'A':
		if end = sc.vendor(i); end == 0 {
			if end = sc.redisAuth(i); end == 0 {
				end = sc.awsSecretSpaced(i)
			}
		}
	case 'B', 'T':
		end = sc.scheme(i)
	case 'S':
		if end = sc.vendor(i); end == 0 {
			end = sc.sendgrid(i)
		}
	case 'G', 'P':
		end = sc.vendor(i)
	}
	if end == 0 && i+3 < len(s) && isUpper(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
		end = sc.iban(i) // "SK12…" is both a Twilio prefix and Slovakia
	}
	if end > 0 {
		return end
	}
	return skipWord(s, i+1)
}

func (sc *scanner) special(i int) int {
	switch sc.s[i] {
	case '@':
		return sc.atSign(i)
	case ':':
		return sc.colon(i)
	case '=':
		return sc.assign(i)
	case '%':
		return sc.percent(i)
	case '+':
		return sc.plus(i)
	case '(':
		return sc.paren(i)
	case '\'':
		return sc.sqlQuote(i)
	case '-':
		// "--": a PEM block, or curl's "--user user:password".
		if e := sc.cliSecret(i); e > 0 {
			return e
		}
		return sc.pem(i)
	case '~':
		return sc.azureSecret(i)
	case '\\':
		return sc.backslash(i)
	case '<':
		if i+2 < len(sc.s) && sc.s[i+1] == '<' && sc.s[i+2] == '"' {
			return sc.erlangBinary(i)
		}
		return sc.xmlElement(i)
	}
	return i + 1
}

func (sc *scanner) colon(i int) int {
	s := sc.s
	if i+2 < len(s) && s[i+1] == '/' && s[i+2] == '/' {
		return sc.url(i)
	}
	if end := sc.ipv6(i); end > 0 {
		return end
	}
	return sc.assign(i)
}

func (sc *scanner) atSign(i int) int {
	if end := sc.goDSN(i); end > 0 {
		return end
	}
	return sc.email(i, 1)
}

func (sc *scanner) percent(i int) int {
	s := sc.s
	if i+2 < len(s) {
		switch {
		case s[i+1] == '4' && s[i+2] == '0':
			return sc.email(i, 3)
		case s[i+1] == '2' && (s[i+2] == 'B' || s[i+2] == 'b'):
			// After a blank or punctuation, or after another escape
			// ("user.phone%3D%2B1415…" in an encoded baggage header).
			if !isWord[sc.at(i-1)] || i >= 3 && s[i-3] == '%' && isHex(s[i-2]) && isHex(s[i-1]) {
				if end := sc.phoneIntl(i, i+3); end > 0 {
					return end
				}
			}
		case s[i+1] == '3' && (s[i+2] == 'D' || s[i+2] == 'd'):
			return sc.encodedQuery(i)
		case s[i+1] == '2' && s[i+2] == '5' && i+4 < len(s) && s[i+3] == '4' && s[i+4] == '0':
			return sc.email(i, 5) // "%2540": an '@' encoded twice
		}
	}
	return i + 1
}

func (sc *scanner) plus(i int) int {
	if p := sc.at(i - 1); !isWord[p] && p != '+' {
		if end := sc.phoneIntl(i, i+1); end > 0 {
			return end
		}
	}
	return i + 1
}

// backslash catches the JSON escape of '@' ("\u0040") in e-mail addresses.
func (sc *scanner) backslash(i int) int {
	s := sc.s
	if i+5 < len(s) && s[i+1] == 'u' && s[i+2] == '0' && s[i+3] == '0' && s[i+4] == '4' && s[i+5] == '0' {
		return sc.email(i, 6)
	}
	return i + 1
}
