package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jlaffaye/ftp"
)

// ftpTimeout bounds each FTP connection, control and data: the same five
// minutes as the HTTP client's.
const ftpTimeout = 5 * time.Minute

// ftpConns dials an FTP session's connections with a deadline and closes
// them all when the session's context ends: the library itself only
// watches the context while dialling.
type ftpConns struct {
	ctx   context.Context
	mu    sync.Mutex
	conns []net.Conn
}

func (f *ftpConns) dial(network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(f.ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(ftpTimeout))
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	return c, nil
}

func (f *ftpConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}

// ftpSession logs in to the server of an ftp:// URL (anonymous when the
// URL has no user). It returns the connection, the file's path, read as
// RFC 1738 says (relative to the login directory; %2F at its start for an
// absolute path; a ;type= suffix dropped), and the function that ends
// the session.
func ftpSession(ctx context.Context, location string) (*ftp.ServerConn, string, func(), error) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "ftp" || u.Hostname() == "" {
		return nil, "", nil, fmt.Errorf("ftp: bad location %q", location)
	}
	port := u.Port()
	if port == "" {
		port = "21"
	}
	host := net.JoinHostPort(u.Hostname(), port)
	conns := &ftpConns{ctx: ctx}
	stop := context.AfterFunc(ctx, conns.closeAll)
	c, err := ftp.Dial(host, ftp.DialWithDialFunc(conns.dial))
	if err != nil {
		stop()
		conns.closeAll()
		return nil, "", nil, fmt.Errorf("ftp: dial %s: %w", host, err)
	}
	end := func() {
		stop()
		c.Quit()
		conns.closeAll()
	}
	user, pass := "anonymous", "anonymous"
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	if err := c.Login(user, pass); err != nil {
		end()
		return nil, "", nil, fmt.Errorf("ftp: login to %s as %s: %w", host, user, err)
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), ";type=")
	return c, path, end, nil
}

// ftpUpload stores data at location, or at location/name when location
// ends in a slash (or names no file).
func ftpUpload(ctx context.Context, location, name string, data []byte) error {
	c, path, end, err := ftpSession(ctx, location)
	if err != nil {
		return err
	}
	defer end()
	if path == "" || strings.HasSuffix(path, "/") {
		path += name
	}
	if err := c.Stor(path, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("ftp: STOR %s: %w", path, err)
	}
	return nil
}

// ftpFetch retrieves the file at an ftp:// URL, at most limit bytes.
func ftpFetch(ctx context.Context, location string, limit int) ([]byte, error) {
	c, path, end, err := ftpSession(ctx, location)
	if err != nil {
		return nil, err
	}
	defer end()
	r, err := c.Retr(path)
	if err != nil {
		return nil, fmt.Errorf("ftp: RETR %s: %w", path, err)
	}
	body, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	closeErr := r.Close()
	switch {
	case err != nil:
		return nil, fmt.Errorf("ftp: RETR %s: %w", path, err)
	case len(body) > limit:
		return nil, fmt.Errorf("ftp: RETR %s: over %d bytes", path, limit)
	case closeErr != nil:
		return nil, fmt.Errorf("ftp: RETR %s: %w", path, closeErr)
	}
	return body, nil
}
