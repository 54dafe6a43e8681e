//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// netnsLAN is a LAN of network namespaces the test creates: a bridge in
// its own namespace and one namespace per host, each on a veth to it.
type netnsLAN struct {
	t      *testing.T
	prefix string
	spaces []string
}

// newNetnsLAN creates the LAN's bridge, or skips the test where network
// namespaces cannot be made (not root, no ip tool, no permission).
func newNetnsLAN(t *testing.T) *netnsLAN {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root: skipped")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip tool (iproute2): skipped")
	}
	lan := &netnsLAN{t: t, prefix: fmt.Sprintf("evse%d", rand.IntN(100000))}
	t.Cleanup(lan.remove)
	if err := lan.ip("netns", "add", lan.prefix+"-lan"); err != nil {
		t.Skipf("cannot create a network namespace (%v): skipped", err)
	}
	lan.spaces = append(lan.spaces, lan.prefix+"-lan")
	lan.must("-n", lan.prefix+"-lan", "link", "add", "br0", "type", "bridge")
	lan.must("-n", lan.prefix+"-lan", "link", "set", "br0", "up")
	return lan
}

func (l *netnsLAN) ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (l *netnsLAN) must(args ...string) {
	l.t.Helper()
	if err := l.ip(args...); err != nil {
		l.t.Fatal(err)
	}
}

// host adds a namespace on the LAN with address addr (CIDR) and returns
// its name.
func (l *netnsLAN) host(name, addr string) string {
	ns := l.prefix + "-" + name
	lanNS := l.prefix + "-lan"
	l.must("netns", "add", ns)
	l.spaces = append(l.spaces, ns)
	l.must("-n", lanNS, "link", "add", "p-"+name, "type", "veth", "peer", "name", "eth0", "netns", ns)
	l.must("-n", lanNS, "link", "set", "p-"+name, "master", "br0")
	l.must("-n", lanNS, "link", "set", "p-"+name, "up")
	l.must("-n", ns, "addr", "add", addr, "brd", "+", "dev", "eth0")
	l.must("-n", ns, "link", "set", "eth0", "up")
	l.must("-n", ns, "link", "set", "lo", "up")
	return ns
}

func (l *netnsLAN) remove() {
	for _, ns := range l.spaces {
		l.ip("netns", "del", ns)
	}
}

// dialIn returns a dial function that opens connections inside network
// namespace ns: a goroutine locks its thread, enters the namespace and
// dials; the thread is never used again (the goroutine exits locked).
func dialIn(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			c   net.Conn
			err error
		}
		ch := make(chan result, 1)
		go func() {
			runtime.LockOSThread() // not unlocked: the thread dies with the goroutine
			f, err := os.Open("/run/netns/" + ns)
			if err != nil {
				ch <- result{nil, err}
				return
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
				ch <- result{nil, fmt.Errorf("setns %s: %w", ns, err)}
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			ch <- result{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}

// TestDLMDiscoveryBetweenNetworkNamespaces: on a LAN of network
// namespaces, a slave in DlmMode 3 finds, by broadcast, the master of its
// DlmDiscoveryNetworkId that holds the site key, and not the master of
// another network id nor one with another key; its car then charges under
// that master.
func TestDLMDiscoveryBetweenNetworkNamespaces(t *testing.T) {
	lan := newNetnsLAN(t)
	const port = 47810
	hosts := []struct {
		name, addr string
		keys       []string
	}{
		{"m1", "10.77.0.1/24", []string{"DlmMode=1", "DlmDiscoveryNetworkId=5", "DlmSiteKey=right-site-key-0001"}},
		{"m2", "10.77.0.2/24", []string{"DlmMode=2", "DlmDiscoveryNetworkId=6", "DlmSiteKey=right-site-key-0001"}},
		{"m3", "10.77.0.3/24", []string{"DlmMode=2", "DlmDiscoveryNetworkId=5", "DlmSiteKey=wrong-site-key-0002"}},
		{"s", "10.77.0.9/24", []string{"DlmMode=3", "DlmDiscoveryNetworkId=5", "DlmSiteKey=right-site-key-0001"}},
	}
	spaces := map[string]string{}
	for _, h := range hosts {
		ns := lan.host(h.name, h.addr)
		spaces[h.name] = ns
		dir := t.TempDir()
		configure(t, dir, append(h.keys, "FreeCharging=1", fmt.Sprintf("DlmPort=%d", port))...)
		// No central system is reachable from the LAN: free charging
		// without OCPP (FreeChargingMode 0) works offline.
		args := append([]string{"netns", "exec", ns, evseBin}, runArgs("ws://127.0.0.1:1/ocpp", "NS-"+h.name, dir)...)
		for i, a := range args {
			if a == "127.0.0.1:0" {
				args[i] = "127.0.0.1:8080"
			}
		}
		p := &process{t: t, cmd: exec.Command("ip", args...), out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan struct{})}
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.errOut
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.err = p.cmd.Wait(); close(p.done) }()
		t.Cleanup(func() {
			p.cmd.Process.Kill()
			<-p.done
			if t.Failed() {
				t.Logf("%s:\n%s", h.name, p.errOut)
			}
		})
	}
	client := &http.Client{Transport: &http.Transport{DialContext: dialIn(spaces["s"])}, Timeout: 5 * time.Second}
	get := func() map[string]any {
		resp, err := client.Get("http://127.0.0.1:8080/api/v1/status")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var st map[string]any
		json.Unmarshal(raw, &st)
		return st
	}
	deadline := time.Now().Add(30 * time.Second)
	var st map[string]any
	for time.Now().Before(deadline) {
		if st = get(); st != nil && strings.Contains(fmt.Sprint(st["dlm"]), "online") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if dlm := fmt.Sprint(st["dlm"]); !strings.Contains(dlm, fmt.Sprintf("master 10.77.0.1:%d online", port)) {
		t.Fatalf("slave's DlmState %q: want master 10.77.0.1:%d online", dlm, port)
	}
	resp, err := client.Post("http://127.0.0.1:8080/api/v1/connectors/1/plug", "application/json", strings.NewReader(`{"phases":3}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for time.Now().Before(deadline) {
		st = get()
		if conns, _ := st["connectors"].([]any); len(conns) > 1 {
			if c, _ := conns[1].(map[string]any); c["offeredA"] == float64(16) { // the master's default 16 A
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the slave's car was not offered the master's 16 A: %v", st)
}
