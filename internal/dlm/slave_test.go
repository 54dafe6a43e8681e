package dlm

import (
	"testing"
	"time"
)

func TestASlaveOffersNothingUntilItsMasterSpeaksAndItsFallbackWhenTheMasterIsLost(t *testing.T) {
	s := NewSlave(8, t0)
	steps := []struct {
		at     time.Duration
		offers map[int]float64 // heard at this time, when not nil
		want   float64         // connector 1's limit
		conn   bool
	}{
		{0, nil, 0, false},                                   // no word yet
		{9 * time.Second, nil, 0, false},                     // still waiting
		{MasterLost, nil, 8, false},                          // no master: fallback
		{15 * time.Second, map[int]float64{1: 16}, 16, true}, // master found
		{15*time.Second + MasterLost - time.Millisecond, nil, 16, true},
		{15*time.Second + MasterLost, nil, 8, false},        // lost again
		{30 * time.Second, map[int]float64{2: 10}, 0, true}, // connector 1 not named: nothing
	}
	for _, st := range steps {
		now := t0.Add(st.at)
		if st.offers != nil {
			s.Heard(st.offers, nil, now)
		}
		if got := s.Limit(1, now); got != st.want {
			t.Errorf("at %v: limit %g, want %g", st.at, got, st.want)
		}
		if got := s.Connected(now); got != st.conn {
			t.Errorf("at %v: connected %v, want %v", st.at, got, st.conn)
		}
	}
	if got, want := s.Next(), t0.Add(30*time.Second+MasterLost); !got.Equal(want) {
		t.Errorf("next %v, want %v", got, want)
	}
}

func TestAMasterRestartedTreatsASlaveAtItsFallbackAsDrawingIt(t *testing.T) {
	// The slave has been on its own, offering its fallback of 16 A; the
	// new master must not hand that current to another EV before the
	// slave has come down to its share.
	m := NewMaster(site16(), t0)
	r := threePhase(32)
	r.Applied, r.Disconnected, r.Drawn = 16, 16, Phases{16, 16, 16}
	m.Report("A", map[int]ConnectorReport{1: r}, t0)
	b := threePhase(32)
	m.Report("B", map[int]ConnectorReport{1: b}, t0)
	m.Step(t0)
	st := m.State(t0)
	if st.Offered[0] > 32 {
		t.Fatalf("offered %v over the 32 A limit while A may still draw 16 A", st.Offered)
	}
	// A reports that it follows its share: the rest may go to B.
	now := t0.Add(time.Second)
	offerA := m.Offers("A")[1]
	r.Applied, r.Drawn = offerA, Phases{offerA, offerA, offerA}
	m.Report("A", map[int]ConnectorReport{1: r}, now)
	m.Step(now)
	if a, b := m.Offers("A")[1], m.Offers("B")[1]; a+b != 32 || a != b {
		t.Fatalf("after A followed: A %g B %g, want 16 and 16", a, b)
	}
}
