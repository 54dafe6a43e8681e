package site

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/evse-dev/evse/internal/dlm"
)

// Quiet links.
//
// A slave whose report would repeat the last one it sent, on a link that
// is up to a master that is on, sends that report every
// dlm.ReportInterval and gets the same offers back: nothing moves but the
// time of the master's last word at the slave and of the slave's last
// report at the master. The site does not step through each of those
// round trips. It keeps such a slave quiet, and before anything looks at
// what they would have changed (the master steps, the slave is driven, a
// link or a charger goes down) it applies the last round trip that would
// have happened by then, through the same calls the messages make
// (Master.Report with the repeated report, SlaveSide.Repeated and Alive),
// and puts those still on their way on the network. A repeated report
// changes nothing in the master but the times it notes, so the decisions
// are the ones every round trip would have given. The master's own
// connectors repeat their report the same way, without a network.

// maybeQuiet makes a slave quiet when its reports repeat the last sent.
func (s *Site) maybeQuiet(ch *charger) {
	if s.everyRoundTrip || ch.quiet || ch.owes || ch.side == nil || ch.off || !ch.linkUp || s.master == nil || s.master.off ||
		ch.sent == nil || !maps.Equal(ch.reports, ch.sent) {
		return
	}
	ch.quiet, ch.masterAt = true, ch.sentAt
	// What the master answers while the link is quiet: any change wakes
	// the slave.
	ch.answer = message{slave: ch, offers: s.dm.Offers(ch.spec.ID), one: s.dm.OnePhase(ch.spec.ID),
		fcm: s.master.settings.Snapshot().FreeChargingMode}
	s.quiet = append(s.quiet, ch)
}

// repeatsBy is the number of repeats a quiet slave sent by t.
func repeatsBy(ch *charger, t time.Time) int {
	if t.Before(ch.sentAt) {
		return 0
	}
	return int(t.Sub(ch.sentAt) / dlm.ReportInterval)
}

// repeatAt is when a quiet slave sent its i-th repeat.
func repeatAt(ch *charger, i int) time.Time {
	return ch.sentAt.Add(time.Duration(i) * dlm.ReportInterval)
}

// repeatsAtMaster gives the master the last repeat of a quiet slave
// that reached it by now.
func (s *Site) repeatsAtMaster(ch *charger) {
	lat := time.Duration(s.sc.Latency)
	if i := repeatsBy(ch, s.now.Add(-lat)); i >= 1 {
		if at := repeatAt(ch, i); at.After(ch.masterAt) {
			s.dm.Report(ch.spec.ID, ch.sent, at.Add(lat))
			ch.masterAt = at
		}
	}
}

// quietMaster brings the master up to date with every quiet slave's
// repeats, and its own connectors', before it steps.
func (s *Site) quietMaster() {
	for _, ch := range s.quiet {
		s.repeatsAtMaster(ch)
	}
	if m := s.master; m != nil && m.spec.Mode == 1 && !m.off && m.sent != nil && !m.owes {
		if k := int(s.now.Sub(m.reportedAt) / dlm.ReportInterval); k >= 1 {
			m.reportedAt = m.reportedAt.Add(time.Duration(k) * dlm.ReportInterval)
			s.dm.Report(m.spec.ID, m.sent, m.reportedAt)
		}
	}
}

// wake ends a slave's quiet and has it driven at this instant.
func (s *Site) wake(ch *charger) {
	if ch.quiet {
		s.unquiet(ch)
		s.touch(ch) // its side wakes it again
	}
}

// unquiet ends a slave's quiet: the round trips that happened by now are
// applied, those under way put on the network.
func (s *Site) unquiet(ch *charger) {
	if !ch.quiet {
		return
	}
	ch.quiet = false
	s.quiet = slices.DeleteFunc(s.quiet, func(x *charger) bool { return x == ch })
	k := repeatsBy(ch, s.now)
	if k < 1 {
		return
	}
	lat := time.Duration(s.sc.Latency)
	s.repeatsAtMaster(ch)
	if j := repeatsBy(ch, s.now.Add(-2*lat)); j >= 1 {
		ch.side.Alive(repeatAt(ch, j).Add(2 * lat))
	}
	for i := 1; i <= k; i++ {
		at := repeatAt(ch, i)
		switch arrived := at.Add(lat); {
		case !at.Add(2 * lat).After(s.now):
		case arrived.After(s.now):
			s.send(message{at: arrived, slave: ch, report: ch.sent})
		case arrived.Equal(s.now):
			// It reached the master at this instant: the master answers
			// it after it steps, as any report.
			s.reporters = append(s.reporters, ch)
		default:
			// The master's answer on its way, as it was sent.
			a := ch.answer
			a.at = at.Add(2 * lat)
			s.send(a)
		}
	}
	last := repeatAt(ch, k)
	ch.side.Repeated(last)
	ch.sentAt = last
}

// wakeAll ends every slave's quiet (the master goes down).
func (s *Site) wakeAll() {
	for len(s.quiet) > 0 {
		s.wake(s.quiet[0])
	}
}

// send puts a message on the network, in order of arrival.
func (s *Site) send(m message) {
	i := sort.Search(len(s.net), func(i int) bool { return s.net[i].at.After(m.at) })
	s.net = slices.Insert(s.net, i, m)
}
