package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/daemon"
	"github.com/evse-dev/evse/internal/model"
)

// siteCharger is one charge point of the demo site.
type siteCharger struct {
	id   string
	keys []config.Pair
	api  string // base URL of its local API, once it listens
}

// runSiteDemo runs a DLM site on loopback: a master that charges too and
// two slaves, each a full charge point on the demo's central system, with
// cars coming and going, and prints what each connector is offered and
// draws.
func runSiteDemo(ctx context.Context, out io.Writer, log *slog.Logger, csms *csmstest.Server, url, dataDir string, versions []string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	secret := make([]byte, 16)
	rand.Read(secret)
	common := []config.Pair{{Key: "DlmSiteKey", Value: hex.EncodeToString(secret)}, {Key: "DlmPort", Value: fmt.Sprint(port)},
		{Key: "FreeCharging", Value: "1"}, {Key: "DlmRecalcInterval", Value: "0"}}
	limits := []config.Pair{{Key: "DlmMode", Value: "1"}}
	for p := 1; p <= 3; p++ {
		limits = append(limits, config.Pair{Key: fmt.Sprintf("DlmPhase%dLimit", p), Value: "32"})
	}
	for p := 1; p <= 3; p++ {
		limits = append(limits, config.Pair{Key: fmt.Sprintf("DlmOperatorPhase%dLimit", p), Value: "32"})
	}
	slave := func(rotation string) []config.Pair {
		return []config.Pair{{Key: "DlmMode", Value: "4"}, {Key: "DlmMasterIp", Value: fmt.Sprintf("127.0.0.1:%d", port)},
			{Key: "ConnectorPhaseRotation", Value: "1." + rotation}}
	}
	site := []*siteCharger{
		{id: "SITE-M", keys: append(common, limits...)},
		{id: "SITE-S1", keys: append(common, slave("RST")...)},
		{id: "SITE-S2", keys: append(common, slave("STR")...)},
	}
	for _, c := range site {
		settings, db, err := daemon.OpenSettings(filepath.Join(dataDir, c.id), model.Default(), false, log)
		if err != nil {
			return err
		}
		_, err = settings.SetAll(c.keys, config.ActorInstaller)
		db.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", c.id, err)
		}
	}
	fmt.Fprintf(out, "DLM site: master %s (charges too) and slaves %s, %s on the DLM port %d; 32 A per phase for the site\n",
		site[0].id, site[1].id, site[2].id, port)
	g, gctx := errgroup.WithContext(ctx)
	ready := make(chan struct{}, len(site))
	for _, c := range site {
		g.Go(func() error {
			return daemon.Run(gctx, daemon.Options{CSMSURL: url, ID: c.id, DataDir: filepath.Join(dataDir, c.id), Logger: log,
				OCPP: versions, Listen: "127.0.0.1:0", OnListen: func(addr string) {
					c.api = "http://" + addr + "/api/v1"
					ready <- struct{}{}
				}})
		})
	}
	g.Go(func() error {
		for range site {
			select {
			case <-ready:
			case <-gctx.Done():
				return nil
			}
		}
		return siteScript(gctx, out, csms, site)
	})
	return g.Wait()
}

// siteScript brings cars and changes, and prints the site every 2 s.
func siteScript(ctx context.Context, out io.Writer, csms *csmstest.Server, site []*siteCharger) error {
	start := time.Now()
	note := func(format string, args ...any) {
		fmt.Fprintf(out, "%6.1fs # %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	post := func(c *siteCharger, path, body string) {
		resp, err := http.Post(c.api+path, "application/json", strings.NewReader(body))
		if err != nil {
			note("%s: %v", c.id, err)
			return
		}
		resp.Body.Close()
	}
	show := func() {
		var parts []string
		for _, c := range site {
			parts = append(parts, c.id+" "+connectorLine(c.api))
		}
		fmt.Fprintf(out, "%6.1fs   %s\n", time.Since(start).Seconds(), strings.Join(parts, " | "))
		fmt.Fprintf(out, "          %s\n", dlmLine(site[0].api))
	}
	operator := func(a int) {
		// The operator limits are keys over 1.6, variables of DLMCtrlr
		// over 2.0.1 (GetConfigurationMaxKeys bounds SetVariables to one
		// at a time by the appendix's default).
		v201, _ := csms.Subprotocol(site[0].id)
		for p := 1; p <= 3; p++ {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if v201 == csmstest.OCPP201 {
				csms.Call(cctx, site[0].id, "SetVariables", json.RawMessage(fmt.Sprintf(
					`{"setVariableData":[{"component":{"name":"DLMCtrlr"},"variable":{"name":"DlmOperatorPhase%dLimit"},"attributeValue":"%d"}]}`, p, a)))
			} else {
				csms.Call(cctx, site[0].id, "ChangeConfiguration", json.RawMessage(fmt.Sprintf(`{"key":"DlmOperatorPhase%dLimit","value":"%d"}`, p, a)))
			}
			cancel()
		}
	}
	steps := []struct {
		at time.Duration
		do func()
	}{
		{2 * time.Second, func() {
			note("a car (three phases, 32 A) at %s: it may take the whole site", site[1].id)
			post(site[1], "/connectors/1/plug", `{"phases":3,"maxCurrent":32,"capacityWh":60000,"socPercent":20}`)
		}},
		{8 * time.Second, func() {
			note("a car (three phases, 32 A) at the master %s: the site is shared, %s is lowered first", site[0].id, site[1].id)
			post(site[0], "/connectors/1/plug", `{"phases":3,"maxCurrent":32,"capacityWh":60000,"socPercent":40}`)
		}},
		{16 * time.Second, func() {
			note("a one-phase car at %s (wired STR: it loads grid L2)", site[2].id)
			post(site[2], "/connectors/1/plug", `{"phases":1,"maxCurrent":32,"capacityWh":30000,"socPercent":10}`)
		}},
		{26 * time.Second, func() {
			note("the central system lowers the operator limits to 20 A on the master: every charger follows at once")
			operator(20)
		}},
		{34 * time.Second, func() {
			note("the car at %s leaves: its share goes to the others", site[1].id)
			post(site[1], "/connectors/1/unplug", "")
		}},
		{42 * time.Second, func() {
			note("the operator limits back to 32 A")
			operator(32)
		}},
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	next := 0
	for {
		for next < len(steps) && time.Since(start) >= steps[next].at {
			steps[next].do()
			next++
			if next == len(steps) {
				note("that was all; the site goes on. Ctrl-C to stop.")
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			show()
		}
	}
}

// connectorLine tells connector 1's state from a charger's local API.
func connectorLine(api string) string {
	st := getJSON(api + "/status")
	conns, _ := st["connectors"].([]any)
	if len(conns) < 2 {
		return "starting"
	}
	c, _ := conns[1].(map[string]any)
	offered, _ := c["offeredA"].(float64)
	drawn := []string{}
	if cur, ok := c["currentA"].([]any); ok {
		for _, a := range cur {
			f, _ := a.(float64)
			drawn = append(drawn, fmt.Sprintf("%.1f", f))
		}
	}
	return fmt.Sprintf("%-13s offered %4.1f A, drawn on its L1 L2 L3 [%s]", c["status"], offered, strings.Join(drawn, " "))
}

// dlmLine is the master's DlmState.
func dlmLine(api string) string {
	s, _ := getJSON(api + "/status")["dlm"].(string)
	return s
}

func getJSON(url string) map[string]any {
	resp, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return v
}

// demoDataDir returns dir, or a temporary directory removed by the
// returned function.
func demoDataDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "evse-demo-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}
