package redact

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/otelsentry/otelsentry/internal/checksum"
)

// FuzzRedact checks the properties every caller relies on, for any input:
// no panic; redact(redact(x)) == redact(x); the output is valid UTF-8 and the same on every call; and a
// generated e-mail address, card number, IPv4 address or API key planted
// anywhere (with a space on each side, so that it stays a token of its own)
// never survives.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"",
		"user alice@example.com paid with 4111 1111 1111 1111 from 203.0.113.7",
		"Authorization: Bearer ya29.a0AfH6SMBx1234567890abcdef",
		`{"password": "q==lyZ*CN~K~8pyR", "email": "[EMAIL_REDACTED]"}`,
		"postgres://app:s3cr3t@db:5432/x?sslmode=disable&password=x",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
		"Set-Cookie: session=abc; Path=/; HttpOnly",
		"[2001:db8::1]:443 GB82 WEST 1234 5698 7654 32 554-05-5356 +1 (212) 555-0180",
		"version 1.2.3.4 traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"[CREDIT_CARD:…4242] [EMAIL:5f3a9c1e] Bearer [REDACTED]",
		"Grüße, Müller ✓ €",
		"GET /cb?code=4/0AX4&state=xyz&access_token=abc.def#x smtp://a%40b.co:p%40ss@h:587",
		`{\"password\":\"x\",\"token\": \"y\"} client_secret: z` + "\nPGPASSWORD=w psql",
		"ALTER USER 'r'@'%' IDENTIFIED BY 'p''q' AUTH default s3cr3t\nWITH PASSWORD 'x'",
		"root:pw@tcp(db:3306)/x https://902417da71f9b0271e10d57c74109916@o1.ingest.sentry.io/2",
		"ghp_P8DCV3JB0njkzkvkRGA3BNNbqqt9nC0lLwxD AKIAIOSFODNN7EXAMPLE sk-proj-abcDEF123 xoxb-1-2-abc",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig aws_secret_access_key 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",
		"Cookie: a=b; sid=c\r\nSet-Cookie: s=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; HttpOnly",
		"+44 7700 900631 (312) 555-0193 303.555.0145 %2B4915112345678 fe80::1 ::ffff:10.0.0.1",
		"AccountKey=abc==;SharedAccessKey=def abc1Q~abcdefghijklmnopqrstuvwxyz012345 SG.a.b",
		`alice\u0040example.com Key (email)=(x@y.zz) 'a@b.cd' 4111-1111-1111-1111 1.2.3.4.5`,
	} {
		f.Add(s, uint8(0), uint16(0), uint64(1))
	}
	e := Default()
	f.Fuzz(func(t *testing.T, text string, kind uint8, off uint16, seed uint64) {
		once, _ := e.String(text)
		if twice, changed := e.String(once); twice != once || changed {
			t.Fatalf("String not idempotent:\n  in:    %q\n  once:  %q\n  twice: %q", text, once, twice)
		}
		if !utf8.ValidString(once) {
			t.Fatalf("invalid UTF-8 out of %q: %q", text, once)
		}
		// Seen three times, a clean value may be answered by the memo of
		// clean values: the answer must not change.
		for range 2 {
			if again, _ := e.String(text); again != once {
				t.Fatalf("String changed its answer on a later call:\n  in:    %q\n  first: %q\n  later: %q", text, once, again)
			}
		}
		a, _ := e.Attr("http.request.header.x-custom", text)
		if b, _ := e.Attr("http.request.header.x-custom", a); b != a {
			t.Fatalf("Attr not idempotent:\n  in:    %q\n  once:  %q\n  twice: %q", text, a, b)
		}

		rng := rand.New(rand.NewPCG(seed, uint64(kind)<<16|uint64(off)))
		secret := genSecret(rng, kind)
		p := int(off) % (len(text) + 1)
		for p > 0 && p < len(text) && !utf8.RuneStart(text[p]) {
			p--
		}
		lead := " "
		if kind%4 == 2 {
			// A dotted quad after "version" is a version, by design: give
			// the address a context that cannot read as one.
			lead = " from "
		}
		planted := text[:p] + lead + secret + " " + text[p:]
		out, _ := e.String(planted)
		if strings.Contains(out, secret) {
			t.Fatalf("planted %q survived:\n  in:  %q\n  out: %q", secret, planted, out)
		}
	})
}

// genSecret generates a fresh secret of one of the shapes the engine must
// always catch.
func genSecret(r *rand.Rand, kind uint8) string {
	const (
		lower = "abcdefghijklmnopqrstuvwxyz"
		alnum = lower + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		hexd  = "0123456789abcdef"
	)
	pick := func(set string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = set[r.IntN(len(set))]
		}
		return string(b)
	}
	switch kind % 4 {
	case 0:
		local := pick(lower, 1) + pick(lower+"0123456789._+-", r.IntN(12)) + pick(lower, 1)
		return local + "@" + pick(lower, 1+r.IntN(8)) + "." + pick(lower, 2+r.IntN(4))
	case 1:
		return genCard(r)
	case 2:
		first := 1 + r.IntN(222) // 1–223 but 127: loopback is kept
		if first >= 127 {
			first++
		}
		ip := fmt.Sprintf("%d.%d.%d.%d", first, r.IntN(256), r.IntN(256), 1+r.IntN(254))
		return ip
	default:
		// A digit and both cases in every body, as real keys have.
		body := func(n int) string { return pick(alnum, n-3) + "a" + "Z" + "7" }
		switch r.IntN(8) {
		case 0:
			return "ghp_" + body(36)
		case 1:
			return "sk_live_" + body(24)
		case 2:
			return "AKIA" + strings.ToUpper(pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
		case 3:
			return "xoxb-" + pick("0123456789", 12) + "-" + pick("0123456789", 13) + "-" + body(24)
		case 4:
			return "glpat-" + body(20)
		case 5:
			return "shpat_" + pick(hexd, 32)
		case 6:
			return "sk-proj-" + body(48)
		default:
			return "eyJ" + body(20) + ".eyJ" + body(30) + "." + body(43)
		}
	}
}

// genCard returns a Luhn-valid number with a real network prefix and
// length, compact or grouped in fours.
func genCard(r *rand.Rand) string {
	nets := []struct {
		prefix string
		n      int
	}{{"4", 16}, {"4", 13}, {"51", 16}, {"55", 16}, {"2221", 16}, {"34", 15}, {"37", 15}, {"6011", 16}, {"3528", 16}, {"36", 14}, {"62", 19}}
	nt := nets[r.IntN(len(nets))]
	d := []byte(nt.prefix)
	for len(d) < nt.n-1 {
		d = append(d, byte('0'+r.IntN(10)))
	}
	d = append(d, '0')
	for c := byte('0'); c <= '9'; c++ {
		d[len(d)-1] = c
		if checksum.Luhn(d) {
			break
		}
	}
	switch sep := r.IntN(3); sep {
	case 0:
		return string(d)
	default:
		var b strings.Builder
		for i, c := range d {
			if i > 0 && i%4 == 0 {
				b.WriteByte(" -"[sep-1])
			}
			b.WriteByte(c)
		}
		return b.String()
	}
}

func TestGeneratedSecretsAreRedacted(t *testing.T) {
	// The fuzz generators, checked on their own: every shape they produce
	// is one the engine recognises in isolation.
	e := Default()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		s := genSecret(r, uint8(i))
		if out, _ := e.String("x " + s + " y"); strings.Contains(out, s) {
			t.Fatalf("generated %q survived: %q", s, out)
		}
	}
}
