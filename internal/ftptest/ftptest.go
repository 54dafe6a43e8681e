// Package ftptest is a small FTP server for tests, on loopback: one user,
// files in memory, passive mode (EPSV and PASV), STOR and RETR. It is
// enough for the charge point's firmware downloads and diagnostics
// uploads, nothing more.
package ftptest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Server is an FTP server on loopback.
type Server struct {
	ln         net.Listener
	user, pass string

	mu     sync.Mutex
	files  map[string][]byte
	wg     sync.WaitGroup
	open   map[io.Closer]bool // control and data connections, passive listeners
	closed bool
}

// Start starts a server for user and pass on 127.0.0.1.
func Start(user, pass string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, user: user, pass: pass, files: map[string][]byte{}, open: map[io.Closer]bool{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is ftp://user:pass@addr + path.
func (s *Server) URL(path string) string {
	return fmt.Sprintf("ftp://%s:%s@%s%s", s.user, s.pass, s.Addr(), path)
}

// Put stores a file for RETR. Paths are absolute: a session's login
// directory is /, and a relative path is taken from there.
func (s *Server) Put(path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[absolute(path)] = append([]byte(nil), data...)
}

// File returns a copy of a file stored (by STOR or Put).
func (s *Server) File(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[absolute(path)]
	return append([]byte(nil), b...), ok
}

func absolute(path string) string {
	if !strings.HasPrefix(path, "/") {
		return "/" + path
	}
	return path
}

// track keeps c to be closed by Close; false (and c closed) when the
// server is closed already.
func (s *Server) track(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.open[c] = true
	return true
}

func (s *Server) untrack(c io.Closer) {
	c.Close()
	s.mu.Lock()
	delete(s.open, c)
	s.mu.Unlock()
}

// Close stops the server and its sessions, transfers included, and waits
// for them.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		if !s.track(c) {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serve(c)
		}()
	}
}

// serve runs one control connection.
func (s *Server) serve(c net.Conn) {
	r := bufio.NewReader(c)
	reply := func(format string, args ...any) { fmt.Fprintf(c, format+"\r\n", args...) }
	reply("220 ftptest ready")
	var user string
	loggedIn := false
	var data net.Listener // the passive listener, if any
	defer func() {
		if data != nil {
			s.untrack(data)
		}
	}()
	for {
		c.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		cmd = strings.ToUpper(cmd)
		if !loggedIn && cmd != "USER" && cmd != "PASS" && cmd != "QUIT" {
			reply("530 not logged in")
			continue
		}
		switch cmd {
		case "USER":
			user = arg
			reply("331 password please")
		case "PASS":
			if user != s.user || arg != s.pass {
				reply("530 login incorrect")
				continue
			}
			loggedIn = true
			reply("230 logged in")
		case "TYPE":
			reply("200 type set")
		case "EPSV", "PASV":
			if data != nil {
				s.untrack(data)
			}
			data, err = net.Listen("tcp", "127.0.0.1:0")
			if err != nil || !s.track(data) {
				data = nil
				reply("425 no data port")
				continue
			}
			port := data.Addr().(*net.TCPAddr).Port
			if cmd == "EPSV" {
				reply("229 Entering Extended Passive Mode (|||%d|)", port)
			} else {
				reply("227 Entering Passive Mode (127,0,0,1,%d,%d)", port/256, port%256)
			}
		case "STOR", "RETR":
			if data == nil {
				reply("425 use PASV first")
				continue
			}
			if cmd == "RETR" {
				if _, ok := s.File(arg); !ok {
					reply("550 no such file")
					continue
				}
			}
			reply("150 opening data connection")
			s.transfer(cmd, arg, data, reply)
			s.untrack(data)
			data = nil
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 %s not implemented", cmd)
		}
	}
}

// maxFile bounds what STOR takes.
const maxFile = 256 << 20

// transfer runs one STOR or RETR over the passive listener.
func (s *Server) transfer(cmd, path string, data net.Listener, reply func(string, ...any)) {
	data.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	dc, err := data.Accept()
	if err != nil || !s.track(dc) {
		reply("425 no data connection")
		return
	}
	defer s.untrack(dc)
	dc.SetDeadline(time.Now().Add(time.Minute))
	if cmd == "STOR" {
		b, err := io.ReadAll(io.LimitReader(dc, maxFile+1))
		switch {
		case err != nil:
			reply("426 transfer aborted")
			return
		case len(b) > maxFile:
			reply("552 over %d bytes", maxFile)
			return
		}
		s.Put(path, b)
	} else {
		b, _ := s.File(path)
		if _, err := dc.Write(b); err != nil {
			reply("426 transfer aborted")
			return
		}
	}
	dc.Close()
	reply("226 transfer complete")
}
