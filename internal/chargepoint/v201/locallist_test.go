package v201

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/store"
)

// localList is a SendLocalList payload of n Accepted ISO14443 entries
// named from first on.
func localList(version, first, n int, full bool) string {
	type token struct {
		IDToken string `json:"idToken"`
		Type    string `json:"type"`
	}
	type info struct {
		Status string `json:"status"`
	}
	type entry struct {
		Token token `json:"idToken"`
		Info  info  `json:"idTokenInfo"`
	}
	kind := "Differential"
	if full {
		kind = "Full"
	}
	req := struct {
		Version int     `json:"versionNumber"`
		Type    string  `json:"updateType"`
		List    []entry `json:"localAuthorizationList,omitempty"`
	}{version, kind, make([]entry, n)}
	for i := range n {
		req.List[i] = entry{token{fmt.Sprintf("TAG%016d", first+i), "ISO14443"}, info{"Accepted"}}
	}
	raw, _ := json.Marshal(req)
	return string(raw)
}

// D01, D02: SendLocalList Full and Differential, versioned, all or
// nothing; GetLocalListVersion; a listed token authorizes offline.
func TestD01SendLocalListAndD02GetLocalListVersion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, map[string]string{"SendLocalListMaxLength": "3"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		version := func() any { return mustCall(t, r.cp, "GetLocalListVersion", `{}`)["versionNumber"] }
		send := func(payload string) string {
			a := mustCall(t, r.cp, "SendLocalList", payload)
			if info, ok := a["statusInfo"].(map[string]any); ok {
				return status(a) + "/" + fmt.Sprint(info["reasonCode"])
			}
			return status(a)
		}
		if got := send(localList(1, 0, 2, true)); got != "Failed/NotEnabled" {
			t.Errorf("while the list is not enabled: %s", got)
		}
		if _, err := r.settings.Set("LocalAuthListEnabled", "true", config.ActorInstaller); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != 0.0 {
			t.Errorf("version of no list: %v", v)
		}
		blocked := `{"versionNumber":2,"updateType":"Differential","localAuthorizationList":[` +
			`{"idToken":{"idToken":"BAD","type":"ISO14443"},"idTokenInfo":{"status":"Blocked"}},` +
			`{"idToken":{"idToken":"TAG0000000000000000","type":"ISO14443"}}]}`
		for _, c := range []struct{ what, payload, want string }{
			{"a Full list", localList(5, 0, 3, true), "Accepted"},
			{"more than ItemsPerMessage", localList(6, 10, 4, true), "Failed/TooManyElements"},
			{"a Differential not above the version", localList(5, 20, 1, false), "VersionMismatch"},
			{"a token twice", `{"versionNumber":7,"updateType":"Full","localAuthorizationList":[{"idToken":{"idToken":"A","type":"ISO14443"},"idTokenInfo":{"status":"Accepted"}},{"idToken":{"idToken":"a","type":"Central"},"idTokenInfo":{"status":"Accepted"}}]}`, "Failed/InvalidValue"},
			{"a Full entry without idTokenInfo", `{"versionNumber":7,"updateType":"Full","localAuthorizationList":[{"idToken":{"idToken":"A","type":"ISO14443"}}]}`, "Failed/InvalidValue"},
			{"a Differential that blocks one and removes another", strings.Replace(blocked, `"versionNumber":2`, `"versionNumber":6`, 1), "Accepted"},
		} {
			if got := send(c.payload); got != c.want {
				t.Errorf("%s: %s, want %s", c.what, got, c.want)
			}
		}
		if v := version(); v != 6.0 {
			t.Errorf("version after the updates: %v, want 6", v)
		}
		_, size, _ := r.cp.Unit().Auth().ListInfo()
		if size != 3 { // TAG…1, TAG…2, BAD
			t.Errorf("%d entries, want 3", size)
		}
		entries := mustCall(t, r.cp, "GetVariables", `{"getVariableData":[{"component":{"name":"LocalAuthListCtrlr"},"variable":{"name":"Entries"}}]}`)
		if res := entries["getVariableResult"].([]any)[0].(map[string]any); res["attributeValue"] != "3" {
			t.Errorf("LocalAuthListCtrlr.Entries: %v", res)
		}
		known, _ := r.cp.Unit().Auth().Lookup("BAD")
		if known.List == nil || known.List.Status != "Blocked" {
			t.Errorf("BAD in the list: %+v", known.List)
		}

		// An entry keeps its token's type: a Central token is an app's,
		// not a card at the reader's.
		app := `{"versionNumber":7,"updateType":"Differential","localAuthorizationList":[` +
			`{"idToken":{"idToken":"APP-1","type":"Central"},"idTokenInfo":{"status":"Accepted"}}]}`
		if got := send(app); got != "Accepted" {
			t.Fatalf("a Central token: %s", got)
		}
		if k, _ := r.cp.Unit().Auth().Lookup("APP-1"); k.List != nil {
			t.Errorf("a Central entry authorizes a card at the reader: %+v", k.List)
		}
		if k, _ := r.cp.Unit().Auth().LookupToken("APP-1", "Central"); k.List == nil || k.List.TokenType != "Central" {
			t.Errorf("the Central entry for a Central token: %+v", k.List)
		}

		// C13/C14: offline, a listed token starts a transaction at once.
		if _, err := r.settings.Set("LocalAuthorizeOffline", "true", config.ActorInstaller); err != nil {
			t.Fatal(err)
		}
		csms.offline.Store(true)
		r.cp.Disconnected()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG0000000000000001", 1)
		time.Sleep(5 * time.Second)
		st, err := r.cp.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tx := st.Connectors[1].Transaction; tx == nil || tx.IDTag != "TAG0000000000000001" {
			t.Errorf("offline with a listed token: %+v", tx)
		}
	})
}

