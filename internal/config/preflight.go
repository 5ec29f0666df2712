package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Preflight checks what the configuration asks of this machine, which
// Validate cannot know: that the unix socket's directory can be created
// (and, for the default path, is this user's alone) and its path is not a
// file or another live socket, that the socket's
// group exists and may be given, that the state directory can be written
// (when the node name is the default one), that the named multicast
// interfaces exist and are usable, that the WebSocket TLS certificate and
// key can be read and pair, and that listen addresses belong to this
// machine. These are the refusals a node would otherwise meet only while
// starting. It returns nil or one *Error per problem, with its key and no
// file or line, joined as Validate's are. It reads the file system and
// the interface list and dials the unix socket path when a socket is there;
// it creates nothing. c must have passed Validate.
func (c Config) Preflight() error {
	var ch checker
	c.preflightUnix(&ch)
	c.preflightStateDir(&ch)
	c.preflightMulticast(&ch)
	c.preflightTLS(&ch)
	c.preflightListen(&ch)
	c.preflightSecurity(&ch)
	return joinErrors(ch.errs)
}

func (c Config) preflightUnix(ch *checker) {
	if !c.Faces.Unix.Enabled {
		return
	}
	path := c.UnixSocketPath()
	if err := canCreateIn(filepath.Dir(path)); err != nil {
		ch.add("faces.unix.path", "%s: cannot create the socket: %v", quote(path), err)
	} else if err := ownDefaultDir(c.Faces.Unix.Path, filepath.Dir(path)); err != nil {
		ch.add("faces.unix.path", "%s: %v", quote(path), err)
	} else if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			ch.add("faces.unix.path", "%s: file exists and is not a socket", quote(path))
		} else if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
			conn.Close()
			ch.add("faces.unix.path", "%s: in use by another process (another node, or NFD)", quote(path))
		}
	}
	gid, ok, err := c.UnixGroupID()
	var e *Error
	switch {
	case errors.As(err, &e):
		ch.errs = append(ch.errs, e)
	case err != nil:
		ch.add("faces.unix.group", "%v", err)
	case ok && os.Geteuid() != 0 && !inGroup(gid):
		ch.add("faces.unix.group", "%s: this process (uid %d) is not a member of group %d, and only root may give a file to a group it is not in",
			quote(c.Faces.Unix.Group), os.Geteuid(), gid)
	}
}

// ownDefaultDir refuses a default socket directory (configured is "") that
// exists and that another user owns or may write into: the user fallback
// is in /tmp under a name anyone can guess, and whoever controls the
// directory can put a socket of their own in the node's place.
func ownDefaultDir(configured, dir string) error {
	if configured != "" {
		return nil // the operator chose it
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil // made by the node, mode 0755
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if int(st.Uid) != os.Geteuid() || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("directory %s belongs to uid %d with mode %#o: another user could put a socket in the node's place; remove it, or set faces.unix.path",
			dir, st.Uid, fi.Mode().Perm())
	}
	return nil
}

// inGroup reports whether the process belongs to group gid.
func inGroup(gid int) bool {
	if os.Getegid() == gid {
		return true
	}
	groups, err := os.Getgroups()
	return err == nil && slices.Contains(groups, gid)
}

// canCreateIn reports why a file cannot be created in dir, creating the
// missing directories on the way: nil when dir, or the nearest of its
// parents that exists, is a directory this process may write into.
func canCreateIn(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("%s is not a directory", d)
		case err == nil:
			// access(2) also reports a read-only file system.
			if err := syscall.Access(d, 2|1); err != nil { // W_OK|X_OK
				return fmt.Errorf("%s: not writable by this user: %w", d, err)
			}
			return nil
		case !errors.Is(err, fs.ErrNotExist):
			return err
		case d == filepath.Dir(d):
			return err
		}
	}
}

func (c Config) preflightStateDir(ch *checker) {
	if c.Node.Name != "" {
		return // the state directory holds nothing else yet
	}
	dir, err := c.StateDir()
	if err != nil {
		ch.errs = append(ch.errs, err.(*Error))
		return
	}
	if err := canCreateIn(dir); err != nil {
		ch.add("node.state_dir", "%s: cannot keep the node's id there: %v", quote(dir), err)
		return
	}
	if _, err := ReadNodeID(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		ch.add("node.state_dir", "%s: %v", quote(dir), err)
	}
}

