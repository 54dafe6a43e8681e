package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/daemon"
	"github.com/evse-dev/evse/internal/model"
)

func newDemoCommand() *cobra.Command {
	var (
		id, listen, listenAPI, dataDir string
		ocpp                           string
		full, site                     bool
		security                       int
		logs                           logFlags
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a built-in test central system and a charge point on loopback",
		Long: `Start the built-in test central system on loopback and a charge point
connected to it, and print the OCPP traffic between them until Ctrl-C.
The central system walks through the configuration model: it reads every
key, changes the heartbeat interval, and shows the answers to a read-only
key, an unknown key, a bad value and a key that needs a reboot. Then a
simulated car arrives, its driver presents a card, it charges with meter
values every 5 s, and leaves.

With --site it runs a Dynamic Load Management site instead: a master that
charges too and two slaves, three full charge points on the test central
system, sharing 32 A per phase while cars come and go and the central
system moves the operator limit; it prints each connector's offer and the
master's DlmState every 2 s.

With --ocpp 2.0.1 the charge point speaks OCPP 2.0.1 (the central system
speaks both): the tour reads and sets the device model's variables
(GetVariables, SetVariables), the session is told in TransactionEvents,
the central system caps it with a TxProfile (SetChargingProfile,
GetCompositeSchedule, GetChargingProfiles) and stops it with
RequestStopTransaction.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			dataDir, cleanup, err := demoDataDir(dataDir)
			if err != nil {
				return err
			}
			defer cleanup()
			versions, err := daemon.ParseVersions(ocpp)
			if err != nil {
				return fmt.Errorf("--ocpp: %w", err)
			}
			out := cmd.OutOrStdout()
			if site {
				csms := csmstest.New(csmstest.Options{HeartbeatInterval: 60, Subprotocols: []string{csmstest.OCPP201, csmstest.OCPP16}})
				url, err := csms.Listen(listen)
				if err != nil {
					return err
				}
				defer csms.Close()
				fmt.Fprintf(out, "evse demo --site: test central system at %s, data in %s\nPress Ctrl-C to stop.\n", url, dataDir)
				err = runSiteDemo(cmd.Context(), out, log, csms, url, dataDir, versions)
				if cmd.Context().Err() != nil {
					return nil // Ctrl-C
				}
				return err
			}
			p := newTracePrinter(out, full)
			csms := csmstest.New(csmstest.Options{
				HeartbeatInterval: 60,
				Subprotocols:      []string{csmstest.OCPP201, csmstest.OCPP16}, // the charge point picks by what it offers
				OnRecord: func(r csmstest.Record) {
					if r.Invalid != "" {
						p.note("schema violation: %s", r.Invalid)
					}
					dir := r.Dir.String()
					if r.ChargePoint != id {
						// Another charge point on the demo's central
						// system: its frames say whose they are.
						dir = strings.Replace(dir, "CP", r.ChargePoint, 1)
					}
					p.print(dir, r.Raw)
				},
			})
			var url string
			switch security {
			case 0:
				url, err = csms.Listen(listen)
			case 3:
				url, err = profile3Demo(csms, listen, dataDir, id)
			default:
				return fmt.Errorf("--security %d: the demo plays 0 and 3", security)
			}
			if err != nil {
				return err
			}
			defer csms.Close()
			fmt.Fprintf(out, "evse demo: test central system at %s, charge point %q, data in %s\n", url, id, dataDir)
			if security == 3 {
				fmt.Fprintln(out, "security profile 3: TLS both ways; the charge point's key was made in its store, and the demo's CA signed its CSR")
			}
			fmt.Fprintln(out, "Press Ctrl-C to stop.")

			ctx := cmd.Context()
			g, gctx := errgroup.WithContext(ctx)
			apiAddr := make(chan string, 1)
			g.Go(func() error {
				return daemon.Run(gctx, daemon.Options{CSMSURL: url, ID: id, DataDir: dataDir, Logger: log, OCPP: versions,
					Listen: listenAPI, OnListen: func(addr string) {
						fmt.Fprintf(out, "the charger's page at http://%s/ (local API: /api/v1/status)\n", addr)
						apiAddr <- addr
					}})
			})
			g.Go(func() error {
				var addr string
				select {
				case addr = <-apiAddr:
				case <-gctx.Done():
					return nil
				}
				if _, err := csms.WaitFor(gctx, 0, csmstest.IsCall(id, "BootNotification")); err != nil {
					return nil
				}
				if sp, _ := csms.Subprotocol(id); sp == csmstest.OCPP201 {
					return demoScript201(gctx, csms, p, id, "http://"+addr+"/api/v1")
				}
				return demoScript(gctx, csms, p, id, "http://"+addr+"/api/v1")
			})
			err = g.Wait()
			if ctx.Err() != nil {
				return nil // Ctrl-C
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&id, "id", "EVSE-DEMO-1", "charge point identity")
	f.StringVar(&listen, "listen", "127.0.0.1:0", "address of the test central system")
	f.StringVar(&listenAPI, "api", "127.0.0.1:0", "address of the charge point's local API")
	f.StringVar(&dataDir, "data", "", "store directory (default: a temporary one, removed at exit)")
	f.BoolVar(&full, "full", false, "print whole frames instead of cutting long ones")
	f.StringVar(&ocpp, "ocpp", "1.6", `OCPP versions the charge point offers, in order: "1.6", "2.0.1" or "2.0.1,1.6"`)
	f.BoolVar(&site, "site", false, "run a DLM site: a master and two slaves sharing 32 A while cars come and go")
	f.IntVar(&security, "security", 0, "security profile: 0, or 3 (wss:// with client certificates from the demo's own CA; docs/security.md)")
	logs.register(cmd, "warn")
	return cmd
}

// demoTour is what both versions' tours do: wait, send a CALL of the
// central system (its answer is printed with the traffic), act at the
// charge point through its local API, and run a list of CALLs with notes.
type demoTour struct {
	ctx     context.Context
	csms    *csmstest.Server
	p       *tracePrinter
	id, api string
}

// pause waits d; false when the demo is stopping.
func (t demoTour) pause(d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-t.ctx.Done():
		return false
	}
}

// call sends a CALL of the central system and returns its answer.
func (t demoTour) call(action, payload string) json.RawMessage {
	cctx, cancel := context.WithTimeout(t.ctx, 30*time.Second)
	defer cancel()
	answer, _ := t.csms.Call(cctx, t.id, action, json.RawMessage(payload))
	return answer
}

// local posts to the charge point's local API.
func (t demoTour) local(path, body string) {
	resp, err := http.Post(t.api+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.p.note("local API: %v", err)
		return
	}
	resp.Body.Close()
}

// offered is what connector 1 offers now, as the local API tells it.
func (t demoTour) offered() string {
	resp, err := http.Get(t.api + "/status")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var st struct {
		Connectors []struct {
			OfferedA *float64 `json:"offeredA"`
		} `json:"connectors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || len(st.Connectors) < 2 || st.Connectors[1].OfferedA == nil {
		return "unknown"
	}
	return fmt.Sprintf("%g A", *st.Connectors[1].OfferedA)
}

