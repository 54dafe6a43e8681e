package config

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func newSettings(t *testing.T, defaults map[string]string) (*Settings, *MemStorage) {
	t.Helper()
	cat, err := NewCatalogue(defaults)
	if err != nil {
		t.Fatal(err)
	}
	st := &MemStorage{}
	s, err := Open(cat, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// TestEveryKeyAcceptsItsExamplesAndRejectsTheBadOnes goes over the whole
// catalogue: good values are stored in read-back form, bad values are
// rejected with ErrInvalid and leave the value as it was.
func TestEveryKeyAcceptsItsExamplesAndRejectsTheBadOnes(t *testing.T) {
	for _, k := range mustCatalogue(t).Keys() {
		if !k.Stored() {
			continue
		}
		good, bad := k.Examples()
		if len(good) == 0 || len(bad) == 0 {
			t.Errorf("%s: no examples", k.Name)
			continue
		}
		for _, v := range good {
			s, st := newSettings(t, nil)
			switch k.Name { // keys that need another one set first
			case "ConnectorPhaseRotation":
				s.Set("ConnectorPhaseRotationMaxLength", "2", ActorInstaller)
			case "SecurityProfile":
				s.Set("AuthorizationKey", "00112233445566778899aabbccddeeff", ActorInstaller)
			}
			if _, err := s.Set(k.Name, v, ActorInstaller); err != nil {
				t.Errorf("%s = %q rejected: %v", k.Name, v, err)
				continue
			}
			want, _ := k.Parse(v)
			got, _ := s.Get(k.Name)
			if got.Value != want || !got.IsSet {
				t.Errorf("%s = %q reads back %q (set %v), want %q", k.Name, v, got.Value, got.IsSet, want)
			}
			stored, _ := st.LoadConfig()
			root := k.Name
			if k.SameAs != "" {
				root = k.SameAs
			}
			if stored[root] != want {
				t.Errorf("%s = %q stored as %q, want %q", k.Name, v, stored[root], want)
			}
		}
		for _, v := range bad {
			s, st := newSettings(t, nil)
			before, _ := s.Get(k.Name)
			_, err := s.Set(k.Name, v, ActorInstaller)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s = %q: err %v, want ErrInvalid", k.Name, v, err)
			}
			after, _ := s.Get(k.Name)
			if after.Value != before.Value || after.IsSet != before.IsSet {
				t.Errorf("%s = %q rejected but value moved from %q to %q", k.Name, v, before.Value, after.Value)
			}
			if stored, _ := st.LoadConfig(); len(stored) != 0 {
				t.Errorf("%s = %q rejected but stored %v", k.Name, v, stored)
			}
		}
	}
}

func mustCatalogue(t *testing.T) *Catalogue {
	t.Helper()
	cat, err := NewCatalogue(nil)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestReadOnlyKeysRefuseOCPPButNotTheInstaller(t *testing.T) {
	s, _ := newSettings(t, nil)
	for _, k := range s.Catalogue().Keys() {
		if k.Access != ReadOnly {
			continue
		}
		good, _ := k.Examples()
		v := "x"
		if len(good) > 0 {
			v = good[0]
		}
		if _, err := s.Set(k.Name, v, ActorOCPP); !errors.Is(err, ErrReadOnly) {
			t.Errorf("OCPP set %s: err %v, want ErrReadOnly", k.Name, err)
		}
		_, err := s.Set(k.Name, v, ActorInstaller)
		if k.Stored() && err != nil {
			t.Errorf("installer set %s = %q: %v", k.Name, v, err)
		}
		if !k.Stored() && !errors.Is(err, ErrNotStored) {
			t.Errorf("installer set computed %s: err %v, want ErrNotStored", k.Name, err)
		}
	}
}

func TestUnknownKey(t *testing.T) {
	s, _ := newSettings(t, nil)
	if _, err := s.Set("NoSuchKey", "1", ActorOCPP); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Set: %v", err)
	}
	if _, err := s.Get("NoSuchKey"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Get: %v", err)
	}
}

func TestHeartbeatKeysAreOneSetting(t *testing.T) {
	s, st := newSettings(t, nil)
	var changes []Change
	s.Watch(func(c Change) { changes = append(changes, c) })
	if _, err := s.Set("HeartBeatInterval", "30", ActorOCPP); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"HeartBeatInterval", "HeartbeatInterval", "heartbeatinterval"} {
		if v, _ := s.Get(n); v.Value != "30" {
			t.Errorf("%s = %q after writing HeartBeatInterval", n, v.Value)
		}
	}
	if _, err := s.Set("HeartbeatInterval", "45", ActorOCPP); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get("HeartBeatInterval"); v.Value != "45" {
		t.Errorf("HeartBeatInterval = %q after writing HeartbeatInterval", v.Value)
	}
	stored, _ := st.LoadConfig()
	if len(stored) != 1 || stored["HeartbeatInterval"] != "45" {
		t.Errorf("stored %v, want only HeartbeatInterval=45", stored)
	}
	if len(changes) != 2 || changes[0].Key.Name != "HeartbeatInterval" || changes[1].New != "45" {
		t.Errorf("changes %+v", changes)
	}
	// The exact spelling wins over the case-insensitive match.
	if k, _ := s.Catalogue().Lookup("HeartBeatInterval"); k.Name != "HeartBeatInterval" {
		t.Errorf("Lookup(HeartBeatInterval) = %s", k.Name)
	}
}

