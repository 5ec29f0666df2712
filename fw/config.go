package fw

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// Config is what the forwarder needs. The zero value is not usable: start
// from DefaultConfig. Every field is checked by Validate before anything
// reaches ndnd, so no value here can reach one of ndnd's exit or panic paths.
type Config struct {
	// Threads is the number of forwarding threads, 1 to 32.
	Threads int
	// QueueSize is each forwarding thread's input queue; a full queue drops.
	QueueSize int
	// FaceQueueSize is each face's send queue; a full queue drops.
	FaceQueueSize int
	// UDPMTU is the MTU of UDP faces (unicast and multicast), 576 to 8800.
	UDPMTU int

	// ContentStore configures ndnd's Content Store. ndnd v1.5.3 never frees
	// the name-tree node of an evicted entry, so with Admit on and unique
	// names (as SVS publications are) memory grows without bound; Admit is
	// off by default (docs/decisions.md).
	ContentStore ContentStoreConfig

	Unix      UnixConfig
	UDP       UDPConfig
	Multicast MulticastConfig
	TCP       TCPConfig
	WebSocket WebSocketConfig

	// Limits bound what network peers and local applications can make the
	// forwarder hold: faces, connections, reassembly memory.
	Limits Limits

	// Mgmt bounds and guards NFD management (/localhost/nfd and
	// /localhop/nfd), which ndnd's management thread answers.
	Mgmt MgmtConfig

	// Logger receives this package's own logs. nil discards them.
	Logger *slog.Logger
	// ForwarderLogLevel is the level of ndnd's internal logs, which go to
	// ForwarderLogWriter as text, or JSON if ForwarderLogJSON.
	ForwarderLogLevel  slog.Level
	ForwarderLogWriter io.Writer
	ForwarderLogJSON   bool
}

// ContentStoreConfig configures ndnd's Content Store.
type ContentStoreConfig struct {
	Admit    bool
	Serve    bool
	Capacity int // entries per forwarding thread, 0 to 65535
}

// UnixConfig is the unix stream socket local NDN applications connect to.
type UnixConfig struct {
	Enabled bool
	Path    string
	Mode    os.FileMode // permissions of the socket file, e.g. 0660
	// Group is the group id the socket file is given when ChangeGroup is
	// set, so that the members of that group (mode 0660) may connect; else
	// the file keeps the group it is created with (the process's).
	Group       int
	ChangeGroup bool
}

// UDPConfig is the set of UDP unicast listeners. A datagram from a new
// remote endpoint creates an on-demand face that expires after Lifetime idle.
type UDPConfig struct {
	Enabled  bool
	Listen   []netip.AddrPort
	Lifetime time.Duration
}

// MulticastConfig is UDP multicast: one face per IPv4 address of each up,
// non-loopback interface (or of the named Interfaces), joined to Group.
type MulticastConfig struct {
	Enabled    bool
	Group      netip.AddrPort
	Interfaces []string
}

// TCPConfig is the set of TCP listeners.
type TCPConfig struct {
	Enabled bool
	Listen  []netip.AddrPort
}

// WebSocketConfig is the WebSocket listener, with TLS when both files are set.
type WebSocketConfig struct {
	Enabled bool
	Listen  netip.AddrPort
	TLSCert string
	TLSKey  string
}

// MgmtConfig guards NFD management. The node answers some commands itself
// instead of ndnd: see fw/mgmt_guard.go.
type MgmtConfig struct {
	// AllowLocalhopRegister accepts rib/register and rib/unregister under
	// /localhop/nfd from local-scope faces (unix socket, TCP from loopback,
	// in-process), as if sent to /localhost/nfd: ndnd's std clients use
	// /localhop/nfd on every transport but unix. From non-local faces these
	// commands are refused with 403. NFD's equivalent is the rib section's
	// localhop_security (without it NFD does not answer /localhop/nfd/rib at
	// all); this node has no trust schema for commands, so it never accepts
	// them from non-local faces.
	AllowLocalhopRegister bool
	// AllowFaceCreate lets faces/create make the node's own faces (udp4,
	// udp6, tcp4, tcp6, for schemes whose listener is enabled). Off, or for
	// another scheme, faces/create is refused with 406.
	AllowFaceCreate bool
	// RequestsPerSecond and Burst bound management requests, all of them
	// together, with a token bucket: requests over the bound are dropped
	// (no answer) and counted (Counters.MgmtDropped), so that a flood cannot
	// hold ndnd's management thread or grow its queues and tables.
	RequestsPerSecond int
	Burst             int
}

// DefaultConfig returns a configuration with every listener off: a
// forwarder reachable only through in-process faces. Callers turn on what
// they need.
func DefaultConfig() Config {
	return Config{
		Threads:       2,
		QueueSize:     1024,
		FaceQueueSize: 1024,
		UDPMTU:        1420,
		ContentStore:  ContentStoreConfig{Admit: false, Serve: true, Capacity: 1024},
		UDP:           UDPConfig{Lifetime: 10 * time.Minute},
		Multicast: MulticastConfig{
			Group: netip.MustParseAddrPort("224.0.23.170:56363"),
		},
		Unix:   UnixConfig{Mode: 0o660},
		Limits: DefaultLimits(),
		Mgmt: MgmtConfig{
			AllowLocalhopRegister: true,
			AllowFaceCreate:       true,
			RequestsPerSecond:     200,
			Burst:                 400,
		},
		ForwarderLogLevel: slog.LevelWarn,
	}
}

