package v16

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// securityEvents lists the SecurityEventNotifications sent, as
// "type@seconds since the start".
func securityEvents(t *testing.T, f *fakeCSMS) []string {
	var out []string
	for _, c := range f.sent("SecurityEventNotification") {
		r := decode[ocpp16.SecurityEventNotificationRequest](t, c)
		out = append(out, fmt.Sprintf("%s@%d", r.Type, int(r.Timestamp.Sub(f.start).Seconds())))
	}
	return out
}

// securityLog lists the security log as "type: techInfo".
func securityLog(t *testing.T, store kv.Store) []string {
	t.Helper()
	entries, err := runner.SecurityLog(store, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, string(e.Type)+": "+e.TechInfo)
	}
	return out
}

// Critical security events are queued while offline and delivered once
// when the link is back; every event, critical or not, is in the
// security log, which survives a restart.
func TestCriticalSecurityEventsAreQueuedAndEveryEventIsLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.offline.Store(true)
		store := &kv.Mem{}
		r := startRig(t, csms, nil, store)
		synctest.Wait()
		time.Sleep(10 * time.Second)
		// A change of a security setting, a CALL that breaks its schema and
		// a refused server certificate: logged, not sent.
		ctx := context.Background()
		if _, err := r.cp.HandleCall(ctx, "ChangeConfiguration", json.RawMessage(`{"key":"CpoName","value":"Other CPO"}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.cp.HandleCall(ctx, "Reset", json.RawMessage(`{"type":"Sideways"}`)); err == nil {
			t.Fatal("a Reset of type Sideways was taken")
		}
		r.cp.SecurityIncident(chargepoint.SecurityIncident{Type: chargepoint.SecInvalidCentralSystemCertificate, TechInfo: "x509: certificate signed by unknown authority"})
		synctest.Wait()
		if n := len(csms.sent("")); n != 0 {
			t.Fatalf("%d CALLs went out while offline", n)
		}
		csms.offline.Store(false)
		r.cp.Connected()
		time.Sleep(20 * time.Second)
		if got := strings.Join(securityEvents(t, csms), " "); got != "StartupOfTheDevice@0" {
			t.Errorf("sent %q, want the start only, once, with the time it happened", got)
		}
		if n := journalLen(store); n != 0 {
			t.Errorf("%d entries left in the journal", n)
		}
		want := "StartupOfTheDevice: |ReconfigurationOfSecurityParameters: CpoName|" +
			"InvalidMessages: Reset: ocpp: PropertyConstraintViolation: type: \"Sideways\" is not one of Hard, Soft|" +
			"InvalidCentralSystemCertificate: x509: certificate signed by unknown authority"
		if got := strings.Join(securityLog(t, store), "|"); got != want {
			t.Errorf("security log\n got %s\nwant %s", got, want)
		}
		// A reset by the central system: ResetOrReboot, then the next
		// start, both sent, and the log goes on after the restart.
		if _, err := r.cp.HandleCall(ctx, "Reset", json.RawMessage(`{"type":"Soft"}`)); err != nil {
			t.Fatal(err)
		}
		<-r.done
		r.stop()
		r = startRig(t, csms, nil, store)
		time.Sleep(20 * time.Second)
		r.stop()
		events := securityEvents(t, csms)
		if len(events) != 3 || !strings.HasPrefix(events[1], "ResetOrReboot@") || !strings.HasPrefix(events[2], "StartupOfTheDevice@") {
			t.Errorf("sent %v, want the first start, the reset and the second start", events)
		}
		if got := securityLog(t, store); len(got) != 6 || got[4] != "ResetOrReboot: Soft reset by the central system" {
			t.Errorf("security log after the restart: %q", got)
		}
	})
}

// A central system without the security extension refuses
// SecurityEventNotification with a CALLERROR: the event is not tried
// again, and the transaction behind it is not held up.
func TestARefusedSecurityEventDoesNotHoldUpTransactions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.answers["SecurityEventNotification"] = func(json.RawMessage) (json.RawMessage, error) {
			return nil, rpc.Errorf(rpc.NotImplemented, "SecurityEventNotification")
		}
		csms.offline.Store(true)
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		time.Sleep(time.Second)
		csms.offline.Store(false)
		r.cp.Connected()
		time.Sleep(2 * time.Second)
		r.board.Present("TAG1", 0)
		time.Sleep(2 * time.Second)
		r.stop()
		if n := len(csms.sent("SecurityEventNotification")); n != 1 {
			t.Errorf("SecurityEventNotification sent %d times, want once", n)
		}
		if starts := csms.times("StartTransaction"); len(starts) != 1 || starts[0] > 5*time.Second {
			t.Errorf("StartTransaction at %v, want within a few seconds", starts)
		}
	})
}

// The security log keeps its latest SecurityLogSize events.
func TestTheSecurityLogIsARing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		store := &kv.Mem{}
		r := startRig(t, csms, nil, store)
		synctest.Wait()
		n := runner.SecurityLogSize + 50
		for i := range n {
			r.cp.SecurityIncident(chargepoint.SecurityIncident{Type: chargepoint.SecInvalidMessages, TechInfo: fmt.Sprint(i)})
		}
		time.Sleep(time.Second)
		r.stop()
		got := securityLog(t, store)
		if len(got) != runner.SecurityLogSize {
			t.Fatalf("%d events kept, want %d", len(got), runner.SecurityLogSize)
		}
		// The start and the first incidents were overwritten.
		if first, last := got[0], got[len(got)-1]; first != fmt.Sprintf("InvalidMessages: %d", n-runner.SecurityLogSize) ||
			last != fmt.Sprintf("InvalidMessages: %d", n-1) {
			t.Errorf("kept %q to %q", first, last)
		}
	})
}

// A full disk is a MemoryExhaustion told at once, while the store still
// cannot write (the journal could not keep it).
func TestMemoryExhaustionIsToldWhileTheStoreCannotWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		store := &kv.Mem{}
		r := startRig(t, csms, map[string]string{"MeterValueSampleInterval": "10"}, store)
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		store.SetFail(errors.New("disk full"))
		time.Sleep(30 * time.Second) // the session's samples fail to be written
		got := securityEvents(t, csms)
		if len(got) != 2 || !strings.HasPrefix(got[1], "MemoryExhaustion@") {
			t.Errorf("sent %v while the disk is full, want the start and MemoryExhaustion", got)
		}
		store.SetFail(nil)
	})
}

// A CALLERROR other than NotImplemented and NotSupported is a failed
// attempt: the event is tried again, not dropped.
func TestASecurityEventIsTriedAgainAfterAnInternalError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		var n int
		csms.answers["SecurityEventNotification"] = func(json.RawMessage) (json.RawMessage, error) {
			if n++; n == 1 {
				return nil, rpc.Errorf(rpc.InternalError, "try later")
			}
			return json.RawMessage(`{}`), nil
		}
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		time.Sleep(5 * time.Minute)
		if got := len(csms.sent("SecurityEventNotification")); got != 2 {
			t.Errorf("StartupOfTheDevice sent %d times, want twice (a retry after the InternalError)", got)
		}
	})
}

// A log upload waits for what was logged before it to be written: the
// security log it sends holds an event that came just before GetLog,
// while the disk was slow.
func TestGetLogUploadsWhatWasLoggedBeforeIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &gatedStore{Mem: &kv.Mem{}}
		d := &fakeDiagnostics{}
		r := startRig(t, newFakeCSMS(), nil, store.Mem, func(o *Options) { o.Store = store; o.Diagnostics = d })
		defer r.stop()
		synctest.Wait()
		time.Sleep(time.Second)
		store.shut()
		r.cp.SecurityIncident(chargepoint.SecurityIncident{Type: chargepoint.SecInvalidMessages, TechInfo: "just before"})
		done := make(chan struct{})
		go func() {
			defer close(done)
			call(t, r.cp, "GetLog", `{"logType":"SecurityLog","requestId":1,"log":{"remoteLocation":"http://logs/"}}`)
		}()
		time.Sleep(time.Second)
		d.mu.Lock()
		early := d.tries
		d.mu.Unlock()
		if early != 0 {
			t.Error("the log was uploaded before what came before it was written")
		}
		store.open()
		<-done
		time.Sleep(time.Second)
		d.mu.Lock()
		defer d.mu.Unlock()
		if !strings.Contains(string(d.data), `"techInfo":"just before"`) {
			t.Errorf("the security log uploaded:\n%s", d.data)
		}
	})
}
