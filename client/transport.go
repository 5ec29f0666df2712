package client

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
)

// DefaultTCPPort is the port of a tcp:// transport that names none (NFD's).
const DefaultTCPPort = "6363"

// DefaultTransport returns the transport URI an NFD client would use, looked
// up as NFD's library does: the NDN_CLIENT_TRANSPORT environment variable;
// else the first transport= line of ~/.ndn/client.conf,
// /usr/local/etc/ndn/client.conf and /etc/ndn/client.conf, in that order;
// else the unix socket of a node run on its defaults (/run/nfd/nfd.sock as
// root, $XDG_RUNTIME_DIR/ndnsvs-node/nfd.sock otherwise; see
// internal/config's UnixSocketPath). It reads the environment and files at
// each call and is safe for concurrent use.
func DefaultTransport() string {
	var confs []string
	if home, err := os.UserHomeDir(); err == nil {
		confs = append(confs, filepath.Join(home, ".ndn", "client.conf"))
	}
	confs = append(confs, "/usr/local/etc/ndn/client.conf", "/etc/ndn/client.conf")
	return defaultTransport(os.Getenv("NDN_CLIENT_TRANSPORT"), confs, config.Config{}.UnixSocketPath())
}

// defaultTransport is DefaultTransport with its inputs given.
func defaultTransport(env string, confs []string, socket string) string {
	if env = strings.TrimSpace(env); env != "" {
		return env
	}
	for _, p := range confs {
		if t, ok := confTransport(p); ok {
			return t
		}
	}
	return "unix://" + socket
}

// confTransport returns the value of the transport key of an NFD
// client.conf (INI-like: key=value lines, ';' or '#' comments), if the
// file exists and sets it.
func confTransport(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != "transport" {
			continue
		}
		if v = strings.TrimSpace(v); v != "" {
			return v, true
		}
	}
	return "", false
}

// endpoint is a parsed transport URI.
type endpoint struct {
	network string // unix, tcp, tcp4 or tcp6
	addr    string
	local   bool // NFD treats the face as local: /localhost commands
}

func (e endpoint) String() string {
	if e.network == "unix" {
		return "unix://" + e.addr
	}
	return e.network + "://" + e.addr
}

// parseTransport parses unix:///path, tcp://host[:port], tcp4:// and
// tcp6://. A unix socket is local (commands go to /localhost/nfd); TCP is
// not, even to a loopback address, as NFD sees it (/localhop/nfd).
func parseTransport(uri string) (endpoint, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return endpoint{}, fmt.Errorf("%w: %q: %w", ErrTransport, uri, err)
	}
	switch u.Scheme {
	case "unix":
		p := u.Path
		if p == "" {
			p = u.Opaque
		}
		if u.Host != "" || p == "" {
			return endpoint{}, fmt.Errorf("%w: %q: want unix:///absolute/path", ErrTransport, uri)
		}
		return endpoint{network: "unix", addr: p, local: true}, nil
	case "tcp", "tcp4", "tcp6":
		host := u.Host
		if host == "" {
			return endpoint{}, fmt.Errorf("%w: %q: no host", ErrTransport, uri)
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(strings.Trim(host, "[]"), DefaultTCPPort)
		}
		return endpoint{network: u.Scheme, addr: host}, nil
	default:
		return endpoint{}, fmt.Errorf("%w: %q: scheme %q (want unix, tcp, tcp4 or tcp6)", ErrTransport, uri, u.Scheme)
	}
}
