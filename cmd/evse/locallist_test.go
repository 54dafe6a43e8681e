package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// fullList is a Full SendLocalList of n tags named prefix-0, prefix-1, ...
func fullList(version int, prefix string, n int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"listVersion":%d,"updateType":"Full","localAuthorizationList":[`, version)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"idTag":"%s-%d","idTagInfo":{"status":"Accepted"}}`, prefix, i)
	}
	sb.WriteString("]}")
	return sb.String()
}

// TestALocalListUpdateKilledHalfwayLeavesTheOldListOrTheNew sends Full
// lists of 45,000 tags and SIGKILLs the charge point at a random moment
// of each update. After every restart the list is whole: its version and
// size, and tags sampled from both lists, show the old list or the new
// one, never a mix. EVSE_LIST_KILLS sets the number of kills (default 3).
func TestALocalListUpdateKilledHalfwayLeavesTheOldListOrTheNew(t *testing.T) {
	t.Parallel()
	kills := 3
	if s := os.Getenv("EVSE_LIST_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("EVSE_LIST_KILLS=%q", s)
		}
		kills = n
	}
	const size = 45000
	s, url := newCSMS(t, csmstest.Options{})
	dir := t.TempDir()
	configure(t, dir, "LocalAuthListEnabled=true")
	p := startEVSE(t, runArgs(url, "CP-LIST", dir)...)
	waitCall(t, s, 0, "CP-LIST", "StatusNotification", 10*time.Second)
	if a, err := csmsCall(t, s, "CP-LIST", "SendLocalList", fullList(1, "V1", size)); err != nil || a["status"] != "Accepted" {
		t.Fatalf("first list: %v, %v", a, err)
	}
	version, kept, replaced := 1, 0, 0
	for k := range kills {
		next := version + 1
		mark := len(s.Records())
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Call(ctxFor(t, 10*time.Second), "CP-LIST", "SendLocalList", []byte(fullList(next, "V"+strconv.Itoa(next), size)))
		}()
		// Kill somewhere in receiving, checking or writing the update.
		s.WaitFor(ctxFor(t, 10*time.Second), mark, func(r csmstest.Record) bool {
			return r.Dir == csmstest.ToChargePoint && r.Frame.Action == "SendLocalList"
		})
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Millisecond) // an update takes about 0.5 s
		p.stop(syscall.SIGKILL)
		<-done
		p = startEVSE(t, runArgs(url, "CP-LIST", dir)...)
		base := p.apiURL(t) + "/api/v1"
		var info map[string]any
		for range 100 {
			var code int
			if code, info = apiDo(t, "GET", base+"/locallist", ""); code == 200 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		v, n := int(info["listVersion"].(float64)), int(info["size"].(float64))
		if n != size || (v != version && v != next) {
			t.Fatalf("kill %d: list version %d with %d entries; want version %d or %d with %d", k, v, n, version, next, size)
		}
		present := func(prefix string) int {
			found := 0
			for range 50 {
				if code, _ := apiDo(t, "GET", fmt.Sprintf("%s/locallist/%s-%d", base, prefix, rand.IntN(size)), ""); code == 200 {
					found++
				}
			}
			return found
		}
		old, nw := present("V"+strconv.Itoa(version)), present("V"+strconv.Itoa(next))
		switch {
		case v == version && old == 50 && nw == 0:
			kept++
		case v == next && old == 0 && nw == 50:
			replaced++
			version = next
		default:
			t.Fatalf("kill %d: version %d, but %d/50 tags of version %d and %d/50 of version %d present", k, v, old, version, nw, next)
		}
	}
	t.Logf("%d kills during Full updates of %d tags: %d kept the old list, %d had the new one, none a mix", kills, size, kept, replaced)
}

// diffList is a Differential SendLocalList adding tags prefix-first ...
// prefix-(first+n-1), and removing the tags named in remove.
func diffList(version int, prefix string, first, n int, remove ...string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"listVersion":%d,"updateType":"Differential","localAuthorizationList":[`, version)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"idTag":"%s-%d","idTagInfo":{"status":"Accepted"}}`, prefix, first+i)
	}
	for i, tag := range remove {
		if n > 0 || i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"idTag":%q}`, tag)
	}
	sb.WriteString("]}")
	return sb.String()
}

// TestTheLocalListAtTheAppendixSizes drives the real binary through the
// local list's answers at full size: disabled (-1, NotSupported), empty
// (0), an update over SendLocalListMaxLength (Failed, nothing applied), a
// stale Differential (VersionMismatch), a list filled to
// LocalAuthListMaxLength (1,000,000), one tag more (Failed, nothing
// applied), and a change that keeps the size (Accepted).
func TestTheLocalListAtTheAppendixSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a list of a million entries")
	}
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-SIZES", t.TempDir())...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-SIZES", "StatusNotification", 10*time.Second)
	call := func(action, payload string) map[string]any {
		t.Helper()
		a, err := csmsCall(t, s, "CP-SIZES", action, payload)
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		return a
	}
	expect := func(what string, got map[string]any, key string, want any) {
		t.Helper()
		if got[key] != want {
			t.Fatalf("%s: %s = %v, want %v", what, key, got[key], want)
		}
	}
	expect("disabled", call("GetLocalListVersion", `{}`), "listVersion", float64(-1))
	expect("disabled", call("SendLocalList", fullList(1, "A", 1)), "status", "NotSupported")
	if code, body := apiDo(t, "PUT", base+"/config/LocalAuthListEnabled", `{"value":"true"}`); code != 200 {
		t.Fatalf("enabling the list: %d %v", code, body)
	}
	expect("empty", call("GetLocalListVersion", `{}`), "listVersion", float64(0))
	expect("45,001 entries", call("SendLocalList", fullList(1, "A", 45001)), "status", "Failed")
	expect("after 45,001", call("GetLocalListVersion", `{}`), "listVersion", float64(0))
	expect("45,000 entries", call("SendLocalList", fullList(1, "A", 45000)), "status", "Accepted")
	expect("a stale Differential", call("SendLocalList", diffList(1, "B", 0, 1)), "status", "VersionMismatch")
	const size, chunk = 1_000_000, 45_000
	v := 1
	for first := 45000; first < size; first += chunk {
		v++
		expect(fmt.Sprintf("version %d", v), call("SendLocalList", diffList(v, "A", first, min(chunk, size-first))), "status", "Accepted")
	}
	if _, info := apiDo(t, "GET", base+"/locallist", ""); info["size"] != float64(size) || info["listVersion"] != float64(v) {
		t.Fatalf("full list: %v", info)
	}
	expect("one more tag", call("SendLocalList", diffList(v+1, "C", 0, 1)), "status", "Failed")
	expect("after one more", call("GetLocalListVersion", `{}`), "listVersion", float64(v))
	if code, _ := apiDo(t, "GET", base+"/locallist/C-0", ""); code != 404 {
		t.Errorf("a tag of the failed update is in the list (%d)", code)
	}
	expect("one out, one in", call("SendLocalList", diffList(v+1, "C", 0, 1, "A-7")), "status", "Accepted")
	if _, info := apiDo(t, "GET", base+"/locallist", ""); info["size"] != float64(size) || info["listVersion"] != float64(v+1) {
		t.Fatalf("after one out, one in: %v", info)
	}
	noViolations(t, s)
}