func TestNamesWithASpaceAcceptTheNameWithoutIt(t *testing.T) {
	s, _ := newSettings(t, nil)
	r, err := s.Set("DlmInput1CurrOffsetPhase2", "-10", ActorOCPP)
	if err != nil {
		t.Fatal(err)
	}
	if r.Key.Name != "DlmInput1CurrOffset Phase2" {
		t.Errorf("result key %q", r.Key.Name)
	}
	if v, _ := s.Get("DlmInput1CurrOffset Phase2"); v.Value != "-10" {
		t.Errorf("value %q", v.Value)
	}
	r, err = s.Set("DlmInput2CurrOffsetCfg", "enable opto 2", ActorOCPP)
	if err != nil || r.Effect != Reboot {
		t.Fatalf("Set cfg: %v %v", r, err)
	}
	if v, _ := s.Get("DlmInput2CurrOffset Cfg"); v.Value != "2" {
		t.Errorf("cfg value %q", v.Value)
	}
}

func TestRebootKeysAreExactlyTheInstallationSettings(t *testing.T) {
	want := map[string]bool{
		"DlmMode": true, "DlmMasterIp": true, "DlmDiscoveryNetworkId": true, "DlmAlgo": true,
		"DlmPhase1Limit": true, "DlmPhase2Limit": true, "DlmPhase3Limit": true,
		"DlmExtMeterEnabled": true, "DlmExtMeterLocation": true,
		"DlmExtMeterMainDistributionLimitPhase1": true, "DlmExtMeterMainDistributionLimitPhase2": true,
		"DlmExtMeterMainDistributionLimitPhase3": true,
		"DlmExtMeterDisconnectedFallbackPhase1":  true, "DlmExtMeterDisconnectedFallbackPhase2": true,
		"DlmExtMeterDisconnectedFallbackPhase3": true,
		"DlmInput1CurrOffset Cfg":               true, "DlmInput2CurrOffset Cfg": true,
		"DlmPort": true, "DlmExtMeter": true,
		// OCPP 2.0.1's network connection profiles: the priority applies at the next boot.
		"NetworkConfigurationPriority": true,
	}
	for _, k := range mustCatalogue(t).Keys() {
		if (k.Effect == Reboot) != want[k.Name] {
			t.Errorf("%s: effect %s", k.Name, k.Effect)
		}
	}
}