// tourStep is a CALL of the tour, with a note printed before it ("":
// none).
type tourStep struct{ note, action, payload string }

// steps sends the steps half a second apart; false when the demo is
// stopping.
func (t demoTour) steps(steps []tourStep) bool {
	for _, st := range steps {
		if st.note != "" {
			t.p.note("%s", st.note)
		}
		t.call(st.action, st.payload)
		if !t.pause(500 * time.Millisecond) {
			return false
		}
	}
	return true
}

// demoScript is what the demo's central system does once the charge point
// has booted, and what happens at the charge point (through its local API).
func demoScript(ctx context.Context, csms *csmstest.Server, p *tracePrinter, id, api string) error {
	if _, err := csms.WaitFor(ctx, 0, csmstest.IsCall(id, "BootNotification")); err != nil {
		return nil
	}
	t := demoTour{ctx: ctx, csms: csms, p: p, id: id, api: api}
	pause, call, local := t.pause, t.call, t.local
	// Let the boot-time status notifications go first.
	if !pause(time.Second) {
		return nil
	}
	steps := []tourStep{
		{"the central system reads every configuration key", "GetConfiguration", `{}`},
		{"it reads two keys by name (GetConfigurationMaxKeys is 1: too many)", "GetConfiguration", `{"key":["HeartbeatInterval","FreeChargingMode"]}`},
		{"one key by name: an Ensto enum reads back its number (3 = 30 sec)", "GetConfiguration", `{"key":["DlmRecalcInterval"]}`},
		{"a key the charger does not know: listed under unknownKey", "GetConfiguration", `{"key":["NoSuchKey"]}`},
		{"it sets the heartbeat interval to 10 s: Accepted; a heartbeat every 10 s from now on", "ChangeConfiguration", `{"key":"HeartbeatInterval","value":"10"}`},
		{"a read-only key: Rejected", "ChangeConfiguration", `{"key":"NumberOfConnectors","value":"2"}`},
		{"an unknown key: NotSupported", "ChangeConfiguration", `{"key":"NoSuchKey","value":"1"}`},
		{"a value out of range: Rejected", "ChangeConfiguration", `{"key":"ConnectionTimeOut","value":"5"}`},
		{"an operator limit above the phase limit (16 A): Rejected", "ChangeConfiguration", `{"key":"DlmOperatorPhase1Limit","value":"20"}`},
		{"an installation setting: RebootRequired", "ChangeConfiguration", `{"key":"DlmPhase1Limit","value":"32"}`},
		{"meter values every 5 s during a transaction, with power and currents", "ChangeConfiguration", `{"key":"MeterValueSampleInterval","value":"5"}`},
		{"", "ChangeConfiguration", `{"key":"MeterValuesSampledData","value":"Energy.Active.Import.Register,Power.Active.Import,Current.Import"}`},
	}
	if !t.steps(steps) {
		return nil
	}
	p.note("a car arrives at connector 1 (three phases, 32 A, a 40 kWh battery at 30 %%)")
	local("/connectors/1/plug", `{"phases":3,"maxCurrent":32,"capacityWh":40000,"socPercent":30}`)
	if !pause(2 * time.Second) {
		return nil
	}
	p.note("its driver presents card DEMO-CARD: Authorize, then StartTransaction")
	local("/rfid", `{"idTag":"DEMO-CARD"}`)
	if !pause(6 * time.Second) {
		return nil
	}
	p.note("connector 1 offers %s", t.offered())
	p.note("smart charging: a TxDefaultProfile caps every session at 10 A")
	call("SetChargingProfile", fmt.Sprintf(`{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,`+
		`"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"startSchedule":%q,`+
		`"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":10}]}}}`, time.Now().UTC().Format(time.RFC3339)))
	if !pause(6 * time.Second) {
		return nil
	}
	p.note("connector 1 offers %s; what it will get in the next hour:", t.offered())
	call("GetCompositeSchedule", `{"connectorId":1,"duration":3600}`)
	call("ClearChargingProfile", `{"id":1}`)
	if !pause(4 * time.Second) {
		return nil
	}
	p.note("the driver unplugs at the car: StopTransaction with reason EVDisconnected")
	local("/connectors/1/unplug", ``)
	if !pause(2 * time.Second) {
		return nil
	}
	p.note("done; the charge point heartbeats every 10 s. Status: %s/status  Ctrl-C to stop.", api)
	<-ctx.Done()
	return nil
}

