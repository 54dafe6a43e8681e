package node

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Links in their handshake (not yet authenticated) are bounded twice: at
// most maxHandshakes in all, so that a LAN peer cannot exhaust the
// master's file descriptors, and at most maxPerSource from one address, so
// that one peer cannot take them all. When all are taken, a new link
// evicts the oldest: a stranger holding links idle cannot keep a keyed
// slave, which authenticates within a round trip, from getting in.
const (
	maxHandshakes = 32
	maxPerSource  = 4
)

// handshakes tracks the links in their handshake.
type handshakes struct {
	mu    sync.Mutex
	links map[net.Conn]pendingLink
}

type pendingLink struct {
	source netip.Addr
	since  time.Time
}

// admit takes a new link into its handshake. It returns false (the link
// is to be closed) when its source has maxPerSource in theirs; evicted is
// the oldest link it pushed out, if any, which the caller closes.
func (h *handshakes) admit(c net.Conn, now time.Time) (ok bool, evicted net.Conn) {
	src := sourceOf(c)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.links == nil {
		h.links = map[net.Conn]pendingLink{}
	}
	same := 0
	for _, p := range h.links {
		if p.source == src {
			same++
		}
	}
	if same >= maxPerSource {
		return false, nil
	}
	if len(h.links) >= maxHandshakes {
		var oldest time.Time
		for l, p := range h.links {
			if evicted == nil || p.since.Before(oldest) {
				evicted, oldest = l, p.since
			}
		}
		delete(h.links, evicted)
	}
	h.links[c] = pendingLink{source: src, since: now}
	return true, evicted
}

// done takes a link out of its handshake (authenticated, or ended).
func (h *handshakes) done(c net.Conn) {
	h.mu.Lock()
	delete(h.links, c)
	h.mu.Unlock()
}

// sourceOf is the address a link comes from (its IP, unmapped).
func sourceOf(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}
