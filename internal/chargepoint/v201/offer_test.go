package v201

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/chargepoint/v16"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// speaking201 is the fake CSMS as a transport that agreed on ocpp2.0.1.
type speaking201 struct{ *fakeCSMS }

func (speaking201) Subprotocol() string { return Subprotocol }

// A station that speaks both versions offers, while messages wait in its
// journal, only the protocol they were made for (the last connection's,
// kept in its store across restarts); with an empty journal, both. The
// events made offline say so.
func TestAStationWithMessagesWaitingOffersTheirProtocolOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cat, err := config.NewCatalogue(map[string]string{"AllowOfflineTxForUnknownId": "true"})
		if err != nil {
			t.Fatal(err)
		}
		settings, err := config.Open(cat, &config.MemStorage{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		board := sim.New(sim.Options{Connectors: 1})
		store := &kv.Mem{}
		face16, face201 := v16.Unbound(), Unbound()
		st, err := station.New(station.Options{Settings: settings, Board: board, Store: store, Clock: clock.Real{},
			ReconnectSpread: time.Second, ID: "CS-1"}, v16.Legacy{}, face16.Protocol(), face201.Protocol())
		if err != nil {
			t.Fatal(err)
		}
		face16.Bind(st)
		face201.Bind(st)
		csms := newFakeCSMS(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { st.Run(ctx, speaking201{csms}); close(done) }()
		go board.Run(ctx)
		defer func() { cancel(); <-done }()
		synctest.Wait()
		time.Sleep(5 * time.Second)
		both := []string{v16.Subprotocol, Subprotocol}
		if got := st.Offer(both); !slices.Equal(got, both) {
			t.Errorf("with nothing waiting: offers %v", got)
		}
		csms.offline.Store(true)
		st.Disconnected()
		board.Plug(1, sim.EV{})
		board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		if st.JournalDepth() == 0 {
			t.Fatal("nothing waits in the journal")
		}
		if got := st.Offer(both); !slices.Equal(got, []string{Subprotocol}) {
			t.Errorf("with TransactionEvents waiting: offers %v, want 2.0.1 only", got)
		}
		// E14: the transaction's messages wait; another's do not.
		if a := mustCall(t, face201, "GetTransactionStatus", `{"transactionId":"EVSE-1"}`); a["messagesInQueue"] != true || a["ongoingIndicator"] != true {
			t.Errorf("GetTransactionStatus of the offline transaction: %v", a)
		}
		if a := mustCall(t, face201, "GetTransactionStatus", `{"transactionId":"EVSE-7"}`); a["messagesInQueue"] != false || a["ongoingIndicator"] != false {
			t.Errorf("GetTransactionStatus of another: %v", a)
		}
		// Delivered once the link is back, the events say they happened
		// offline.
		csms.offline.Store(false)
		st.Connected()
		time.Sleep(10 * time.Second)
		evs := csms.sent("TransactionEvent")
		if len(evs) == 0 {
			t.Fatal("no TransactionEvent after the link came back")
		}
		if e := decode[ocpp201.TransactionEventRequest](t, evs[0]); e.Offline == nil || !*e.Offline {
			t.Errorf("the Started made offline: %+v", e)
		}
	})
}
