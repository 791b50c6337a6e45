package checksum

import "testing"

func TestLuhn(t *testing.T) {
	for _, c := range []struct {
		d    string
		want bool
	}{
		{"4111111111111111", true}, {"5555555555554444", true}, {"378282246310005", true},
		{"4111111111111112", false}, {"1733000000000", false}, {"0", true}, {"18", true}, {"19", false},
	} {
		if got := Luhn(c.d); got != c.want {
			t.Errorf("Luhn(%q) = %v", c.d, got)
		}
		if got := Luhn([]byte(c.d)); got != c.want {
			t.Errorf("Luhn([]byte(%q)) = %v", c.d, got)
		}
	}
}

func TestIBAN(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"DE89370400440532013000", true}, {"GB82WEST12345698765432", true}, {"FR1420041010050500013M02606", true},
		{"DE89370400440532013001", false}, {"de89370400440532013000", false}, {"DE89 3704", false}, {"DE8", false},
	} {
		if got := IBAN(c.s); got != c.want {
			t.Errorf("IBAN(%q) = %v", c.s, got)
		}
	}
}

func TestNoAllocation(t *testing.T) {
	b := []byte("DE89370400440532013000")
	if n := testing.AllocsPerRun(100, func() { IBAN(b); Luhn(b) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
