package main

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

const dataMarker = "MARKERMARKER1234"

// goodStore makes a data directory with configuration values set, one of
// them the marker a corruption can find.
func goodStore(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	if _, errOut, code := runEVSE(t, "config", "set", "--data", dir, "HeartbeatInterval=123",
		"RfidTagFreeCharging="+dataMarker, "SecurityProfile=1", "AuthorizationKey=00112233445566778899aabbccddeeff"); code != 0 {
		t.Fatal(errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "evse.db"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Corruptions of a bbolt file, as found on disks (see internal/store for
// the layout of its meta pages).
func pageSize(b []byte) int { return int(binary.LittleEndian.Uint32(b[16+8:])) }

func breakNewestMeta(b []byte) []byte {
	ps := pageSize(b)
	t0, t1 := binary.LittleEndian.Uint64(b[16+48:]), binary.LittleEndian.Uint64(b[ps+16+48:])
	off := 0
	if t1 > t0 {
		off = ps
	}
	b[off+16+56] ^= 0xff // its checksum
	return b
}

func flipMarker(b []byte) []byte {
	for i := bytes.Index(b, []byte(dataMarker)); i >= 0; {
		b[i+3] ^= 1
		j := bytes.Index(b[i+1:], []byte(dataMarker))
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return b
}

// hugeValueLength sets the length of the marker's value to 536,870,915
// bytes in its leaf element, in a leaf page or an inline bucket's page.
func hugeValueLength(t *testing.T, b []byte) []byte {
	le := binary.LittleEndian
	var patch func(base int) int
	patch = func(base int) int {
		n := 0
		count := int(le.Uint16(b[base+10:]))
		for e := range count {
			ea := base + 16 + e*16
			flags, pos, ksize, vsize := le.Uint32(b[ea:]), int(le.Uint32(b[ea+4:])), int(le.Uint32(b[ea+8:])), int(le.Uint32(b[ea+12:]))
			v := ea + pos + ksize
			switch {
			case v+len(dataMarker) <= len(b) && string(b[v:v+len(dataMarker)]) == dataMarker:
				le.PutUint32(b[ea+12:], 536870915)
				n++
			case flags&1 != 0 && vsize > 16 && v+16 < len(b) && le.Uint64(b[v:]) == 0:
				n += patch(v + 16) // an inline bucket's page
			}
		}
		return n
	}
	ps, n := pageSize(b), 0
	for p := 2; (p+1)*ps <= len(b); p++ {
		if le.Uint16(b[p*ps+8:])&0x02 != 0 {
			n += patch(p * ps)
		}
	}
	if n == 0 {
		t.Fatal("the marker's leaf element was not found")
	}
	return b
}

// TestADamagedDataFileIsRefusedClearly: every damage found on real disks
// ends in a clear error and exit status 1 from evse config get, evse store
// check and evse run, never in defaults, a crash or runaway memory; config
// get leaves the file as it was; evse store salvage keeps what is readable
// and the damaged file, and the charge point then starts.
func TestADamagedDataFileIsRefusedClearly(t *testing.T) {
	t.Parallel()
	good := goodStore(t)
	s, url := newCSMS(t, csmstest.Options{})
	for _, c := range []struct {
		name, want string
		damage     func([]byte) []byte
		kept       bool // salvage keeps the marker
	}{
		{"cut to 0 bytes", "empty", func([]byte) []byte { return nil }, false},
		{"cut to 8 KiB", "cut short", func(b []byte) []byte { return b[:8<<10] }, false},
		{"cut to 20 KB", "cut short", func(b []byte) []byte { return b[:20000] }, true},
		{"the newest meta page's checksum broken", "meta pages is damaged", breakNewestMeta, false},
		{"a bit flipped in a configuration value", "do not match their checksum", flipMarker, true},
		{"a value's length flipped to 512 MiB", "a value of 536870915 bytes", func(b []byte) []byte { return hugeValueLength(t, b) }, false},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "evse.db")
			damaged := c.damage(bytes.Clone(good))
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"config", "get", "--data", dir, "HeartbeatInterval"},
				{"store", "check", "--data", dir},
				runArgs(url, "CP-DAMAGED", dir),
			} {
				out, errOut, code := runEVSE(t, args...)
				if code != 1 || !strings.Contains(errOut, "damaged") || !strings.Contains(errOut, c.want) || len(errOut) > 4096 {
					t.Errorf("evse %s: exit %d, %q %q, want 1 and a message saying %q", args[0], code, out, errOut, c.want)
				}
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, damaged) {
				t.Error("the damaged file was changed")
			}
			for _, r := range s.Records() {
				if r.ChargePoint == "CP-DAMAGED" {
					t.Fatal("evse run on a damaged file talked to the central system")
				}
			}
			out, errOut, code := runEVSE(t, "store", "salvage", "--data", dir)
			if code != 0 || !strings.Contains(out, "kept as") {
				t.Fatalf("salvage: exit %d, %s %s", code, out, errOut)
			}
			kept, _ := filepath.Glob(path + ".damaged-*")
			if len(kept) != 1 {
				t.Fatalf("the damaged file is not kept: %v", kept)
			}
			if b, _ := os.ReadFile(kept[0]); !bytes.Equal(b, damaged) {
				t.Error("the kept file is not the damaged one")
			}
			out, errOut, code = runEVSE(t, "config", "get", "--data", dir, "RfidTagFreeCharging")
			if code != 0 {
				t.Fatalf("config get after salvage: %s", errOut)
			}
			if got := strings.Contains(out, dataMarker[:3]); got != c.kept {
				t.Errorf("after salvage: %q; the marker kept %v, want %v", out, got, c.kept)
			}
		})
	}
}

// TestRandomDamageNeverCrashes flips random bytes of a good data file, 60
// times, one to four bytes each: evse config get answers or refuses
// (exit 0 or 1), never crashes, and its message stays short. The seed is
// logged.
func TestRandomDamageNeverCrashes(t *testing.T) {
	t.Parallel()
	good := goodStore(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	refused := 0
	for i := range 60 {
		dir := t.TempDir()
		b := bytes.Clone(good)
		for range 1 + rng.IntN(4) {
			b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
		}
		os.WriteFile(filepath.Join(dir, "evse.db"), b, 0o600)
		_, errOut, code := runEVSE(t, "config", "get", "--data", dir)
		if code != 0 && code != 1 {
			t.Fatalf("damage %d: exit %d: %s", i, code, errOut)
		}
		if len(errOut) > 4096 {
			t.Fatalf("damage %d: a message of %d bytes", i, len(errOut))
		}
		if code == 1 {
			refused++
		}
	}
	t.Logf("%d of 60 damaged files refused, the others read (the damage fell on unused bytes)", refused)
}
