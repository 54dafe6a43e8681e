package config

import (
	"strconv"
	"strings"
)

// Examples returns values the key accepts (the first differs from the
// built-in default where the key allows another value) and values it
// rejects. Tests and fuzz seeds use them across packages; the docs show them.
func (k Key) Examples() (good, bad []string) {
	// Keys checked against others: examples valid with the other keys at
	// their defaults.
	switch k.Name {
	case "NumberOfConnectors":
		return []string{"2", "1", "254"}, []string{"255", "-1", "two", "0"}
	case "DlmOperatorPhase1Limit", "DlmOperatorPhase2Limit", "DlmOperatorPhase3Limit":
		return []string{"10", "0", "16"}, []string{"17", "1001", "-1", "ten", ""}
	case "DlmPhase1Limit", "DlmPhase2Limit", "DlmPhase3Limit":
		// Above the operator limit, which a lower value would drag down.
		return []string{"32", "16", "1000"}, []string{"1001", "-1", "ten", ""}
	}
	switch k.Kind {
	case KindInt:
		alt := k.Min
		if strconv.FormatInt(alt, 10) == k.Default {
			alt = k.Max
		}
		good = []string{strconv.FormatInt(alt, 10), strconv.FormatInt(k.Min, 10), strconv.FormatInt(k.Max, 10)}
		bad = []string{strconv.FormatInt(k.Max+1, 10), strconv.FormatInt(k.Min-1, 10), "ten", "1.5", "", " 12"}
	case KindBool:
		good = []string{"false", "true", "0", "1", "On", "off", "TRUE"}
		if k.Default == "false" {
			good[0], good[1] = "true", "false"
		}
		bad = []string{"2", "yes", "", "truee"}
	case KindOfflineTx:
		good = []string{"ImmediatelyWhenPlugged", "true", "false", "2", "1", "0", "immediatelywhenplugged", "On"}
		bad = []string{"3", "-1", "maybe", ""}
	case KindEnum:
		good = []string{strconv.Itoa(len(k.Labels) - 1), "0", k.Labels[len(k.Labels)-1]}
		if len(k.Labels) == 1 {
			good[0] = k.Labels[0]
		}
		bad = []string{strconv.Itoa(len(k.Labels)), "-1", "no such label", ""}
	case KindString:
		good = []string{"FREE-TAG-1", "", "x"}
		long := make([]byte, k.MaxLen+1)
		for i := range long {
			long[i] = 'A'
		}
		bad = []string{string(long), "\xff"}
		if k.MinLen > 0 {
			good = []string{string(long[:k.MinLen]), "", string(long[:k.MaxLen])}
			bad = append(bad, string(long[:k.MinLen-1]), "x")
		}
	case KindMeasurands:
		good = []string{"Energy.Active.Import.Register,Power.Active.Import,Current.Import",
			"Current.Import , Energy.Active.Import.Register", "", "power.active.import"}
		bad = []string{"Voltage", "Energy.Active.Import.Register,SoC", "Current.Import,Current.Import", "Energy.Active.Import.Register;Current.Import"}
	case KindProfiles:
		good = []string{"Core,SmartCharging", "Core"}
		bad = []string{"Core,Security", ""}
	case KindList:
		good = []string{strings.Join(k.Labels, ","), k.Labels[len(k.Labels)-1], " " + strings.ToLower(k.Labels[0])}
		bad = []string{"", k.Labels[0] + "," + k.Labels[0], "NoSuchMember", k.Labels[0] + ";" + k.Labels[len(k.Labels)-1]}
	case KindRateUnits:
		good = []string{"Current"}
		bad = []string{"Power", "Current,Power", ""}
	case KindPhaseRotation:
		good = []string{"1.RTS", "0.RST", "", "1.NotApplicable"}
		bad = []string{"1.XYZ", "RST", "9.RST", "0.RST,1.RST", "1.RST,1.RTS"}
	case KindIPPort:
		good = []string{"192.168.1.10:5050", "10.0.0.2", "[fd00::1]:4000", "fd00::2", ""}
		bad = []string{"master.local", "192.168.1.300", "10.0.0.2:99999", "10.0.0.2:0", "10.0.0.2:"}
	case KindMeterURL:
		good = []string{"tcp://192.168.1.50:502?map=sdm630&unit=1", "rtu:///dev/ttyUSB0?map=abb-b23&unit=1&baud=9600&parity=even", ""}
		bad = []string{"192.168.1.50:502", "tcp://192.168.1.50:502?map=unknown", "tcp://192.168.1.50:502", "ftp://h:21?map=sdm630"}
	case KindHexKey:
		good = []string{"00112233445566778899aabbccddeeff", "00112233445566778899AABBCCDDEEFF00112233", ""}
		bad = []string{"secret", "0011", "00112233445566778899aabbccddeeff0011223344", "0g112233445566778899aabbccddeeff"}
	}
	return good, bad
}