// Errors returned by this package.
var (
	ErrConfig        = errors.New("fw: invalid config")
	ErrOnePerProcess = errors.New("fw: only one forwarder can run per process")
	ErrNotRunning    = errors.New("fw: forwarder not running")
	ErrClosed        = errors.New("fw: face closed")
)

// maxThreads is ndnd's fw.MaxFwThreads.
const maxThreads = 32

// Validate checks every field. It returns all problems at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...)))
	}
	if c.Threads < 1 || c.Threads > maxThreads {
		bad("Threads", "%d not in [1, %d]", c.Threads, maxThreads)
	}
	if c.QueueSize < 1 || c.QueueSize > 1<<20 {
		bad("QueueSize", "%d not in [1, %d]", c.QueueSize, 1<<20)
	}
	if c.FaceQueueSize < 1 || c.FaceQueueSize > 1<<20 {
		bad("FaceQueueSize", "%d not in [1, %d]", c.FaceQueueSize, 1<<20)
	}
	if c.UDPMTU < 576 || c.UDPMTU > 8800 {
		bad("UDPMTU", "%d not in [576, 8800]", c.UDPMTU)
	}
	if c.ContentStore.Capacity < 0 || c.ContentStore.Capacity > 65535 {
		bad("ContentStore.Capacity", "%d not in [0, 65535]", c.ContentStore.Capacity)
	}
	if c.Unix.Enabled {
		if c.Unix.Path == "" || !filepath.IsAbs(c.Unix.Path) {
			bad("Unix.Path", "%q is not an absolute path", c.Unix.Path)
		}
		if len(c.Unix.Path) > 107 {
			bad("Unix.Path", "%q is longer than a unix socket path can be (107 bytes)", c.Unix.Path)
		}
		if c.Unix.Mode&^0o777 != 0 || c.Unix.Mode&0o002 != 0 || c.Unix.Mode&0o600 != 0o600 {
			bad("Unix.Mode", "%#o must be owner read-write and must not let others write", c.Unix.Mode)
		}
		if c.Unix.ChangeGroup && c.Unix.Group < 0 {
			bad("Unix.Group", "%d is not a group id", c.Unix.Group)
		}
	}
	if c.UDP.Enabled {
		if len(c.UDP.Listen) == 0 {
			bad("UDP.Listen", "enabled with no address")
		}
		for i, a := range c.UDP.Listen {
			if !a.IsValid() || a.Port() == 0 {
				bad(fmt.Sprintf("UDP.Listen[%d]", i), "%q needs an address and a non-zero port", a)
			}
		}
		if c.UDP.Lifetime < time.Second {
			bad("UDP.Lifetime", "%v is shorter than 1s", c.UDP.Lifetime)
		}
	}
	if c.Multicast.Enabled {
		g := c.Multicast.Group
		if !g.IsValid() || !g.Addr().Is4() || !g.Addr().IsMulticast() || g.Port() == 0 {
			bad("Multicast.Group", "%q is not an IPv4 multicast address with a port", g)
		}
	}
	if c.TCP.Enabled {
		if len(c.TCP.Listen) == 0 {
			bad("TCP.Listen", "enabled with no address")
		}
		for i, a := range c.TCP.Listen {
			if !a.IsValid() || a.Port() == 0 {
				bad(fmt.Sprintf("TCP.Listen[%d]", i), "%q needs an address and a non-zero port", a)
			}
		}
	}
	if c.WebSocket.Enabled {
		if !c.WebSocket.Listen.IsValid() || c.WebSocket.Listen.Port() == 0 {
			bad("WebSocket.Listen", "%q needs an address and a non-zero port", c.WebSocket.Listen)
		}
		if (c.WebSocket.TLSCert == "") != (c.WebSocket.TLSKey == "") {
			bad("WebSocket", "TLS needs both a certificate and a key")
		}
	}
	if c.Limits.OnDemandFaces < 0 || c.Limits.OnDemandFaces > 1<<16 {
		bad("Limits.OnDemandFaces", "%d not in [0, %d]", c.Limits.OnDemandFaces, 1<<16)
	}
	if c.Limits.StreamFaces < 1 || c.Limits.StreamFaces > 1<<16 {
		bad("Limits.StreamFaces", "%d not in [1, %d]", c.Limits.StreamFaces, 1<<16)
	}
	if c.Limits.ReassemblyBytes < link.MaxPacketSize || c.Limits.ReassemblyBytes > 1<<30 {
		bad("Limits.ReassemblyBytes", "%d not in [%d, %d]", c.Limits.ReassemblyBytes, link.MaxPacketSize, 1<<30)
	}
	if r := c.Limits.Reassembly; r.MaxFragments < 2 || r.MaxFragments > 1024 || r.MaxPending < 1 || r.MaxPending > 1024 ||
		r.Timeout < 10*time.Millisecond || r.Timeout > time.Minute {
		bad("Limits.Reassembly", "%+v: fragments in [2, 1024], pending in [1, 1024], timeout in [10ms, 1m]", r)
	}
	if c.Mgmt.RequestsPerSecond < 1 || c.Mgmt.RequestsPerSecond > 1_000_000 {
		bad("Mgmt.RequestsPerSecond", "%d not in [1, 1000000]", c.Mgmt.RequestsPerSecond)
	}
	if c.Mgmt.Burst < 1 || c.Mgmt.Burst > 1_000_000 {
		bad("Mgmt.Burst", "%d not in [1, 1000000]", c.Mgmt.Burst)
	}
	return errors.Join(errs...)
}
