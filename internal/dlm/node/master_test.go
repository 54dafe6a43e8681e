package node

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/dlm"
	"github.com/evse-dev/evse/internal/dlm/wire"
)

// holdLinks is a stranger on the LAN: from each of its source addresses
// it keeps as many idle links to the master as it can, reopening each
// one the master closes, until ctx ends. It returns how many links it
// opened in all.
func holdLinks(ctx context.Context, t *testing.T, master string, sources []string, perSource int) *atomic.Int64 {
	opened := &atomic.Int64{}
	var wg sync.WaitGroup
	for _, src := range sources {
		for range perSource {
			wg.Go(func() {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
				for ctx.Err() == nil {
					c, err := d.DialContext(ctx, "tcp", master)
					if err != nil {
						select {
						case <-ctx.Done():
						case <-time.After(10 * time.Millisecond):
						}
						continue
					}
					opened.Add(1)
					// Idle until the master closes it, or the end.
					stop := context.AfterFunc(ctx, func() { c.Close() })
					c.Read(make([]byte, 1))
					stop()
					c.Close()
				}
			})
		}
	}
	t.Cleanup(wg.Wait)
	return opened
}

// TestAKeyedSlaveGetsInWhileStrangersHoldLinks: strangers keep every link
// of the master's handshake taken — one address holding 32, then eight
// addresses holding four each — and a slave with the site key that starts
// meanwhile still links and gets its share within seconds.
func TestAKeyedSlaveGetsInWhileStrangersHoldLinks(t *testing.T) {
	for _, c := range []struct {
		name      string
		sources   []string
		perSource int
	}{
		{"one address", []string{"127.0.0.2"}, maxHandshakes},
		{"eight addresses", []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8", "127.0.0.9"}, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, addr := startMaster(t, "site-key", 0, site32())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opened := holdLinks(ctx, t, addr, c.sources, c.perSource)
			for opened.Load() < int64(maxHandshakes) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // their links are in their handshake
			ch := newFakeCharger(true)
			began := time.Now()
			startSlave(t, "S", "site-key", addr, ch)
			eventually(t, "the keyed slave gets its share", func() bool { return ch.Limit() == 32 })
			t.Logf("linked in %v while strangers opened %d links", time.Since(began).Round(time.Millisecond), opened.Load())
			cancel()
		})
	}
}

// countHandler counts the records logged at Warn and above.
type countHandler struct{ n *atomic.Int64 }

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.n.Add(1)
	}
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }

// TestNothingAStrangerSendsFloodsTheLog: 300 hellos of another protocol
// version and 300 with the master's own id, as fast as a LAN peer can
// send them, are each refused, and leave a few warnings, not hundreds.
func TestNothingAStrangerSendsFloodsTheLog(t *testing.T) {
	warnings := &atomic.Int64{}
	addr := make(chan string, 1)
	m := NewMaster(MasterConfig{ID: "M", Listen: "127.0.0.1:0", Key: wire.NewKey("k"), Site: site32().get,
		Logger: slog.New(countHandler{warnings}), OnListen: func(tcp, _ net.Addr) { addr <- tcp.String() }})
	run(t, m.Run)
	master := <-addr
	refused := 0
	for i := range 600 {
		c, err := net.Dial("tcp", master)
		if err != nil {
			t.Fatal(err)
		}
		hello := `- {"type":"hello","v":2,"slave":"S","nonce":"AAAAAAAAAAAAAAAAAAAAAA=="}` + "\n"
		if i%2 == 1 {
			hello = fmt.Sprintf(`- {"type":"hello","v":%d,"slave":"M","nonce":"AAAAAAAAAAAAAAAAAAAAAA=="}`+"\n", wire.Version)
		}
		c.Write([]byte(hello))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if l, err := newLineReader(c).next(); err == nil && l.Msg.Type == wire.TypeRefuse {
			refused++
		}
		c.Close()
	}
	if refused != 600 {
		t.Errorf("%d of 600 bad hellos refused", refused)
	}
	if n := warnings.Load(); n > 5 {
		t.Errorf("600 bad hellos logged %d warnings", n)
	}
}

// TestDlmStateSaysWhenALoweringIsUnderWay: while the offers in force are
// over what is available on a phase (a limit just lowered, the slaves and
// their EVs following), DlmState says so for that phase.
func TestDlmStateSaysWhenALoweringIsUnderWay(t *testing.T) {
	st := dlm.MasterState{SlavesOnline: 2, Charging: 2, MeterOK: true,
		Available: dlm.Phases{32, 20, 32}, Offered: dlm.Phases{21.2, 31.8, 21.2}}
	got := masterText(st, false)
	if !strings.Contains(got, "L2 31.8/20.0 A") || !strings.Contains(got, "lowering under way on L2") || strings.Contains(got, "on L1") {
		t.Errorf("DlmState %q", got)
	}
	st.Offered = dlm.Phases{20, 20, 20}
	if got := masterText(st, false); strings.Contains(got, "lowering") {
		t.Errorf("DlmState %q says lowering with nothing over", got)
	}
}
