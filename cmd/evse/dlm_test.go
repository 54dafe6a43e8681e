package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/simonvetter/modbus"

	"github.com/evse-dev/evse/internal/csmstest"
)

// freePort returns a TCP port free on loopback now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// configure sets keys in a data directory with evse config set.
func configure(t testing.TB, dir string, pairs ...string) {
	t.Helper()
	args := append([]string{"config", "set", "--data", dir}, pairs...)
	if out, errOut, code := runEVSE(t, args...); code != 0 {
		t.Fatalf("config set: %d\n%s%s", code, out, errOut)
	}
}

// dlmCharger is one evse process of a DLM site.
type dlmCharger struct {
	id   string
	p    *process
	base string
}

// offered returns connector 1's offer and the DLM state.
func (c *dlmCharger) offered(t testing.TB) (float64, string) {
	t.Helper()
	_, st := apiDo(t, "GET", c.base+"/status", "")
	conns, _ := st["connectors"].([]any)
	if len(conns) < 2 {
		return -1, ""
	}
	c1, _ := conns[1].(map[string]any)
	a, _ := c1["offeredA"].(float64)
	s, _ := st["dlm"].(string)
	return a, s
}

// startSite starts a master (DlmMode 1) and slaves (DlmMode 4) on
// loopback, every charger free charging, on one central system.
func startSite(t testing.TB, url string, slaves int, masterKeys ...string) (port int, site []*dlmCharger) {
	port = freePort(t)
	common := []string{"DlmSiteKey=site-secret-0123456", fmt.Sprintf("DlmPort=%d", port), "FreeCharging=1"}
	for i := 0; i <= slaves; i++ {
		id := "M"
		keys := append([]string{"DlmMode=1", "FreeChargingMode=1"}, masterKeys...)
		if i > 0 {
			id = fmt.Sprintf("S%d", i)
			keys = []string{"DlmMode=4", fmt.Sprintf("DlmMasterIp=127.0.0.1:%d", port), "DlmDisconnectedLimit=8"}
		}
		dir := t.TempDir()
		configure(t, dir, append(common, keys...)...)
		p := startEVSE(t, runArgs(url, "DLM-"+id, dir)...)
		site = append(site, &dlmCharger{id: id, p: p, base: p.apiURL(t) + "/api/v1"})
	}
	return port, site
}

