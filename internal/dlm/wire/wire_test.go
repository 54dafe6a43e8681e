package wire

import (
	"bytes"
	"errors"
	"testing"
)

// pair returns the two ends of a session over one link.
func pair(masterKey, slaveKey string) (master, slave *Session) {
	sn, mn := Nonce(), Nonce()
	return NewSession(NewKey(masterKey), true, sn, mn), NewSession(NewKey(slaveKey), false, sn, mn)
}

func receive(t *testing.T, s *Session, line []byte) (Message, error) {
	t.Helper()
	l, err := Parse(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	return l.Msg, s.Verify(l)
}

func TestSealedLinesArriveIntact(t *testing.T) {
	m, s := pair("k", "k")
	line, err := s.Seal(Message{Type: TypeReport, Connectors: []Connector{{N: 1, Ready: true, Phases: 3, Max: 16, Drawn: [3]float64{15.5, 15.5, 15.4}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := receive(t, m, line)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got.Type != TypeReport || got.V != Version || len(got.Connectors) != 1 || got.Connectors[0].Drawn[2] != 15.4 {
		t.Fatalf("got %+v", got)
	}
	mode := 3
	line, _ = m.Seal(Message{Type: TypeOffers, Offers: []Offer{{N: 1, A: 10}}, FreeChargingMode: &mode})
	got, err = receive(t, s, line)
	if err != nil || got.Offers[0].A != 10 || *got.FreeChargingMode != 3 {
		t.Fatalf("offers: %+v, %v", got, err)
	}
}

func TestForgedReplayedReflectedAndTamperedLinesAreRefused(t *testing.T) {
	m, s := pair("site", "site")
	first, _ := s.Seal(Message{Type: TypeReport})
	if _, err := receive(t, m, first); err != nil {
		t.Fatal(err)
	}
	// Replayed: the same line again.
	if _, err := receive(t, m, first); !errors.Is(err, ErrBadMAC) {
		t.Errorf("replay: %v", err)
	}
	// Reflected: a slave's line sent back to the slave as the master's.
	second, _ := s.Seal(Message{Type: TypeReport})
	if _, err := receive(t, s, second); !errors.Is(err, ErrBadMAC) {
		t.Errorf("reflection: %v", err)
	}
	// Tampered: one byte of the body changed.
	third, _ := m.Seal(Message{Type: TypeOffers, Offers: []Offer{{N: 1, A: 10}}})
	bad := bytes.Replace(third, []byte(`"a":10`), []byte(`"a":90`), 1)
	if _, err := receive(t, s, bad); !errors.Is(err, ErrBadMAC) {
		t.Errorf("tampered: %v", err)
	}
	// Forged: a neighbour with another key.
	_, stranger := pair("other", "other")
	stranger.master = true
	stranger.slaveNonce, stranger.masterNonce = s.slaveNonce, s.masterNonce
	forged, _ := stranger.Seal(Message{Type: TypeOffers})
	if _, err := receive(t, s, forged); !errors.Is(err, ErrBadMAC) {
		t.Errorf("forged: %v", err)
	}
	// Unsigned where a MAC is due.
	plain, _ := Unsigned(Message{Type: TypeOffers})
	if _, err := receive(t, s, plain); !errors.Is(err, ErrBadMAC) {
		t.Errorf("unsigned: %v", err)
	}
}

func TestMalformedLinesAreRefused(t *testing.T) {
	for _, line := range []string{
		"", "-", "- ", "- {}", "- [1]", "zz {\"type\":\"hello\"}", "abcd {\"type\":\"hello\"}",
		"- {\"type\":\"hello\"", "- {\"type\":5}",
		"- " + string(bytes.Repeat([]byte("x"), MaxLine)),
	} {
		if _, err := Parse([]byte(line)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%.40q: %v, want ErrMalformed", line, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	m, _ := pair("k", "k")
	sealed, _ := m.Seal(Message{Type: TypeOffers, Offers: []Offer{{N: 1, A: 6}}})
	hello, _ := Unsigned(Message{Type: TypeHello, Slave: "S1", Nonce: Nonce()})
	f.Add(bytes.TrimSpace(sealed))
	f.Add(bytes.TrimSpace(hello))
	f.Add([]byte("- {\"type\":\"report\",\"connectors\":[{\"n\":1,\"drawn\":[1,2,3]}]}"))
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := Parse(line)
		if err != nil {
			return
		}
		if l.Msg.Type == "" || (l.MAC != nil && len(l.MAC) != 32) {
			t.Fatalf("accepted %q as %+v", line, l)
		}
		// Nothing parsed verifies without the key.
		_, s := pair("k", "k")
		if s.Verify(l) == nil {
			t.Fatalf("verified a line from outside the session: %q", line)
		}
	})
}

func TestARenamedHelloBreaksTheLink(t *testing.T) {
	// A hello carries no MAC: a peer on the path could rename the slave.
	// The id is part of every MAC, so the link does not survive that.
	m, s := pair("k", "k")
	m.SetSlave("S2") // what the master read in the rewritten hello
	s.SetSlave("S1") // who the slave is
	line, _ := s.Seal(Message{Type: TypeReport})
	if _, err := receive(t, m, line); !errors.Is(err, ErrBadMAC) {
		t.Fatalf("a renamed slave's report verified: %v", err)
	}
}
