package daemon

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// APITokenFile is where a data directory keeps the local API's token.
const APITokenFile = "api-token"

// APIToken returns the local API's token of a data directory, making one
// (32 random bytes, hex) the first time.
func APIToken(dataDir string) (string, error) {
	path := filepath.Join(dataDir, APITokenFile)
	raw, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(raw))
		if len(tok) < 32 {
			return "", fmt.Errorf("%s: a token of %d characters; delete the file for a new one", path, len(tok))
		}
		return tok, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return APIToken(dataDir) // made meanwhile by another process
	}
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return tok, f.Close()
}

// The local API's connections are bounded, far below the process's file
// descriptors, so that clients that hold connections open (a slow body, a
// thousand idle sockets) leave the charge point's own work its
// descriptors: at most maxAPIConns at once, more waiting in the kernel's
// backlog, and at most maxAPIConnsPerSource from one address, more closed
// at once (one host on the LAN cannot take them all).
const (
	maxAPIConns          = 64
	maxAPIConnsPerSource = 16
)

// limitListener enforces the bounds.
type limitListener struct {
	net.Listener
	slots chan struct{}
	mu    sync.Mutex
	from  map[netip.Addr]int
}

func newLimitListener(l net.Listener) net.Listener {
	return &limitListener{Listener: l, slots: make(chan struct{}, maxAPIConns), from: map[netip.Addr]int{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		src := remoteIP(c)
		l.mu.Lock()
		full := l.from[src] >= maxAPIConnsPerSource
		if !full {
			l.from[src]++
		}
		l.mu.Unlock()
		if full {
			c.Close()
			continue
		}
		return &limitConn{Conn: c, release: func() {
			l.mu.Lock()
			if l.from[src]--; l.from[src] <= 0 {
				delete(l.from, src)
			}
			l.mu.Unlock()
			<-l.slots
		}}, nil
	}
}

// remoteIP is the address a connection comes from.
func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
