package v16

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// The tests of this file start the charge point on a store written by the
// code before the core spoke domain terms (schema 1: OCPP 1.6 payloads in
// the journal, the open transactions and the profiles). The store and
// what that code sent when it started from it are in testdata/legacy; its
// README says how they were made.

// legacyDefaults are the settings the fixture was written with.
var legacyDefaults = map[string]string{
	"NumberOfConnectors": "2", "ConnectorPhaseRotationMaxLength": "2", "ConnectorPhaseRotation": "1.RST,2.RST",
	"MeterValuesSampledData":   "Energy.Active.Import.Register,Power.Active.Import,Current.Import",
	"StopTxnSampledData":       "Energy.Active.Import.Register,Current.Import",
	"ClockAlignedDataInterval": "300",
	"LocalAuthListEnabled":     "true",
}

// legacyBuckets are the buckets of both layouts.
var legacyBuckets = []string{"journal", "txids", "opentx", "meta", "meter", "avail", "reservations", "profiles",
	"authcache", "locallist"}

// legacyT0 is when the fixture's session began (a synctest bubble's
// epoch); the charge point is restarted an hour later, as the old code
// was for old-replay.json.
var legacyT0 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// legacyDump is a store's content: bucket → key → value.
type legacyDump map[string]map[string]string