func TestOperatorLimitNeverAbovePhaseLimit(t *testing.T) {
	s, _ := newSettings(t, nil)
	if _, err := s.Set("DlmOperatorPhase1Limit", "17", ActorOCPP); !errors.Is(err, ErrInvalid) {
		t.Fatalf("operator 17 over phase 16: %v", err)
	}
	if _, err := s.Set("DlmOperatorPhase1Limit", "17", ActorInstaller); !errors.Is(err, ErrInvalid) {
		t.Fatalf("installer operator 17 over phase 16: %v", err)
	}
	if r, err := s.Set("DlmOperatorPhase1Limit", "10", ActorOCPP); err != nil || r.Effect != Immediate {
		t.Fatalf("operator 10: %v %v", r, err)
	}
	if _, err := s.Set("DlmPhase2Limit", "40", ActorOCPP); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set("DlmOperatorPhase2Limit", "40", ActorOCPP); err != nil {
		t.Fatalf("operator 40 under a stored phase limit 40: %v", err)
	}
	// Lowering the phase limit lowers the operator limit with it.
	var changed []string
	s.Watch(func(c Change) { changed = append(changed, c.Key.Name+"="+c.New) })
	if r, err := s.Set("DlmPhase2Limit", "20", ActorOCPP); err != nil || r.Effect != Reboot {
		t.Fatalf("phase 20: %v %v", r, err)
	}
	if v := s.Snapshot().DlmOperatorPhase2Limit; v != 20 {
		t.Errorf("operator limit %d after phase limit lowered to 20", v)
	}
	if got := strings.Join(sorted(changed), " "); got != "DlmOperatorPhase2Limit=20 DlmPhase2Limit=20" {
		t.Errorf("changes %q", got)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestPhaseRotationFollowsConnectorsAndMaxLength(t *testing.T) {
	s, _ := newSettings(t, map[string]string{"NumberOfConnectors": "2", "ConnectorPhaseRotationMaxLength": "3"})
	if _, err := s.Set("ConnectorPhaseRotation", "0.RST, 1.STR,2.trs", ActorOCPP); err != nil {
		t.Fatal(err)
	}
	if v := s.Snapshot().ConnectorPhaseRotation; v != "0.RST,1.STR,2.TRS" {
		t.Errorf("read back %q", v)
	}
	if _, err := s.Set("ConnectorPhaseRotation", "3.RST", ActorOCPP); !errors.Is(err, ErrInvalid) {
		t.Errorf("connector 3 of 2: %v", err)
	}
	if _, err := s.Set("ConnectorPhaseRotationMaxLength", "2", ActorInstaller); !errors.Is(err, ErrInvalid) {
		t.Errorf("max length under the current list: %v", err)
	}
}

func TestSecurityProfileAndAuthorizationKey(t *testing.T) {
	s, _ := newSettings(t, nil)
	if _, err := s.Set("SecurityProfile", "1", ActorOCPP); !errors.Is(err, ErrInvalid) {
		t.Errorf("profile 1 without a key: %v", err)
	}
	if _, err := s.Set("SecurityProfile", "1", ActorInstaller); !errors.Is(err, ErrInvalid) {
		t.Errorf("installer: profile 1 without a key: %v", err)
	}
	if _, err := s.Set("AuthorizationKey", "00112233445566778899aabbccddeeff", ActorOCPP); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Set("SecurityProfile", "2", ActorOCPP); err != nil || r.Effect != Immediate {
		t.Fatalf("profile 2: %v %v", r, err)
	}
	if _, err := s.Set("SecurityProfile", "1", ActorOCPP); !errors.Is(err, ErrInvalid) {
		t.Errorf("lowering over OCPP: %v", err)
	}
	// Profile 3 (client certificates) takes no password: the key may go
	// (the certificate is the charge point's check, not the catalogue's).
	if _, err := s.SetAll([]Pair{{"SecurityProfile", "3"}, {"AuthorizationKey", ""}}, ActorInstaller); err != nil {
		t.Errorf("profile 3 without a password: %v", err)
	}
	if _, err := s.SetAll([]Pair{{"SecurityProfile", "2"}, {"AuthorizationKey", "00112233445566778899aabbccddeeff"}}, ActorInstaller); err != nil {
		t.Fatal(err)
	}
	// The key cannot be emptied while a profile needs it, by either actor.
	for _, by := range []Actor{ActorOCPP, ActorInstaller} {
		if _, err := s.Set("AuthorizationKey", "", by); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v emptying the key under profile 2: %v", by, err)
		}
	}
	// Order within one SetAll does not matter for the installer.
	if _, err := s.SetAll([]Pair{{"SecurityProfile", "0"}, {"AuthorizationKey", ""}}, ActorInstaller); err != nil {
		t.Errorf("installer lowering and emptying together: %v", err)
	}
	if _, err := s.SetAll([]Pair{{"SecurityProfile", "1"}, {"AuthorizationKey", "00112233445566778899aabbccddeeff"}}, ActorInstaller); err != nil {
		t.Errorf("installer raising before setting the key in one call: %v", err)
	}
}

func TestRejectedSecretIsNotInTheError(t *testing.T) {
	s, _ := newSettings(t, nil)
	const almost = "00112233445566778899aabbccddeeff0011223344"
	_, err := s.Set("AuthorizationKey", almost, ActorOCPP)
	if !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), almost) {
		t.Errorf("error %q reveals the value", err)
	}
}

func TestAddedChecksApplyToBothActors(t *testing.T) {
	s, _ := newSettings(t, nil)
	s.AddCheck(func(k Key, v string, _ Actor, _ func(string) string) error {
		if k.Name == "FreeChargingMode" && v == "0" {
			return errors.New("not on this site")
		}
		return nil
	})
	for _, by := range []Actor{ActorOCPP, ActorInstaller} {
		if _, err := s.Set("FreeChargingMode", "No OCPP", by); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not on this site") {
			t.Errorf("%v: %v", by, err)
		}
	}
	if _, err := s.Set("FreeChargingMode", "1", ActorOCPP); err != nil {
		t.Error(err)
	}
}