// waitOffers polls the chargers until want holds for their offers.
func waitOffers(t testing.TB, site []*dlmCharger, d time.Duration, what string, want func(offers []float64) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		offers := make([]float64, len(site))
		var states []string
		for i, c := range site {
			var s string
			offers[i], s = c.offered(t)
			states = append(states, c.id+": "+s)
		}
		if want(offers) {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v; offers %v\n%s", what, d, offers, strings.Join(states, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// TestDLMSiteOfRealProcesses: a master with its own connector and two
// slaves, three evse processes on loopback, share 32 A; an operator limit
// changed over OCPP on the master reaches every slave; the master's input
// applies its offsets; the master's FreeChargingMode is copied; a killed
// slave's share stays reserved; killed, the master leaves the slaves at
// their DlmDisconnectedLimit.
func TestDLMSiteOfRealProcesses(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	limits := []string{"DlmPhase1Limit=32", "DlmPhase2Limit=32", "DlmPhase3Limit=32",
		"DlmOperatorPhase1Limit=32", "DlmOperatorPhase2Limit=32", "DlmOperatorPhase3Limit=32", "DlmRecalcInterval=0",
		"DlmInput1CurrOffset Cfg=1", "DlmInput1CurrOffset Phase1=-3", "DlmInput1CurrOffset Phase2=-3", "DlmInput1CurrOffset Phase3=-3"}
	_, site := startSite(t, url, 2, limits...)
	m, s1 := site[0], site[1]
	waitOffers(t, site, 15*time.Second, "slaves online", func([]float64) bool {
		_, st := m.offered(t)
		return strings.Contains(st, "2 slaves online")
	})

	// One car: it may take all 32 A.
	apiDo(t, "POST", s1.base+"/connectors/1/plug", `{"phases":3,"maxCurrent":32}`)
	took := waitOffers(t, site, 10*time.Second, "one car gets 32 A", func(o []float64) bool { return o[1] == 32 })
	t.Logf("plug to 32 A offered on a slave: %v (includes the free-charging session's start)", took)
	// Three cars: a third each, never more than 32 A in all.
	for _, c := range []*dlmCharger{site[0], site[2]} {
		apiDo(t, "POST", c.base+"/connectors/1/plug", `{"phases":3,"maxCurrent":32}`)
	}
	waitOffers(t, site, 20*time.Second, "fair shares of 10.6 A", func(o []float64) bool {
		return o[0] == 10.6 && o[1] == 10.6 && o[2] == 10.6
	})

	// The operator limit, changed over OCPP on the master, reaches all.
	for p := 1; p <= 3; p++ {
		if _, err := csmsCall(t, s, "DLM-M", "ChangeConfiguration", fmt.Sprintf(`{"key":"DlmOperatorPhase%dLimit","value":"21"}`, p)); err != nil {
			t.Fatal(err)
		}
	}
	took = waitOffers(t, site, 10*time.Second, "operator limit 21 A", func(o []float64) bool { return sum(o) <= 21 && o[0] > 0 })
	t.Logf("operator limit to every charger: %v (polled over HTTP every 5 ms)", took)
	waitOffers(t, site, 10*time.Second, "three cars at 7 A", func(o []float64) bool { return o[0] == 7 && o[1] == 7 && o[2] == 7 })

	// FreeChargingMode is the master's.
	if _, v := apiDo(t, "GET", s1.base+"/config/FreeChargingMode", ""); v["value"] != "1" {
		t.Errorf("slave's FreeChargingMode %v, want the master's 1", v["value"])
	}

	// The master's opto input 1 goes high: its offsets (-3 A) apply.
	apiDo(t, "POST", m.base+"/inputs/1", `{"high":true}`)
	waitOffers(t, site, 10*time.Second, "input high: three cars at 6 A", func(o []float64) bool { return o[0] == 6 && o[1] == 6 && o[2] == 6 })
	apiDo(t, "POST", m.base+"/inputs/1", `{"high":false}`)
	waitOffers(t, site, 10*time.Second, "input low: three cars at 7 A", func(o []float64) bool { return o[0] == 7 && o[1] == 7 && o[2] == 7 })

	// A slave dies: the master reserves the larger of its last share (7 A)
	// and its DlmDisconnectedLimit (8 A); the others share the rest.
	site[2].p.stop(syscall.SIGKILL)
	took = waitOffers(t, site[:2], 30*time.Second, "6.5 A each beside the lost slave's 8 A", func(o []float64) bool { return o[0] == 6.5 && o[1] == 6.5 })
	t.Logf("slave killed to the others' new shares: %v", took)
	if _, st := m.offered(t); !strings.Contains(st, "1 slaves online, 1 lost") {
		t.Errorf("master's DlmState %q", st)
	}

	// The master dies: the slave falls back to DlmDisconnectedLimit (8 A).
	m.p.stop(syscall.SIGKILL)
	took = waitOffers(t, site[1:2], 30*time.Second, "fallback to 8 A", func(o []float64) bool { return o[0] == 8 })
	t.Logf("master killed to slaves at DlmDisconnectedLimit: %v", took)
	if _, st := s1.offered(t); !strings.Contains(st, "master lost") {
		t.Errorf("slave's DlmState %q", st)
	}
	noViolations(t, s)
}

// meterRegisters serves an Eastron SDM630's phase currents over Modbus TCP.
type meterRegisters struct {
	mu   sync.Mutex
	amps [3]float32
}

func (m *meterRegisters) HandleCoils(*modbus.CoilsRequest) ([]bool, error) {
	return nil, modbus.ErrIllegalFunction
}
func (m *meterRegisters) HandleDiscreteInputs(*modbus.DiscreteInputsRequest) ([]bool, error) {
	return nil, modbus.ErrIllegalFunction
}
func (m *meterRegisters) HandleHoldingRegisters(*modbus.HoldingRegistersRequest) ([]uint16, error) {
	return nil, modbus.ErrIllegalFunction
}
func (m *meterRegisters) HandleInputRegisters(r *modbus.InputRegistersRequest) ([]uint16, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	regs := make([]uint16, 12)
	for p, a := range m.amps {
		bits := math.Float32bits(a)
		regs[6+2*p], regs[7+2*p] = uint16(bits>>16), uint16(bits)
	}
	if int(r.Addr)+int(r.Quantity) > len(regs) {
		return nil, modbus.ErrIllegalDataAddress
	}
	return regs[r.Addr : r.Addr+r.Quantity], nil
}

func startMeterServer(t *testing.T, port int, m *meterRegisters) *modbus.ModbusServer {
	t.Helper()
	s, err := modbus.NewServer(&modbus.ServerConfiguration{URL: fmt.Sprintf("tcp://127.0.0.1:%d", port), Timeout: time.Minute,
		MaxClients: 2, Logger: log.New(io.Discard, "", 0)}, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// TestDLMExternalMeterOverModbus: a master reads the other load from an
// SDM630 over Modbus TCP on loopback; the current available to its car is
// the main limit less that load; when the meter stops answering the
// fallback applies (DlmState says so), and when it is back, its reading.
func TestDLMExternalMeterOverModbus(t *testing.T) {
	t.Parallel()
	meterPort := freePort(t)
	regs := &meterRegisters{amps: [3]float32{20, 10, 5}}
	srv := startMeterServer(t, meterPort, regs)
	_, url := newCSMS(t, csmstest.Options{})
	dir := t.TempDir()
	configure(t, dir, "DlmMode=1", "DlmSiteKey=key-of-this-test-1", fmt.Sprintf("DlmPort=%d", freePort(t)), "FreeCharging=1",
		"DlmPhase1Limit=32", "DlmPhase2Limit=32", "DlmPhase3Limit=32",
		"DlmOperatorPhase1Limit=32", "DlmOperatorPhase2Limit=32", "DlmOperatorPhase3Limit=32",
		"DlmExtMeterEnabled=1", "DlmExtMeterLocation=1",
		"DlmExtMeterMainDistributionLimitPhase1=40", "DlmExtMeterMainDistributionLimitPhase2=40", "DlmExtMeterMainDistributionLimitPhase3=40",
		"DlmExtMeterDisconnectedFallbackPhase1=35", "DlmExtMeterDisconnectedFallbackPhase2=35", "DlmExtMeterDisconnectedFallbackPhase3=35",
		fmt.Sprintf("DlmExtMeter=tcp://127.0.0.1:%d?map=sdm630", meterPort))
	p := startEVSE(t, runArgs(url, "DLM-METER", dir)...)
	m := &dlmCharger{id: "M", p: p, base: p.apiURL(t) + "/api/v1"}
	apiDo(t, "POST", m.base+"/connectors/1/plug", `{"phases":3,"maxCurrent":32}`)
	state := func(want string) {
		t.Helper()
		waitOffers(t, []*dlmCharger{m}, 15*time.Second, "DlmState with "+want, func([]float64) bool {
			_, st := m.offered(t)
			return strings.Contains(st, want)
		})
	}
	// 40 A main limit less 20/10/5 A of other load: 20/30/32 A for cars;
	// the three-phase car gets the lowest, 20 A.
	state("L1 20.0/20.0 A, L2 20.0/30.0 A, L3 20.0/32.0 A")
	srv.Stop()
	state("L1 0.0/5.0 A, L2 0.0/5.0 A, L3 0.0/5.0 A; meter failed, fallback in use")
	if a, _ := m.offered(t); a != 0 {
		t.Errorf("5 A available, yet the car is offered %g A (under 6 A is none)", a)
	}
	regs.mu.Lock()
	regs.amps = [3]float32{2, 2, 2}
	regs.mu.Unlock()
	startMeterServer(t, meterPort, regs)
	// Back: 38 A free but the 32 A limits; the car, paused for want of
	// current, waits out its minimum pause (60 s) before it is served.
	waitOffers(t, []*dlmCharger{m}, 15*time.Second, "the meter back", func([]float64) bool {
		_, st := m.offered(t)
		return strings.Contains(st, "/32.0 A, L2") && strings.Contains(st, "/32.0 A, L3") && !strings.Contains(st, "meter failed")
	})
}

// TestDLMSiteOf201MasterAnd16Slave: load management is the station's,
// whatever OCPP version it speaks. A master speaking 2.0.1 and a slave
// speaking 1.6, two evse processes on loopback on one central system
// that speaks both, share 32 A; an operator limit set over 2.0.1
// (SetVariables on the master) reaches the 1.6 slave.
func TestDLMSiteOf201MasterAnd16Slave(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{Subprotocols: []string{csmstest.OCPP201, csmstest.OCPP16}})
	port := freePort(t)
	common := []string{"DlmSiteKey=site-secret-0123456", fmt.Sprintf("DlmPort=%d", port), "FreeCharging=1"}
	roles := []struct {
		id, ocpp string
		keys     []string
	}{
		{"MIX-M", "2.0.1", []string{"DlmMode=1", "FreeChargingMode=1", "DlmPhase1Limit=32", "DlmPhase2Limit=32", "DlmPhase3Limit=32",
			"DlmOperatorPhase1Limit=32", "DlmOperatorPhase2Limit=32", "DlmOperatorPhase3Limit=32", "DlmRecalcInterval=0"}},
		{"MIX-S", "1.6", []string{"DlmMode=4", fmt.Sprintf("DlmMasterIp=127.0.0.1:%d", port), "DlmDisconnectedLimit=8"}},
	}
	var site []*dlmCharger
	for _, r := range roles {
		dir := t.TempDir()
		configure(t, dir, append(common, r.keys...)...)
		p := startEVSE(t, runArgs(url, r.id, dir, "--ocpp", r.ocpp)...)
		site = append(site, &dlmCharger{id: r.id, p: p, base: p.apiURL(t) + "/api/v1"})
	}
	m := site[0]
	waitOffers(t, site, 15*time.Second, "slave online", func([]float64) bool {
		_, st := m.offered(t)
		return strings.Contains(st, "1 slaves online")
	})
	for id, want := range map[string]string{"MIX-M": csmstest.OCPP201, "MIX-S": csmstest.OCPP16} {
		if sp, _ := s.Subprotocol(id); sp != want {
			t.Errorf("%s speaks %q, want %q", id, sp, want)
		}
	}
	for _, c := range site {
		apiDo(t, "POST", c.base+"/connectors/1/plug", `{"phases":3,"maxCurrent":32}`)
	}
	waitOffers(t, site, 20*time.Second, "16 A each", func(o []float64) bool { return o[0] == 16 && o[1] == 16 })
	for p := 1; p <= 3; p++ {
		if st := setVariable(t, s, "MIX-M", "DLMCtrlr", fmt.Sprintf("DlmOperatorPhase%dLimit", p), "20"); st != "Accepted" {
			t.Fatalf("SetVariables DlmOperatorPhase%dLimit: %s", p, st)
		}
	}
	took := waitOffers(t, site, 10*time.Second, "operator limit 20 A: 10 A each", func(o []float64) bool { return o[0] == 10 && o[1] == 10 })
	t.Logf("operator limit set over 2.0.1 to the 1.6 slave's offer: %v", took)
	noViolations(t, s)
}

// limitsTold is what a charger told the CSMS of load management's limits:
// "limit:N" per NotifyChargingLimit (source EMS), "cleared" per
// ClearedChargingLimit, in order.
func limitsTold(t testing.TB, s *csmstest.Server, cp string) []string {
	t.Helper()
	var out []string
	notify, cleared := csmstest.IsCall(cp, "NotifyChargingLimit"), csmstest.IsCall(cp, "ClearedChargingLimit")
	for _, r := range s.Records() {
		switch {
		case notify(r):
			var n struct {
				ChargingLimit struct {
					Source string `json:"chargingLimitSource"`
				} `json:"chargingLimit"`
				Schedule []struct {
					Periods []struct {
						Limit float64 `json:"limit"`
					} `json:"chargingSchedulePeriod"`
				} `json:"chargingSchedule"`
			}
			if err := json.Unmarshal(r.Frame.Payload, &n); err != nil || n.ChargingLimit.Source != "EMS" || len(n.Schedule) != 1 || len(n.Schedule[0].Periods) != 1 {
				t.Errorf("%s: NotifyChargingLimit %s", cp, r.Frame.Payload)
				continue
			}
			out = append(out, fmt.Sprintf("limit:%g", n.Schedule[0].Periods[0].Limit))
		case cleared(r):
			out = append(out, "cleared")
		}
	}
	return out
}

// waitLimitTold waits until a charger's last word on its limit is want.
func waitLimitTold(t testing.TB, s *csmstest.Server, cp, want string) []string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		told := limitsTold(t, s, cp)
		if len(told) > 0 && told[len(told)-1] == want {
			return told
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s told %v, not %s", cp, told, want)
		}
	}
}

// TestK12ASiteTellsItsLimitsOver201 runs a DLM site of two 2.0.1
// chargers (two evse processes on loopback): each tells the central
// system, with NotifyChargingLimit (source EMS), the share the master
// gives it under what its hardware offers, as it applies it, and with
// ClearedChargingLimit when the share no longer limits it or its
// transaction ends.
func TestK12ASiteTellsItsLimitsOver201(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{Subprotocols: []string{csmstest.OCPP201}})
	port := freePort(t)
	common := []string{"DlmSiteKey=site-secret-0123456", fmt.Sprintf("DlmPort=%d", port)}
	roles := []struct {
		id   string
		keys []string
	}{
		{"EMS-M", []string{"DlmMode=1", "DlmPhase1Limit=32", "DlmPhase2Limit=32", "DlmPhase3Limit=32",
			"DlmOperatorPhase1Limit=32", "DlmOperatorPhase2Limit=32", "DlmOperatorPhase3Limit=32", "DlmRecalcInterval=0"}},
		{"EMS-S", []string{"DlmMode=4", fmt.Sprintf("DlmMasterIp=127.0.0.1:%d", port), "DlmDisconnectedLimit=8"}},
	}
	var site []*dlmCharger
	for _, r := range roles {
		dir := t.TempDir()
		configure(t, dir, append(common, r.keys...)...)
		p := startEVSE(t, runArgs(url, r.id, dir, "--ocpp", "2.0.1")...)
		site = append(site, &dlmCharger{id: r.id, p: p, base: p.apiURL(t) + "/api/v1"})
	}
	m, sl := site[0], site[1]
	waitOffers(t, site, 15*time.Second, "slave online", func([]float64) bool {
		_, st := m.offered(t)
		return strings.Contains(st, "1 slaves online")
	})
	for _, c := range site {
		apiDo(t, "POST", c.base+"/connectors/1/plug", `{"phases":3,"maxCurrent":32}`)
		apiDo(t, "POST", c.base+"/rfid", `{"idTag":"TAG-`+c.id+`"}`)
	}
	waitOffers(t, site, 20*time.Second, "16 A each", func(o []float64) bool { return o[0] == 16 && o[1] == 16 })
	waitLimitTold(t, s, m.id, "limit:16")
	waitLimitTold(t, s, sl.id, "limit:16")

	for p := 1; p <= 3; p++ {
		if st := setVariable(t, s, m.id, "DLMCtrlr", fmt.Sprintf("DlmOperatorPhase%dLimit", p), "20"); st != "Accepted" {
			t.Fatalf("SetVariables DlmOperatorPhase%dLimit: %s", p, st)
		}
	}
	waitOffers(t, site, 10*time.Second, "10 A each", func(o []float64) bool { return o[0] == 10 && o[1] == 10 })
	waitLimitTold(t, s, m.id, "limit:10")
	waitLimitTold(t, s, sl.id, "limit:10")

	// The slave's EV leaves: its transaction ends, the master's share
	// grows to the operator's 20 A.
	apiDo(t, "POST", sl.base+"/connectors/1/unplug", "")
	waitOffers(t, site, 10*time.Second, "20 A for the master", func(o []float64) bool { return o[0] == 20 })
	slave := waitLimitTold(t, s, sl.id, "cleared")
	waitLimitTold(t, s, m.id, "limit:20")

	// The operator limit back at the hardware's 32 A: nothing limits.
	for p := 1; p <= 3; p++ {
		setVariable(t, s, m.id, "DLMCtrlr", fmt.Sprintf("DlmOperatorPhase%dLimit", p), "32")
	}
	waitOffers(t, site, 10*time.Second, "32 A for the master", func(o []float64) bool { return o[0] == 32 })
	master := waitLimitTold(t, s, m.id, "cleared")
	t.Logf("told by the master: %v; by the slave: %v", master, slave)
	if got := strings.Join(master, " "); got != "limit:16 limit:10 limit:20 cleared" {
		t.Errorf("the master told %s", got)
	}
	if got := strings.Join(slave, " "); got != "limit:16 limit:10 cleared" {
		t.Errorf("the slave told %s", got)
	}
	noViolations(t, s)
}