func (c Config) preflightMulticast(ch *checker) {
	m := c.Faces.Multicast
	if !m.Enabled || len(m.Interfaces) == 0 {
		return
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		ch.add("faces.multicast.interfaces", "listing this machine's interfaces: %v", err)
		return
	}
	var names []string
	for _, ifi := range ifaces {
		names = append(names, ifi.Name)
	}
	for i, name := range m.Interfaces {
		key := "faces.multicast.interfaces[" + strconv.Itoa(i) + "]"
		k := slices.IndexFunc(ifaces, func(ifi net.Interface) bool { return ifi.Name == name })
		if k < 0 {
			ch.add(key, "%s: no such interface on this machine (it has %s)", quote(name), strings.Join(names, ", "))
			continue
		}
		// The same rules as the forwarder's multicast faces.
		ifi := ifaces[k]
		switch {
		case ifi.Flags&net.FlagLoopback != 0:
			ch.add(key, "%s: a loopback interface carries no multicast to other hosts", quote(name))
		case ifi.Flags&net.FlagMulticast == 0:
			ch.add(key, "%s: not multicast-capable", quote(name))
		case ifi.Flags&net.FlagUp == 0:
			ch.add(key, "%s: interface is down", quote(name))
		case !hasIPv4(ifi):
			ch.add(key, "%s: interface has no IPv4 address", quote(name))
		}
	}
}

func hasIPv4(ifi net.Interface) bool {
	addrs, err := ifi.Addrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return true
		}
	}
	return false
}

func (c Config) preflightTLS(ch *checker) {
	w := c.Faces.WebSocket
	if !w.Enabled || w.TLSCert == "" || w.TLSKey == "" {
		return
	}
	cert, errC := os.ReadFile(w.TLSCert)
	if errC != nil {
		ch.add("faces.websocket.tls_cert", "%v", errC)
	}
	key, errK := os.ReadFile(w.TLSKey)
	if errK != nil {
		ch.add("faces.websocket.tls_key", "%v", errK)
	}
	if errC != nil || errK != nil {
		return
	}
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		ch.add("faces.websocket.tls_cert", "%s with tls_key %s: %v", quote(w.TLSCert), quote(w.TLSKey), err)
	}
}

// preflightListen checks that every specific listen address is one of this
// machine's: binding another fails (EADDRNOTAVAIL).
func (c Config) preflightListen(ch *checker) {
	var local []netip.Addr
	loaded := false
	check := func(key, s string) {
		ap, err := parseListen(s)
		if err != nil {
			return // Validate's job
		}
		a := ap.Addr().Unmap().WithZone("")
		if a.IsUnspecified() || a.IsLoopback() {
			return
		}
		if !loaded {
			loaded = true
			addrs, err := net.InterfaceAddrs()
			if err != nil {
				return
			}
			for _, ad := range addrs {
				if ipn, ok := ad.(*net.IPNet); ok {
					if ip, ok := netip.AddrFromSlice(ipn.IP); ok {
						local = append(local, ip.Unmap())
					}
				}
			}
		}
		if !slices.Contains(local, a) {
			ch.add(key, "%s: no interface on this machine has the address %s", quote(s), a)
		}
	}
	if c.Faces.UDP.Enabled {
		for i, s := range c.Faces.UDP.Listen {
			check("faces.udp.listen["+strconv.Itoa(i)+"]", s)
		}
	}
	if c.Faces.TCP.Enabled {
		for i, s := range c.Faces.TCP.Listen {
			check("faces.tcp.listen["+strconv.Itoa(i)+"]", s)
		}
	}
	if c.Faces.WebSocket.Enabled {
		check("faces.websocket.listen", c.Faces.WebSocket.Listen)
	}
	if c.Metrics.Enabled {
		check("metrics.listen", c.Metrics.Listen)
	}
}

// InFile returns err with file set as the File of every *Error in it that
// has none: Preflight's errors, for a configuration read from file.
func InFile(err error, file string) error {
	var walk func(error)
	walk = func(e error) {
		if ce, ok := e.(*Error); ok && ce.File == "" {
			ce.File = file
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return err
}
