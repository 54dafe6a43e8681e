package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/jlaffaye/ftp"
)

// ftpTimeout bounds each FTP dial and exchange.
const ftpTimeout = time.Minute

// ftpSession logs in to the server of an ftp:// URL (anonymous when the
// URL has no user) and returns the connection and the URL's path.
func ftpSession(ctx context.Context, location string) (*ftp.ServerConn, string, error) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "ftp" || u.Host == "" {
		return nil, "", fmt.Errorf("ftp: bad location %q", location)
	}
	host := u.Host
	if u.Port() == "" {
		host += ":21"
	}
	c, err := ftp.Dial(host, ftp.DialWithContext(ctx), ftp.DialWithTimeout(ftpTimeout))
	if err != nil {
		return nil, "", fmt.Errorf("ftp: dial %s: %w", host, err)
	}
	user, pass := "anonymous", "anonymous"
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	if err := c.Login(user, pass); err != nil {
		c.Quit()
		return nil, "", fmt.Errorf("ftp: login to %s as %s: %w", host, user, err)
	}
	return c, u.Path, nil
}

// ftpUpload stores data at location, or at location/name when location
// ends in a slash.
func ftpUpload(ctx context.Context, location, name string, data []byte) error {
	c, path, err := ftpSession(ctx, location)
	if err != nil {
		return err
	}
	defer c.Quit()
	if strings.HasSuffix(path, "/") || path == "" {
		path += name
	}
	if err := c.Stor(path, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("ftp: STOR %s: %w", path, err)
	}
	return nil
}

// ftpFetch retrieves the file at an ftp:// URL, at most limit bytes.
func ftpFetch(ctx context.Context, location string, limit int) ([]byte, error) {
	c, path, err := ftpSession(ctx, location)
	if err != nil {
		return nil, err
	}
	defer c.Quit()
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
