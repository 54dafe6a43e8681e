package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// apiRequest sends one request to the local API with the given headers
// (Host among them) and returns the status code.
func apiRequest(t *testing.T, method, url, body string, headers map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestTheAPIAnswersOnlyThisMachineAndNoOtherSite: on loopback, a request
// naming another host (a web page that rebound its name to 127.0.0.1) is
// refused, whatever it carries; a browser's cross-site request that would
// change something is refused; the local tools' requests pass.
func TestTheAPIAnswersOnlyThisMachineAndNoOtherSite(t *testing.T) {
	t.Parallel()
	_, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-GUARD", t.TempDir())...)
	addr := p.apiURL(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(addr, "http://"))
	plug := addr + "/api/v1/connectors/1/plug"
	for _, c := range []struct {
		name    string
		method  string
		headers map[string]string
		want    int
	}{
		{"rebinding: a foreign Host", "POST", map[string]string{"Host": "evil.example:" + port, "Content-Type": "text/plain"}, 421},
		{"rebinding: foreign Host and Origin", "POST", map[string]string{"Host": "evil.example:" + port,
			"Origin": "http://evil.example:" + port, "Content-Type": "text/plain"}, 421},
		{"a foreign Host reading", "GET", map[string]string{"Host": "evil.example"}, 421},
		{"a LAN address on a loopback API", "GET", map[string]string{"Host": "192.168.1.10:" + port}, 421},
		{"cross-site form post", "POST", map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain"}, 403},
		{"cross-site fetch", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
	} {
		url := plug
		if c.method == "GET" {
			url = addr + "/api/v1/status"
		}
		if got := apiRequest(t, c.method, url, `{}`, c.headers); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if st, _ := apiDo(t, "GET", addr+"/api/v1/connectors/1", ""); st != 200 {
		t.Fatalf("the hardware read: %d", st)
	}
	if _, hw := apiDo(t, "GET", addr+"/api/v1/connectors/1", ""); hw["ev"] != nil {
		t.Errorf("a refused request plugged an EV: %v", hw)
	}
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port} {
		if got := apiRequest(t, "POST", addr+"/api/v1/connectors/1/clear", "", map[string]string{"Host": host, "Sec-Fetch-Site": "same-origin"}); got != 200 {
			t.Errorf("Host %s, same origin: %d, want 200", host, got)
		}
	}
}

// TestTheAPIBeyondLoopbackNeedsItsToken: listening on every address, the
// API answers nothing without the token evse api-token shows, and logs who
// changed a key (never a secret's value). The test's requests go to
// loopback only.
func TestTheAPIBeyondLoopbackNeedsItsToken(t *testing.T) {
	t.Parallel()
	_, url := newCSMS(t, csmstest.Options{})
	dir := t.TempDir()
	args := runArgs(url, "CP-TOKEN", dir)
	for i, a := range args {
		if a == "127.0.0.1:0" {
			args[i] = "0.0.0.0:0"
		}
	}
	p := startEVSE(t, args...)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(p.apiURL(t), "http://"))
	base := "http://127.0.0.1:" + port + "/api/v1"
	token, errOut, code := runEVSE(t, "api-token", "--data", dir)
	token = strings.TrimSpace(token)
	if code != 0 || len(token) != 64 {
		t.Fatalf("evse api-token: %q %s", token, errOut)
	}
	if info, err := os.Stat(dir + "/api-token"); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the token file: %v %v, want mode 0600", info, err)
	}
	for _, auth := range []string{"", "Bearer wrong", "Basic " + token, "Bearer " + token[:63]} {
		h := map[string]string{}
		if auth != "" {
			h["Authorization"] = auth
		}
		if got := apiRequest(t, "PUT", base+"/config/DlmSiteKey", `{"value":"a-long-enough-site-secret-1"}`, h); got != 401 {
			t.Errorf("Authorization %q: %d, want 401", auth, got)
		}
	}
	ok := map[string]string{"Authorization": "Bearer " + token}
	if got := apiRequest(t, "GET", base+"/status", "", ok); got != 200 {
		t.Fatalf("with the token: %d", got)
	}
	if got := apiRequest(t, "PUT", base+"/config/DlmSiteKey", `{"value":"a-long-enough-site-secret-1"}`, ok); got != 200 {
		t.Fatalf("a key set with the token: %d", got)
	}
	if got := apiRequest(t, "PUT", base+"/config/MeterValueSampleInterval", `{"value":"30"}`, ok); got != 200 {
		t.Fatalf("a key set with the token: %d", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.errOut.String(), "MeterValueSampleInterval") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	logs := p.errOut.String()
	if !strings.Contains(logs, "installer changed a key through the local API") || !strings.Contains(logs, "remote=127.0.0.1") {
		t.Errorf("no log of who changed the keys:\n%s", logs)
	}
	if strings.Contains(logs, "a-long-enough-site-secret-1") {
		t.Error("the log shows the site key")
	}
}

// openFDs counts a process's open file descriptors.
func openFDs(pid int) int {
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(entries)
}

// TestSlowClientsCannotTakeTheChargersDescriptors: 300 clients on another
// host (127.0.0.2) that send a request body one byte every two seconds,
// reconnecting when dropped, hold no more than the API's per-host cap of
// the charger's descriptors and are dropped after the read timeout; and
// meanwhile the OCPP link comes back after the central system drops it,
// and the API answers a normal request from this machine at once.
func TestSlowClientsCannotTakeTheChargersDescriptors(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-SLOW", t.TempDir())...)
	addr := strings.TrimPrefix(p.apiURL(t), "http://")
	waitCall(t, s, 0, "CP-SLOW", "StatusNotification", 10*time.Second)
	before := openFDs(p.cmd.Process.Pid)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	dropped := 0
	for range 300 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				d := net.Dialer{Timeout: time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
				c, err := d.Dial("tcp", addr)
				if err != nil {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				fmt.Fprintf(c, "POST /api/v1/rfid HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n", addr)
				for {
					select {
					case <-stop:
						c.Close()
						return
					case <-time.After(2 * time.Second):
					}
					if _, err := c.Write([]byte("x")); err != nil {
						break
					}
				}
				mu.Lock()
				dropped++
				mu.Unlock()
				c.Close()
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(12 * time.Second) // past the read timeout: some were dropped
	held := openFDs(p.cmd.Process.Pid) - before
	t.Logf("descriptors held by the slow clients: %d", held)
	if held > 16+8 {
		t.Errorf("slow clients from one host hold %d descriptors, more than the API's cap per host", held)
	}
	// The OCPP link, dropped, comes back meanwhile.
	mark := len(s.Records())
	s.Disconnect("CP-SLOW")
	waitCall(t, s, mark, "CP-SLOW", "StatusNotification", 20*time.Second)
	// A normal request from this machine is answered at once.
	began := time.Now()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET /api/v1/connectors/1 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a normal request during the attack: %v %v", resp, err)
	}
	t.Logf("a normal request answered in %v during the attack", time.Since(began).Round(time.Millisecond))
	mu.Lock()
	n := dropped
	mu.Unlock()
	if n == 0 {
		t.Error("no slow client was dropped")
	}
	p.stop(syscall.SIGTERM)
}