// profile3Demo serves the demo's central system over TLS with a CA of
// its own that verifies client certificates, and readies the charge
// point's data for security profile 3: its key made in its store, its
// CSR signed by the CA, the certificate and the CA's root installed. The
// central system signs the CSRs of SignCertificate too.
func profile3Demo(csms *csmstest.Server, listen, dataDir, id string) (string, error) {
	ca, err := csmstest.NewCA("evse demo CA", 24*time.Hour)
	if err != nil {
		return "", err
	}
	settings, db, err := daemon.OpenSettings(dataDir, model.Model{}, false, nil)
	if err != nil {
		return "", err
	}
	defer db.Close()
	keys := certs.New(db)
	csr, err := keys.CSR(id, "evse demo")
	if err != nil {
		return "", err
	}
	signed, err := ca.SignCSR(csr, 24*time.Hour)
	if err != nil {
		return "", err
	}
	snap := settings.Snapshot()
	if err := keys.InstallCertificate(signed, "", time.Now(), snap.CertificateSignedMaxChainSize); err != nil {
		return "", err
	}
	if _, err := keys.InstallRoot(ca.PEM, snap.CertificateStoreMaxLength); err != nil {
		return "", err
	}
	if _, err := settings.Set("SecurityProfile", "3", config.ActorInstaller); err != nil {
		return "", err
	}
	csms.SignCSRs(ca, 24*time.Hour) // a renewal over OCPP works too
	return csms.ListenTLS(listen, ca, csmstest.TLSOptions{ClientCerts: true})
}