// listStation is a 2.0.1 station on a real store (bbolt, fsync on
// commit) with the local list enabled; it does not run (SendLocalList
// needs no core).
func listStation(b *testing.B) *ChargePoint {
	db, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	cat, _ := config.NewCatalogue(nil)
	settings, err := config.Open(cat, &config.MemStorage{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	settings.Set("LocalAuthListEnabled", "true", config.ActorInstaller)
	cp, err := New(station.Options{Settings: settings, Board: sim.New(sim.Options{Connectors: 1}), Store: db, Clock: clock.Real{}})
	if err != nil {
		b.Fatal(err)
	}
	return cp
}

func sendList(b *testing.B, cp *ChargePoint, payload string) {
	out, err := cp.HandleCall(context.Background(), "SendLocalList", json.RawMessage(payload))
	if err != nil || string(out) != `{"status":"Accepted"}` {
		b.Fatalf("SendLocalList: %s, %v", out, err)
	}
}

// BenchmarkSendLocalList45000 applies a Full list of ItemsPerMessage
// (SendLocalListMaxLength) entries over 2.0.1, durably: the store commits
// before the answer.
func BenchmarkSendLocalList45000(b *testing.B) {
	cp := listStation(b)
	payloads := [2]string{localList(1, 0, 45000, true), localList(2, 45000, 45000, true)}
	i := 0
	for b.Loop() {
		sendList(b, cp, payloads[i%2])
		i++
	}
}

// BenchmarkLocalListLookup1M looks tokens up in a list of a million
// entries (LocalAuthListMaxLength) sent over 2.0.1, as an authorization
// does, with the median and 99th percentile.
func BenchmarkLocalListLookup1M(b *testing.B) {
	cp := listStation(b)
	const size, chunk = 1_000_000, 45_000
	for first, v := 0, 1; first < size; first, v = first+chunk, v+1 {
		sendList(b, cp, localList(v, first, min(chunk, size-first), first == 0))
	}
	var times []time.Duration
	for b.Loop() {
		tag := fmt.Sprintf("TAG%016d", rand.IntN(size))
		start := time.Now()
		known, _ := cp.Unit().Auth().Lookup(tag)
		times = append(times, time.Since(start))
		if known.List == nil || known.List.Status != "Accepted" {
			b.Fatalf("%s not found", tag)
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds())/1000, "p99-µs")
}
