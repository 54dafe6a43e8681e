package web

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/evse-dev/evse/internal/api"
	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/display"
	"github.com/evse-dev/evse/internal/hw/sim"
)

// board is a page's backend with a simulated board and nothing else.
type board struct{ b *sim.Board }

func (b board) Status(context.Context) (chargepoint.Status, error) { return chargepoint.Status{}, nil }
func (b board) Settings() *config.Settings                         { return nil }
func (b board) Board() *sim.Board                                  { return b.b }
func (b board) EmergencyStop(context.Context) error                { return nil }
func (b board) LocalList() api.LocalList                           { return nil }
func (b board) Display(context.Context) ([]display.Message, error) { return nil, nil }

// TestThePlugFormRefusesWhatIsNotANumber: NaN, infinities and a phase
// count that is no number are refused, and no car is plugged in.
func TestThePlugFormRefusesWhatIsNotANumber(t *testing.T) {
	b := sim.New(sim.Options{})
	page := NewCharger(board{b}, ChargerOptions{})
	for _, form := range []url.Values{
		{"maxCurrent": {"NaN"}}, {"capacityWh": {"+Inf"}}, {"socPercent": {"nan"}}, {"phases": {"three"}}, {"phases": {"2"}},
	} {
		r := httptest.NewRequest("POST", "/ui/hw/1/plug", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		page.ServeHTTP(w, r)
		if strings.Contains(w.Body.String(), "done") {
			t.Errorf("plug with %v: %s", form, w.Body)
		}
		if s, _ := b.Snapshot(1); s.EV != nil {
			t.Fatalf("plug with %v plugged a car in", form)
		}
	}
	if err := (sim.EV{MaxCurrent: math.NaN()}).Validate(); err == nil {
		t.Error("an EV with a NaN maximum current is valid")
	}
}

// TestLivePagesAreBounded: beyond maxStreams event streams at once, a
// page gets 503 (and tries again later), so open pages never take every
// connection the API has.
func TestLivePagesAreBounded(t *testing.T) {
	page := NewCharger(board{sim.New(sim.Options{})}, ChargerOptions{})
	srv := httptest.NewServer(page)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var open []*http.Response
	for range maxStreams {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/ui/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("stream: %v %v", resp, err)
		}
		open = append(open, resp)
	}
	resp, err := http.Get(srv.URL + "/ui/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("stream %d: %d, want 503", maxStreams+1, resp.StatusCode)
	}
	cancel()
	for _, r := range open {
		r.Body.Close()
	}
}
