package main

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestCentralSystemOutage takes the central system away while several
// sessions run (some started before, some during the outage), brings it
// back on the same address, and checks that it receives every transaction
// message in order.
func TestCentralSystemOutage(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	addr := url[len("ws://") : len(url)-len("/ocpp")]
	dir := t.TempDir()
	if _, errOut, code := runEVSE(t, "config", "set", "--data", dir, "NumberOfConnectors=2",
		"ConnectorPhaseRotationMaxLength=2", "ConnectorPhaseRotation=1.RST,2.RST",
		"MeterValueSampleInterval=1", "AllowOfflineTxForUnknownId=true"); code != 0 {
		t.Fatal(errOut)
	}
	p := startEVSE(t, runArgs(url, "CP-OUT", dir)...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-OUT", "StatusNotification", 10*time.Second)

	// A session on connector 1 starts online.
	apiDo(t, "POST", base+"/connectors/1/plug", `{"responseDelayMs":100}`)
	apiDo(t, "POST", base+"/rfid", `{"idTag":"ONLINE-1","connector":1}`)
	waitCall(t, s, 0, "CP-OUT", "StartTransaction", 10*time.Second)
	waitAPIStatus(t, base, 10*time.Second, "StartTransaction confirmed", drained)

	// The central system goes away.
	s.Close()
	waitAPIStatus(t, base, 10*time.Second, "the charge point notices", disconnected)
	// Offline: connector 1's session ends, two more run on connector 2.
	time.Sleep(1500 * time.Millisecond)
	apiDo(t, "POST", base+"/connectors/1/unplug", "")
	for i := range 2 {
		apiDo(t, "POST", base+"/connectors/2/plug", `{"responseDelayMs":100}`)
		apiDo(t, "POST", base+"/rfid", fmt.Sprintf(`{"idTag":"OFFLINE-%d","connector":2}`, i))
		time.Sleep(1200 * time.Millisecond)
		apiDo(t, "POST", base+"/connectors/2/unplug", "")
		time.Sleep(100 * time.Millisecond)
	}
	_, st := apiDo(t, "GET", base+"/status", "")
	waiting := st["journal"].(float64)
	if waiting < 6 {
		t.Fatalf("only %v messages journaled during the outage", waiting)
	}

	// It comes back on the same address.
	s2 := csmstest.New(csmstest.Options{FirstTransactionID: 1000})
	if _, err := s2.Listen(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	if err := s2.WaitConnected(ctxFor(t, 30*time.Second), "CP-OUT"); err != nil {
		t.Fatal(err)
	}
	waitAPIStatus(t, base, 40*time.Second, "the journal delivered after the central system came back", drained)
	p.stop(syscall.SIGTERM)

	// The second central system got: the stop of the online session, then
	// both offline sessions, each Start before its values and Stop.
	var order []string
	for _, r := range s2.Records() {
		if r.Dir != csmstest.FromChargePoint || r.Frame.Action == "" {
			continue
		}
		switch r.Frame.Action {
		case "StartTransaction":
			var m startMsg
			json.Unmarshal(r.Frame.Payload, &m)
			order = append(order, "start:"+m.IdTag)
		case "StopTransaction":
			var m struct {
				IdTag  string `json:"idTag"`
				Reason string `json:"reason"`
			}
			json.Unmarshal(r.Frame.Payload, &m)
			order = append(order, "stop:"+m.Reason)
		}
	}
	want := []string{"stop:EVDisconnected", "start:OFFLINE-0", "stop:EVDisconnected", "start:OFFLINE-1", "stop:EVDisconnected"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("after the outage the central system got %v, want %v", order, want)
	}
	// Both central systems together saw whole transactions.
	checkTransactions(t, append(s.Records(), renumber(s2.Records(), len(s.Records()))...), "CP-OUT", false)
}

// renumber shifts the sequence numbers of a second server's records after
// the first's.
func renumber(recs []csmstest.Record, from int) []csmstest.Record {
	out := make([]csmstest.Record, len(recs))
	for i, r := range recs {
		r.Seq += from
		out[i] = r
	}
	return out
}