// A computed value that reads the settings, read while a writer waits,
// must not deadlock (it did when computed values ran under the read lock).
func TestComputedValueReadingSettingsDoesNotDeadlockWithWriters(t *testing.T) {
	s, _ := newSettings(t, nil)
	s.SetComputed("DlmState", func() string { v, _ := s.Get("DlmMode"); return "mode " + v.Value })
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 {
			s.Set("ConnectionTimeOut", strconv.Itoa(10+i%200), ActorOCPP)
		}
	}()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case <-done:
			return
		case <-deadline:
			t.Fatal("readers and writers deadlocked")
		default:
		}
		s.All()
		s.Get("DlmState")
	}
}

func TestFailedStoreChangesNothing(t *testing.T) {
	s, st := newSettings(t, nil)
	called := false
	s.Watch(func(Change) { called = true })
	st.Fail = errors.New("disk full")
	if _, err := s.Set("ConnectionTimeOut", "60", ActorOCPP); err == nil {
		t.Fatal("Set succeeded with a failing store")
	}
	if v := s.Snapshot().ConnectionTimeOut; v != 45 || called {
		t.Errorf("value %d, watcher called %v", v, called)
	}
}

func TestOpenIgnoresStaleStoredValues(t *testing.T) {
	cat := mustCatalogue(t)
	st := &MemStorage{}
	st.SaveConfig(map[string]string{"ConnectionTimeOut": "9000", "Gone": "1", "LocalPreAuthorize": "false"})
	s, err := Open(cat, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := s.Snapshot().ConnectionTimeOut; v != 45 {
		t.Errorf("out-of-range stored value used: %d", v)
	}
	if s.Snapshot().LocalPreAuthorize {
		t.Error("valid stored value ignored")
	}
}

func TestModelDefaults(t *testing.T) {
	s, _ := newSettings(t, map[string]string{"GetConfigurationMaxKeys": "50", "heartbeatinterval": "60"})
	if v := s.Snapshot().GetConfigurationMaxKeys; v != 50 {
		t.Errorf("GetConfigurationMaxKeys %d", v)
	}
	if v, _ := s.Get("HeartBeatInterval"); v.Value != "60" || v.IsSet {
		t.Errorf("HeartBeatInterval %+v", v)
	}
	if _, err := NewCatalogue(map[string]string{"NumberOfConnectors": "300"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad model default: %v", err)
	}
	if _, err := NewCatalogue(map[string]string{"Nope": "1"}); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown model key: %v", err)
	}
	// Model defaults must agree with each other.
	if _, err := NewCatalogue(map[string]string{"NumberOfConnectors": "0"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no connectors but a phase rotation of connector 1: %v", err)
	}
	if _, err := NewCatalogue(map[string]string{"DlmOperatorPhase1Limit": "20"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("operator limit above the phase limit: %v", err)
	}
	low, err := NewCatalogue(map[string]string{"DlmPhase1Limit": "10"})
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := low.Lookup("DlmOperatorPhase1Limit"); k.Default != "10" {
		t.Errorf("operator default %s under a phase limit of 10", k.Default)
	}
}

func TestComputedKey(t *testing.T) {
	s, _ := newSettings(t, nil)
	s.SetComputed("DlmState", func() string { return "Disabled" })
	if v, _ := s.Get("DlmState"); v.Value != "Disabled" {
		t.Errorf("DlmState %q", v.Value)
	}
}

func TestSetAllIsAllOrNothingAndSeesEarlierPairs(t *testing.T) {
	s, st := newSettings(t, nil)
	// The operator limit may rise with the phase limit set before it.
	res, err := s.SetAll([]Pair{{"DlmPhase1Limit", "32"}, {"DlmOperatorPhase1Limit", "32"}}, ActorInstaller)
	if err != nil || len(res) != 2 || res[0].Effect != Reboot || res[1].Effect != Immediate {
		t.Fatalf("SetAll: %v %v", res, err)
	}
	if s.Snapshot().DlmOperatorPhase1Limit != 32 {
		t.Fatal("operator limit not set")
	}
	before, _ := st.LoadConfig()
	_, err = s.SetAll([]Pair{{"ConnectionTimeOut", "60"}, {"DlmOperatorPhase2Limit", "99"}}, ActorInstaller)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("second SetAll: %v", err)
	}
	after, _ := st.LoadConfig()
	if s.Snapshot().ConnectionTimeOut != 45 || len(after) != len(before) {
		t.Fatalf("a refused SetAll changed something: %v", after)
	}
}

func TestLocalSettingsDoNotExistOverOCPP(t *testing.T) {
	s, _ := newSettings(t, nil)
	for name, value := range map[string]string{"DlmSiteKey": "a-site-key-of-16+", "DlmPort": "1234"} {
		if _, err := s.Set(name, value, ActorOCPP); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%s over OCPP: %v, want ErrUnknownKey", name, err)
		}
		if _, err := s.Set(name, value, ActorInstaller); err != nil {
			t.Errorf("%s by the installer: %v", name, err)
		}
	}
}