// legacyFile reads a JSON file of testdata/legacy into v.
func legacyFile(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "legacy", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func legacyFixture(t *testing.T) (d legacyDump) {
	legacyFile(t, "schema1-store.json", &d)
	return d
}

// legacyOldReplay is what the old code did when started from the
// fixture an hour after its epoch: its answers to GetCompositeSchedule,
// and the transaction messages it sent, in order.
type legacyOldReplay struct {
	Composite map[string]json.RawMessage `json:"composite"`
	Messages  []struct {
		Action  string          `json:"action"`
		Payload json.RawMessage `json:"payload"`
	} `json:"transactionMessages"`
}

func legacyReplay(t *testing.T) (r legacyOldReplay) {
	legacyFile(t, "old-replay.json", &r)
	return r
}

// legacyStore puts a dump into a new store; a value may be given as
// "base64:…".
func legacyStore(t *testing.T, d legacyDump) *kv.Mem {
	t.Helper()
	m := &kv.Mem{}
	err := m.Update(func(tx kv.Tx) error {
		for b, kvs := range d {
			for k, v := range kvs {
				val := []byte(v)
				if enc, ok := strings.CutPrefix(v, "base64:"); ok {
					var err error
					if val, err = base64.StdEncoding.DecodeString(enc); err != nil {
						return err
					}
				}
				if err := tx.Put(b, k, val); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// legacyWatched is a store that notes every bucket a transaction wrote
// to (even one that did not commit), so that a dump misses none.
type legacyWatched struct {
	*kv.Mem
	mu      sync.Mutex
	touched map[string]bool
}

var _ kv.Store = (*legacyWatched)(nil)

func (w *legacyWatched) Update(fn func(kv.Tx) error) error {
	return w.Mem.Update(func(tx kv.Tx) error { return fn(legacyWatchedTx{tx, w}) })
}

func (w *legacyWatched) touch(bucket string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.touched == nil {
		w.touched = map[string]bool{}
	}
	w.touched[bucket] = true
}

type legacyWatchedTx struct {
	kv.Tx
	w *legacyWatched
}

func (t legacyWatchedTx) Put(bucket, key string, value []byte) error {
	t.w.touch(bucket)
	return t.Tx.Put(bucket, key, value)
}

func (t legacyWatchedTx) Delete(bucket, key string) error {
	t.w.touch(bucket)
	return t.Tx.Delete(bucket, key)
}

func (t legacyWatchedTx) DeleteBucket(bucket string) error {
	t.w.touch(bucket)
	return t.Tx.DeleteBucket(bucket)
}

// dump reads every bucket of both layouts, of the fixture and any
// written to.
func (w *legacyWatched) dump(t *testing.T, also legacyDump) legacyDump {
	t.Helper()
	names := map[string]bool{}
	for _, b := range legacyBuckets {
		names[b] = true
	}
	for b := range also {
		names[b] = true
	}
	w.mu.Lock()
	maps.Copy(names, w.touched)
	w.mu.Unlock()
	out := legacyDump{}
	err := w.View(func(tx kv.Tx) error {
		for b := range names {
			m := map[string]string{}
			err := tx.ForEach(b, func(k string, v []byte) error {
				m[k] = string(v)
				return nil
			})
			if err != nil {
				return err
			}
			if len(m) > 0 {
				out[b] = m
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// legacyNew builds the charge point on store without running it: the
// conversion happens in New.
func legacyNew(t *testing.T, store kv.Store) (*ChargePoint, error) {
	t.Helper()
	cat, err := config.NewCatalogue(legacyDefaults)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := config.Open(cat, &config.MemStorage{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	board := sim.New(sim.Options{Connectors: settings.Snapshot().NumberOfConnectors})
	return New(Options{Settings: settings, Board: board, Store: store, Clock: clock.Real{}})
}

// legacyEntry is a schema-1 journal entry.
type legacyEntry struct {
	key      string
	Seq      uint64          `json:"seq"`
	Action   string          `json:"action"`
	Tx       int64           `json:"tx"`
	Payload  json.RawMessage `json:"payload"`
	Attempts int             `json:"attempts"`
}

// legacyOpen is a schema-1 open transaction.
type legacyOpen struct {
	key    string
	raw    string
	Local  int64               `json:"local"`
	LastWh float64             `json:"lastWh"`
	LastAt time.Time           `json:"lastAt"`
	Data   []ocpp16.MeterValue `json:"data"`
}

// legacyRead reads the fixture's journal and open transactions, in key
// order, and checks that it holds the scenario the tests are about.
func legacyRead(t *testing.T, d legacyDump) ([]legacyEntry, []legacyOpen) {
	t.Helper()
	var journal []legacyEntry
	for _, k := range slices.Sorted(maps.Keys(d["journal"])) {
		e := legacyEntry{key: k}
		if err := json.Unmarshal([]byte(d["journal"][k]), &e); err != nil {
			t.Fatalf("fixture journal %s: %v", k, err)
		}
		journal = append(journal, e)
	}
	var open []legacyOpen
	for _, k := range slices.Sorted(maps.Keys(d["opentx"])) {
		o := legacyOpen{key: k, raw: d["opentx"][k]}
		if err := json.Unmarshal([]byte(o.raw), &o); err != nil {
			t.Fatalf("fixture opentx %s: %v", k, err)
		}
		open = append(open, o)
	}
	count := map[string]int{}
	retried := 0
	for _, e := range journal {
		count[e.Action]++
		if e.Attempts > 0 {
			retried++
		}
	}
	if count["StopTransaction"] != 1 || count["StartTransaction"] != 1 || count["MeterValues"] < 4 || retried == 0 ||
		len(open) != 2 || len(d["profiles"]) != 3 || len(d["txids"]) != 2 {
		t.Fatalf("the fixture lacks the scenario: journal %v (%d retried), %d open, %d profiles, %d ids",
			count, retried, len(open), len(d["profiles"]), len(d["txids"]))
	}
	return journal, open
}

// legacyJSON decodes a JSON object, leaving out some of its members.
func legacyJSON(t *testing.T, raw []byte, without ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	for _, k := range without {
		delete(m, k)
	}
	return m
}

// legacySchemas compiles the official OCPP 1.6 request schemas from
// $EVSE_OCPP_SCHEMAS or ../shared/ocpp next to the module root, or
// returns nil where they are absent (ocpp16.ValidateRequest still
// checks every message).
func legacySchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	path := os.Getenv("EVSE_OCPP_SCHEMAS")
	if path == "" {
		dir, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				path = filepath.Join(dir, "..", "shared", "ocpp", "ocpp1_6-schemas.json")
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
			dir = filepath.Dir(dir)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("the official OCPP 1.6 schemas are not at %q (%v): not comparing the messages with them", path, err)
		return nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	var ids []string
	for _, v := range doc.([]any) {
		root := v.(map[string]any)
		id := root["$id"].(string)
		if err := c.AddResource(id, root); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	out := map[string]*jsonschema.Schema{}
	for _, id := range ids {
		action, ok := strings.CutSuffix(strings.TrimPrefix(id, "urn:"), ".req")
		if !ok {
			continue
		}
		if out[action], err = c.Compile(id); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// legacyValidate checks a CALL against our schemas and, where present,
// the official ones.
func legacyValidate(t *testing.T, schemas map[string]*jsonschema.Schema, c sentCall) {
	t.Helper()
	if err := ocpp16.ValidateRequest(c.action, c.payload); err != nil {
		t.Errorf("%s breaks the schema: %v\n%s", c.action, err, c.payload)
	}
	if schemas == nil {
		return
	}
	s := schemas[c.action]
	if s == nil {
		t.Errorf("no official schema for %s", c.action)
		return
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(c.payload))
	if err == nil {
		err = s.Validate(v)
	}
	if err != nil {
		t.Errorf("%s breaks the official schema: %v\n%s", c.action, err, c.payload)
	}
}

// legacyTxCalls are the transaction messages sent: StartTransaction,
// StopTransaction and MeterValues of a transaction.
func legacyTxCalls(f *fakeCSMS) []sentCall {
	var out []sentCall
	for _, c := range f.sent("") {
		switch {
		case c.action == "StartTransaction", c.action == "StopTransaction",
			c.action == "MeterValues" && strings.Contains(string(c.payload), `"transactionId"`):
			out = append(out, c)
		}
	}
	return out
}

// legacyComposites asks for the composite schedules old-replay.json
// holds and compares them with what the old code answered.
func legacyComposites(t *testing.T, cp *ChargePoint, replay legacyOldReplay) {
	t.Helper()
	if len(replay.Composite) != 3 {
		t.Fatalf("old-replay.json has %d composite schedules", len(replay.Composite))
	}
	for req, want := range replay.Composite {
		got, err := call(t, cp, "GetCompositeSchedule", req)
		if err != nil {
			t.Fatalf("GetCompositeSchedule %s: %v", req, err)
		}
		if g, w := legacyJSON(t, []byte(got)), legacyJSON(t, want); !reflect.DeepEqual(g, w) {
			t.Errorf("GetCompositeSchedule %s:\n got %s\nwant %s (the old code's answer on the same store)", req, got, want)
		}
	}
	// What the profiles say at 01:00: the daily default's 16 A, its 32 A
	// under the maximum's 20 from 02:00, its 10 A from 03:00; the
	// TxProfile of 8 A is gone with its transaction.
	for n, want := range []string{"0=20", "0=16 3600=20 7200=10", "0=16 3600=20 7200=10"} {
		if got := periodsOf(composite(t, cp, fmt.Sprintf(`{"connectorId":%d,"duration":14400}`, n))); got != want {
			t.Errorf("connector %d: composite %s, want %s", n, got, want)
		}
	}
}

// TestLegacyConversionKeepsEveryRecord: opening a schema-1 store converts
// each journal entry, open transaction and profile into its domain record
// under the same key, keeps the rest as it was and marks the store
// schema 2.
func TestLegacyConversionKeepsEveryRecord(t *testing.T) {
	fixture := legacyFixture(t)
	// The fixture's offline start used no reservation; one is added by
	// hand so that the conversion of reservationId is seen too.
	start := fixture["journal"][key(16)]
	if !strings.Contains(start, `"action":"StartTransaction"`) {
		t.Fatalf("fixture journal entry 16 is not the StartTransaction: %s", start)
	}
	fixture["journal"][key(16)] = strings.Replace(start, `"meterStart":`, `"reservationId":7,"meterStart":`, 1)
	journal, open := legacyRead(t, fixture)
	synctest.Test(t, func(t *testing.T) {
		w := &legacyWatched{Mem: legacyStore(t, fixture)}
		if _, err := legacyNew(t, w); err != nil {
			t.Fatalf("New on the schema-1 store: %v", err)
		}
		after := w.dump(t, fixture)
		if got := after["meta"]["schema"]; got != "3" {
			t.Errorf("meta schema %q, want 3", got)
		}
		// Untouched: the ids, registers, counters, cache and list.
		for _, b := range []string{"txids", "meter", "authcache", "locallist", "meta"} {
			want := maps.Clone(fixture[b])
			got := maps.Clone(after[b])
			if b == "meta" {
				delete(got, "schema")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("bucket %s changed:\n got %v\nwant %v", b, got, want)
			}
		}

		kinds := map[string]chargepoint.TxEventKind{"StartTransaction": chargepoint.TxStarted,
			"MeterValues": chargepoint.TxUpdated, "StopTransaction": chargepoint.TxStopped}
		if len(after["journal"]) != len(journal) {
			t.Errorf("journal has %d entries, want %d", len(after["journal"]), len(journal))
		}
		// A stop is told its connector by the transaction's other events
		// (1.6's StopTransaction does not name it; 2.0.1's
		// TransactionEvent will).
		connectorOf := map[int64]int{}
		for _, e := range journal {
			var p struct {
				ConnectorId int `json:"connectorId"`
			}
			if json.Unmarshal(e.Payload, &p); p.ConnectorId != 0 {
				connectorOf[e.Tx] = p.ConnectorId
			}
		}
		for _, e := range journal {
			var rec struct {
				chargepoint.JournalEntry
				Event chargepoint.TxEvent `json:"event"`
			}
			if err := json.Unmarshal([]byte(after["journal"][e.key]), &rec); err != nil {
				t.Errorf("journal %s: %v", e.key, err)
				continue
			}
			ev := rec.Event
			if rec.Seq != e.Seq || rec.Tx != e.Tx || rec.Attempts != e.Attempts || rec.Kind != kinds[e.Action] {
				t.Errorf("journal %s: %+v, want seq %d tx %d attempts %d %s", e.key, rec.JournalEntry, e.Seq, e.Tx, e.Attempts, e.Action)
			}
			switch e.Action {
			case "StartTransaction":
				var p ocpp16.StartTransactionRequest
				json.Unmarshal(e.Payload, &p)
				if p.ReservationId == nil || *p.ReservationId != 7 {
					t.Fatalf("journal %s: no reservationId: %s", e.key, e.Payload)
				}
				if ev.Connector != p.ConnectorId || ev.IDTag != p.IdTag || rec.IDTag != p.IdTag || ev.MeterWh != p.MeterStart ||
					!ev.At.Equal(p.Timestamp.Time) || !reflect.DeepEqual(ev.ReservationID, p.ReservationId) {
					t.Errorf("journal %s: %+v, want %s", e.key, ev, e.Payload)
				}
			case "MeterValues":
				var p ocpp16.MeterValuesRequest
				json.Unmarshal(e.Payload, &p)
				if ev.Connector != p.ConnectorId {
					t.Errorf("journal %s: connector %d, want %d", e.key, ev.Connector, p.ConnectorId)
				}
				legacySamplesMatch(t, "journal "+e.key, ev.Samples, p.MeterValue)
			case "StopTransaction":
				var p ocpp16.StopTransactionRequest
				json.Unmarshal(e.Payload, &p)
				if ev.IDTag != p.IdTag || ev.MeterWh != p.MeterStop || !ev.At.Equal(p.Timestamp.Time) || string(ev.Reason) != string(p.Reason) {
					t.Errorf("journal %s: %+v, want %s", e.key, ev, e.Payload)
				}
				if want := connectorOf[e.Tx]; want == 0 || ev.Connector != want {
					t.Errorf("journal %s: the stop of transaction %d on connector %d, want %d", e.key, e.Tx, ev.Connector, want)
				}
				legacySamplesMatch(t, "journal "+e.key, ev.Samples, p.TransactionData)
			}
		}

		if len(after["opentx"]) != len(open) {
			t.Errorf("opentx has %d transactions, want %d", len(after["opentx"]), len(open))
		}
		for _, o := range open {
			raw := after["opentx"][o.key]
			// Every field but the meter values is the same JSON.
			if got, want := legacyJSON(t, []byte(raw), "samples"), legacyJSON(t, []byte(o.raw), "data"); !reflect.DeepEqual(got, want) {
				t.Errorf("open transaction %s:\n got %v\nwant %v", o.key, got, want)
			}
			var tx chargepoint.Transaction
			json.Unmarshal([]byte(raw), &tx)
			legacySamplesMatch(t, "open transaction "+o.key, tx.Data, o.Data)
		}

		// The profiles, field by field.
		at := func(d time.Duration) time.Time { return legacyT0.Add(d) }
		day := 86400
		txID := 102
		want := map[string]chargepoint.InstalledProfile{
			key(1): {Connector: 0, Profile: smartcharging.Profile{ID: 1, Purpose: smartcharging.ChargePointMax, Kind: smartcharging.Absolute,
				ValidFrom: at(0), ValidTo: at(30 * 24 * time.Hour),
				Schedule: smartcharging.Schedule{Start: at(0), Unit: smartcharging.Amperes,
					Periods: []smartcharging.SchedulePeriod{{Start: 0, Limit: 20}}}}},
			key(2): {Connector: 0, Profile: smartcharging.Profile{ID: 2, StackLevel: 1, Purpose: smartcharging.TxDefault,
				Kind: smartcharging.Recurring, Recurrency: smartcharging.Daily,
				Schedule: smartcharging.Schedule{Start: at(0), Duration: &day, Unit: smartcharging.Amperes, MinRate: 6.1,
					Periods: []smartcharging.SchedulePeriod{{Start: 0, Limit: 16}, {Start: 7200, Limit: 32}, {Start: 10800, Limit: 10, Phases: 1}}}}},
			key(3): {Connector: 2, Profile: smartcharging.Profile{ID: 3, Purpose: smartcharging.Tx, Kind: smartcharging.Relative,
				TransactionID: &txID, Schedule: smartcharging.Schedule{Unit: smartcharging.Amperes,
					Periods: []smartcharging.SchedulePeriod{{Start: 0, Limit: 8}}}}},
		}
		if len(after["profiles"]) != len(want) {
			t.Errorf("%d profiles, want %d", len(after["profiles"]), len(want))
		}
		for k, w := range want {
			wantRaw, _ := json.Marshal(w)
			if got := after["profiles"][k]; !reflect.DeepEqual(legacyJSON(t, []byte(got)), legacyJSON(t, wantRaw)) {
				t.Errorf("profile %s:\n got %s\nwant %s", k, got, wantRaw)
			}
		}
	})
}

// legacySamplesMatch compares converted samples with the 1.6 meter values
// they came from, value by value.
func legacySamplesMatch(t *testing.T, what string, got []chargepoint.Sample, want []ocpp16.MeterValue) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d samples, want %d", what, len(got), len(want))
		return
	}
	phases := map[ocpp16.Phase]int{ocpp16.PhaseL1: 1, ocpp16.PhaseL2: 2, ocpp16.PhaseL3: 3}
	for i, mv := range want {
		s := got[i]
		if !s.At.Equal(mv.Timestamp.Time) || len(s.Values) != len(mv.SampledValue) {
			t.Errorf("%s sample %d: %+v, want %+v", what, i, s, mv)
			continue
		}
		for j, sv := range mv.SampledValue {
			v, _ := strconv.ParseFloat(sv.Value, 64)
			g := s.Values[j]
			if string(s.Context) != string(sv.Context) || string(g.Measurand) != string(sv.Measurand) ||
				g.Phase != phases[sv.Phase] || math.Abs(g.Value-v) > 1e-9 {
				t.Errorf("%s sample %d value %d: %+v (%s), want %+v", what, i, j, g, s.Context, sv)
			}
		}
	}
}

// TestLegacyStoreIsTakenOverWithNothingLost: the new charge point started
// on the old store sends what the old code sent when started on it:
// every journaled message, with the central system's ids, and a PowerLoss
// stop of each transaction that was running; its profiles still apply
// (the TxProfile of a transaction that did not survive is dropped); the
// store ends up schema 2, and a second start converts and resends
// nothing.
func TestLegacyStoreIsTakenOverWithNothingLost(t *testing.T) {
	schemas := legacySchemas(t)
	fixture := legacyFixture(t)
	journal, open := legacyRead(t, fixture)
	replay := legacyReplay(t)
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Hour) // as old-replay.json was made
		store := legacyStore(t, fixture)
		w := &legacyWatched{Mem: store}
		csms := newFakeCSMS()
		csms.txID.Store(400) // the next transactionId is 501, as in old-replay.json
		r := startRig(t, csms, legacyDefaults, store, func(o *Options) { o.Store = w })
		synctest.Wait()
		legacyComposites(t, r.cp, replay)
		time.Sleep(2 * time.Minute) // short of the next clock-aligned boundary
		synctest.Wait()

		for _, c := range csms.sent("") {
			legacyValidate(t, schemas, c)
		}
		sent := legacyTxCalls(csms)

		// As the old code did.
		if len(sent) != len(replay.Messages) {
			t.Errorf("%d transaction messages sent, want %d as the old code", len(sent), len(replay.Messages))
		}
		for i := range min(len(sent), len(replay.Messages)) {
			g, w := sent[i], replay.Messages[i]
			if g.action != w.Action || !reflect.DeepEqual(legacyJSON(t, g.payload), legacyJSON(t, w.Payload)) {
				var want bytes.Buffer
				json.Compact(&want, w.Payload)
				t.Errorf("transaction message %d:\n got %s %s\nwant %s %s", i, g.action, g.payload, w.Action, want.Bytes())
			}
		}

		// As the store says: the journal in order, with the central
		// system's ids (a start's answer gives the id of what follows
		// it), then a PowerLoss stop of each open transaction.
		ids := map[int64]int{}
		for k, v := range fixture["txids"] {
			local, _ := strconv.ParseInt(k, 10, 64)
			ids[local], _ = strconv.Atoi(v)
		}
		next := 501
		i := 0
		take := func(action string) (sentCall, bool) {
			t.Helper()
			if i >= len(sent) {
				t.Errorf("message %d: nothing sent, want %s", i, action)
				return sentCall{}, false
			}
			c := sent[i]
			i++
			if c.action != action {
				t.Errorf("message %d: %s, want %s", i-1, c.action, action)
				return c, false
			}
			return c, true
		}
		idOf := func(c sentCall) int {
			var m struct {
				TransactionID *int `json:"transactionId"`
			}
			json.Unmarshal(c.payload, &m)
			if m.TransactionID == nil {
				return 0
			}
			return *m.TransactionID
		}
		for _, e := range journal {
			c, ok := take(e.Action)
			if !ok {
				continue
			}
			if got, want := legacyJSON(t, c.payload, "transactionId"), legacyJSON(t, e.Payload, "transactionId"); !reflect.DeepEqual(got, want) {
				t.Errorf("journal entry %d (%s of tx %d) sent as\n %s\nwant (but the transactionId)\n %s", e.Seq, e.Action, e.Tx, c.payload, e.Payload)
			}
			if e.Action == "StartTransaction" {
				ids[e.Tx] = next
				next++
				continue
			}
			if id, known := ids[e.Tx]; !known || idOf(c) != id {
				t.Errorf("journal entry %d (%s of tx %d) sent with transactionId %d, want %d", e.Seq, e.Action, e.Tx, idOf(c), id)
			}
		}
		for _, o := range open {
			c, ok := take("StopTransaction")
			if !ok {
				continue
			}
			var stop ocpp16.StopTransactionRequest
			json.Unmarshal(c.payload, &stop)
			if stop.TransactionId != ids[o.Local] || stop.Reason != ocpp16.ReasonPowerLoss || stop.MeterStop != int(math.Floor(o.LastWh)) ||
				!stop.Timestamp.Equal(o.LastAt) || stop.IdTag != "" {
				t.Errorf("open transaction %d stopped with %s, want transactionId %d, PowerLoss, meterStop %d at %v",
					o.Local, c.payload, ids[o.Local], int(math.Floor(o.LastWh)), o.LastAt)
			}
			// The samples kept, as the fixture has them.
			want := legacyJSON(t, []byte(o.raw))["data"]
			got := legacyJSON(t, c.payload)["transactionData"]
			if want == nil || !reflect.DeepEqual(got, want) {
				t.Errorf("open transaction %d: transactionData\n %v\nwant the samples kept\n %v", o.Local, got, want)
			}
		}
		if i != len(sent) {
			t.Errorf("%d transaction messages more than the store held: %v", len(sent)-i, sent[i:])
		}

		// Transaction A, stopped while the central system was away: its
		// stop carries the id the central system gave it before.
		stopsOfA := 0
		for _, c := range sent {
			var stop ocpp16.StopTransactionRequest
			if c.action == "StopTransaction" && json.Unmarshal(c.payload, &stop) == nil && stop.Reason == ocpp16.ReasonEVDisconnected {
				stopsOfA++
				if stop.TransactionId != 101 || len(stop.TransactionData) == 0 {
					t.Errorf("transaction A's stop: %s, want transactionId 101 and its transaction data", c.payload)
				}
			}
		}
		if stopsOfA != 1 {
			t.Errorf("transaction A's StopTransaction sent %d times, want once", stopsOfA)
		}

		// The store is of this layout with nothing left to send.
		after := w.dump(t, fixture)
		if after["meta"]["schema"] != "3" {
			t.Errorf("meta schema %q, want 3", after["meta"]["schema"])
		}
		for _, b := range []string{"journal", "opentx", "txids"} {
			if len(after[b]) != 0 {
				t.Errorf("bucket %s still holds %v", b, after[b])
			}
		}
		if got := slices.Sorted(maps.Keys(after["profiles"])); !slices.Equal(got, []string{key(1), key(2)}) {
			t.Errorf("profiles %v, want 1 and 2 (the TxProfile 3 goes with its transaction)", got)
		}
		for _, b := range []string{"authcache", "locallist", "meter"} {
			if !reflect.DeepEqual(after[b], fixture[b]) {
				t.Errorf("bucket %s: %v, want %v", b, after[b], fixture[b])
			}
		}
		var kept []float64
		for _, k := range []string{key(1), key(2)} {
			v, _ := strconv.ParseFloat(fixture["meter"][k], 64)
			kept = append(kept, v)
		}
		if regs, err := LastRegisters(store, 2); err != nil || !slices.Equal(regs, kept) {
			t.Errorf("last registers %v %v, want %v", regs, err, kept)
		}
		if v, n, err := r.cp.LocalListInfo(); v != 3 || n != 2 || err != nil {
			t.Errorf("local list version %d size %d %v, want 3 and 2", v, n, err)
		}
		if e, ok, _ := r.cp.LocalListEntry("LISTED"); !ok || e.Status != ocpp16.AuthorizationStatusAccepted || e.ParentIdTag != "FLEET" ||
			e.ExpiryDate == nil || !e.ExpiryDate.Equal(time.Date(2000, 6, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("LISTED in the local list: %+v %v", e, ok)
		}
		if k, err := r.cp.Unit().Auth().Lookup("TAG2"); err != nil || k.Cache == nil || k.Cache.Status != chargepoint.AuthAccepted {
			t.Errorf("TAG2 in the cache: %+v %v", k, err)
		}
		r.stop()
		if r.runErr != nil {
			t.Errorf("Run: %v", r.runErr)
		}
		first := w.dump(t, fixture)

		// A second start, at 02:00: nothing is converted or sent again.
		time.Sleep(legacyT0.Add(2 * time.Hour).Sub(time.Now()))
		csms2 := newFakeCSMS()
		w2 := &legacyWatched{Mem: store}
		r = startRig(t, csms2, legacyDefaults, store, func(o *Options) { o.Store = w2 })
		synctest.Wait()
		// From 02:00, the default's 32 A under the maximum's 20, then its
		// 10 A from 03:00.
		for n, want := range []string{"0=20", "0=20 3600=10", "0=20 3600=10"} {
			if got := periodsOf(composite(t, r.cp, fmt.Sprintf(`{"connectorId":%d,"duration":7200}`, n))); got != want {
				t.Errorf("after the second start, connector %d: composite %s, want %s", n, got, want)
			}
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if got := legacyTxCalls(csms2); len(got) != 0 {
			t.Errorf("the second start sent %d transaction messages: %v", len(got), got)
		}
		second := w2.dump(t, fixture)
		// A start is a security event of its own (StartupOfTheDevice):
		// the security log and the sequences move on, nothing else.
		if got := len(second["securitylog"]); got != len(first["securitylog"])+1 {
			t.Errorf("the second start left %d security events, want %d", got, len(first["securitylog"])+1)
		}
		for _, d := range []legacyDump{first, second} {
			delete(d, "securitylog")
			delete(d["meta"], "securityLogSeq")
			delete(d["meta"], "journalSeq")
		}
		if !reflect.DeepEqual(second, first) {
			t.Errorf("the second start changed the store:\n got %v\nwant %v", second, first)
		}
		// A new session on connector 2 gets the 20 A of the maximum, not
		// the dropped TxProfile's 8 A.
		r.board.Plug(2, sim.EV{Phases: 3, MaxCurrent: 32, CapacityWh: 80000})
		r.board.Present("TAG2", 2)
		time.Sleep(5 * time.Second)
		if got := r.cp.Loads()[1].Applied; got != 20 {
			t.Errorf("a new session on connector 2 is offered %g A, want 20", got)
		}
		r.stop()
		for _, c := range csms2.sent("") {
			legacyValidate(t, schemas, c)
		}
	})
}

// TestLegacyCorruptEntryStopsTheStartAndChangesNothing: an entry the
// conversion cannot read makes New fail with an error naming it, and the
// store is left as it was (everything is converted before anything is
// written).
func TestLegacyCorruptEntryStopsTheStartAndChangesNothing(t *testing.T) {
	fixture := legacyFixture(t)
	stop := fixture["journal"][key(15)]
	if !strings.Contains(stop, `"action":"StopTransaction"`) {
		t.Fatalf("fixture journal entry 15 is not the StopTransaction: %s", stop)
	}
	payloadAt := strings.Index(stop, `"payload":`) + len(`"payload":`)
	for _, c := range []struct {
		name, bucket, key, value, want string
	}{
		{"a payload that is not JSON", "journal", key(15), stop[:payloadAt] + `meterStop=647}`, "journal entry " + key(15)},
		{"a payload that is not the message", "journal", key(15), stop[:payloadAt] + `"EVDisconnected"}`, "journal entry " + key(15)},
		{"an action never journaled", "journal", key(15), strings.Replace(stop, `"StopTransaction"`, `"DataTransfer"`, 1), "journal entry " + key(15)},
		{"a meter value that is no number", "opentx", key(2),
			strings.Replace(fixture["opentx"][key(2)], `"value":"0"`, `"value":"zero"`, 1), "open transaction " + key(2)},
		{"a profile of four phases", "profiles", key(2),
			strings.Replace(fixture["profiles"][key(2)], `"numberPhases":1`, `"numberPhases":4`, 1), "charging profile " + key(2)},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			if c.value == fixture[c.bucket][c.key] {
				t.Fatal("the corruption changed nothing")
			}
			synctest.Test(t, func(t *testing.T) {
				corrupt := maps.Clone(fixture)
				corrupt[c.bucket] = maps.Clone(fixture[c.bucket])
				corrupt[c.bucket][c.key] = c.value
				w := &legacyWatched{Mem: legacyStore(t, corrupt)}
				before := w.dump(t, corrupt)
				_, err := legacyNew(t, w)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("New: %v, want an error naming %q", err, c.want)
				} else {
					t.Logf("New: %v", err)
				}
				if after := w.dump(t, corrupt); !reflect.DeepEqual(after, before) {
					t.Errorf("the failed start changed the store:\n got %v\nwant %v", after, before)
				}
			})
		})
	}
}
