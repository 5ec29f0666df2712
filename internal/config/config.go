package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// Limits enforced by Validate.
const (
	// MaxThreads is the most forwarding threads ndnd v1.5.3 supports
	// (fw.MaxFwThreads).
	MaxThreads = 32
	// MaxQueueSize bounds forwarder.queue_size and face_queue_size.
	MaxQueueSize = 1 << 20
	// MaxContentStoreCapacity bounds forwarder.content_store.capacity: ndnd
	// v1.5.3 holds it in a uint16.
	MaxContentStoreCapacity = 65535
	// MinUDPMTU is the smallest datagram every IPv4 host must accept.
	MinUDPMTU = 576
	// MaxUDPMTU is ndnd's largest NDN packet (defn.MaxNDNPacketSize).
	MaxUDPMTU = 8800
	// MinUDPLifetime and MaxUDPLifetime bound faces.udp.lifetime.
	MinUDPLifetime = time.Second
	MaxUDPLifetime = 24 * time.Hour
	// MaxFaces bounds faces.limits.on_demand_faces and stream_faces.
	MaxFaces = 1 << 16
	// MinReassemblyBytes and MaxReassemblyBytes bound
	// faces.limits.reassembly_bytes: at least one whole packet.
	MinReassemblyBytes = MaxUDPMTU
	MaxReassemblyBytes = 1 << 30
	// MinReassemblyTimeout and MaxReassemblyTimeout bound
	// faces.limits.reassembly_timeout.
	MinReassemblyTimeout = 10 * time.Millisecond
	MaxReassemblyTimeout = time.Minute
	// MinSyncInterestSize and MaxSyncInterestSize bound
	// sync.max_sync_interest_size (ndnd and NFD drop larger packets).
	MinSyncInterestSize = 512
	MaxSyncInterestSize = 8800
	// MaxMembers bounds sync.max_members.
	MaxMembers = 1 << 20
	// MaxSupersededGrace bounds sync.superseded_grace.
	MaxSupersededGrace = 24 * time.Hour
	// MaxMgmtRate bounds management.requests_per_second and burst.
	MaxMgmtRate = 1_000_000
	// MaxUnixPathLen is the longest socket path Linux accepts: sun_path is
	// 108 bytes including the terminating NUL.
	MaxUnixPathLen = 107
)

// Strategy short names accepted in [[strategy]] name. Versions are resolved
// by the strategy package.
const (
	StrategyMulticast = "multicast"
	StrategyBestRoute = "best-route"
)

// Unix socket locations used when faces.unix.path is empty; see
// Config.UnixSocketPath.
const (
	RootUnixSocketPath = "/run/nfd/nfd.sock"
	socketDirName      = "ndnsvs-node"
	socketFileName     = "nfd.sock"
)

// Config is the whole configuration of one node. The zero value is not
// useful: start from Default, Parse or Load. See config.toml.example for the
// meaning, default and trade-off of every field.
type Config struct {
	Node      Node      `toml:"node"`
	Log       Log       `toml:"log"`
	Forwarder Forwarder `toml:"forwarder"`
	Faces     Faces     `toml:"faces"`
	// Management guards NFD management (/localhost/nfd, /localhop/nfd).
	Management Management `toml:"management"`
	// Sync bounds the state vector of every group's member.
	Sync Sync `toml:"sync"`
	// Metrics is the HTTP listener for Prometheus and health checks.
	Metrics Metrics `toml:"metrics"`
	// Health is the heartbeat sync beside every group.
	Health Health `toml:"health"`
	// Security is how the node signs and what it accepts.
	Security Security `toml:"security"`
	// Groups are the sync groups this node serves; each prefix gets the
	// multicast strategy. TOML: [[group]].
	Groups []Group `toml:"group"`
	// Strategies are extra strategy choices. TOML: [[strategy]].
	Strategies []Strategy `toml:"strategy"`
	// Neighbors are static neighbours: a permanent face each and routes.
	// TOML: [[neighbor]].
	Neighbors []Neighbor `toml:"neighbor"`
}

// Log is the [log] table.
// DefaultGCPercent is node.gc_percent's default: Go's own. Lower values
// trade throughput during a burst of traffic for a lower peak (measured
// with a million names through the unix socket: about 75 MB resident at
// the peak at 100, 45-55 MB at 50, for about a quarter fewer exchanges a
// second); what stays after the burst hardly changes (21 against 20 MB).
const DefaultGCPercent = 100

// Node is this node's identity in the network, and its process.
type Node struct {
	// Name is the node's NDN name: its member name in sync groups and the
	// prefix of its built-in ping responder. Empty means
	// /ndnsvs-node/<host name>/<id>, with an id made once and kept in
	// StateDir (see DefaultNodeName).
	Name string `toml:"name"`
	// StateDir is the node's state directory: what it keeps across
	// restarts (today the id of its default name). "" picks one, see
	// Config.StateDir.
	StateDir string `toml:"state_dir"`
	// Ping answers ndnping (ndnd ping <name>) on <name>/ping, so anyone can
	// check that the node is up and reachable.
	Ping bool `toml:"ping"`
	// GCPercent is the Go garbage collector's target (GOGC) for the node
	// process: the heap may grow this many percent over the live data
	// before a collection. Lower keeps less memory after a burst of
	// traffic, at some CPU during it. The GOGC environment variable, when
	// set, wins.
	GCPercent int `toml:"gc_percent"`
}

type Log struct {
	// Level is this node's own log level: debug, info, warn or error.
	Level string `toml:"level"`
	// Format is text or json.
	Format string `toml:"format"`
	// ForwarderLevel is the level of ndnd's forwarder internals.
	ForwarderLevel string `toml:"forwarder_level"`
}

// Forwarder is the [forwarder] table.
type Forwarder struct {
	// Threads is the number of forwarding threads; 0 means GOMAXPROCS
	// (capped at MaxThreads). See ThreadCount.
	Threads int `toml:"threads"`
	// QueueSize is the input queue of each forwarding thread.
	QueueSize int `toml:"queue_size"`
	// FaceQueueSize is the send queue of each face; a full queue drops.
	FaceQueueSize int `toml:"face_queue_size"`
	// UDPMTU is the MTU of UDP faces; larger packets are fragmented.
	UDPMTU       int          `toml:"udp_mtu"`
	ContentStore ContentStore `toml:"content_store"`
}

// ContentStore is the [forwarder.content_store] table.
type ContentStore struct {
	// Admit lets the content store cache Data. Off by default: see the
	// package documentation.
	Admit bool `toml:"admit"`
	// Serve lets cached Data answer Interests.
	Serve bool `toml:"serve"`
	// Capacity is the number of entries per forwarding thread.
	Capacity int `toml:"capacity"`
}

// Faces is the [faces] table.
type Faces struct {
	Unix      UnixFaces      `toml:"unix"`
	UDP       UDPFaces       `toml:"udp"`
	Multicast MulticastFaces `toml:"multicast"`
	TCP       TCPFaces       `toml:"tcp"`
	WebSocket WebSocketFaces `toml:"websocket"`
	Limits    FaceLimits     `toml:"limits"`
}

// Sync is the [sync] table: the bounds of each group member's state vector.
type Sync struct {
	// MaxSyncInterestSize bounds every Sync Interest, in bytes; a vector
	// that does not fit is sent in part (own entry, newest entries first),
	// counted and warned about. Every member of a group should use the
	// same bound.
	MaxSyncInterestSize int `toml:"max_sync_interest_size"`
	// MaxMembers bounds the member names a vector holds; new names over it
	// evict names never heard to change, or are refused.
	MaxMembers int `toml:"max_members"`
	// SupersededGrace is how long an old incarnation of a member that
	// restarted stays in the vector after it last changed.
	SupersededGrace Duration `toml:"superseded_grace"`
}

// Management is the [management] table: what NFD management commands the
// node accepts, and how many.
type Management struct {
	// AllowLocalhopRegister accepts rib/register and rib/unregister under
	// /localhop/nfd from local faces (the unix socket, TCP or WebSocket from
	// loopback), as ndnd's clients send them on every transport but unix.
	// NFD's equivalent is the rib section's localhop_security. Never from
	// other machines.
	AllowLocalhopRegister bool `toml:"allow_localhop_register"`
	// AllowFaceCreate lets faces/create make faces (udp4, udp6, tcp4, tcp6,
	// for schemes whose listener is enabled); off, it is refused (406).
	AllowFaceCreate bool `toml:"allow_face_create"`
	// RequestsPerSecond and Burst bound all management requests together;
	// requests over the bound are dropped and counted.
	RequestsPerSecond int `toml:"requests_per_second"`
	Burst             int `toml:"burst"`
}

// FaceLimits is the [faces.limits] table: what peers on the network and
// local applications can make the node hold. Going over a bound drops and
// counts; nothing grows.
type FaceLimits struct {
	// OnDemandFaces is the most UDP faces made for senders that were not
	// configured (each new address and port makes one).
	OnDemandFaces int `toml:"on_demand_faces"`
	// StreamFaces is the most unix, TCP and WebSocket connections at once.
	StreamFaces int `toml:"stream_faces"`
	// ReassemblyBytes is the memory all faces may hold in fragments of
	// packets not yet whole.
	ReassemblyBytes int64 `toml:"reassembly_bytes"`
	// ReassemblyTimeout is how long a partial packet waits for the rest.
	ReassemblyTimeout Duration `toml:"reassembly_timeout"`
}

// UnixFaces is the [faces.unix] table: the local socket applications use.
type UnixFaces struct {
	Enabled bool `toml:"enabled"`
	// Path of the socket; "" picks one, see Config.UnixSocketPath.
	Path string `toml:"path"`
	// Mode is the socket's permission bits as an octal string, "0600" to
	// "0777" without write for others. See Config.FileMode.
	Mode string `toml:"mode"`
	// Group is the group the socket is given: a group name or a numeric
	// id. "" leaves the process's group. See Config.UnixGroupID.
	Group string `toml:"group"`
}

// UDPFaces is the [faces.udp] table: unicast UDP listeners.
type UDPFaces struct {
	Enabled bool `toml:"enabled"`
	// Listen holds host:port addresses; port 0 picks a free port.
	Listen []string `toml:"listen"`
	// Lifetime is how long an on-demand UDP face lives without traffic.
	Lifetime Duration `toml:"lifetime"`
}

// MulticastFaces is the [faces.multicast] table: IPv4 UDP multicast faces.
type MulticastFaces struct {
	Enabled bool `toml:"enabled"`
	// Group is the IPv4 multicast group and port, host:port.
	Group string `toml:"group"`
	// Interfaces names the interfaces to join on; empty means every up,
	// non-loopback interface with an IPv4 address.
	Interfaces []string `toml:"interfaces"`
}

// TCPFaces is the [faces.tcp] table: TCP listeners.
type TCPFaces struct {
	Enabled bool `toml:"enabled"`
	// Listen holds host:port addresses; port 0 picks a free port.
	Listen []string `toml:"listen"`
}

// WebSocketFaces is the [faces.websocket] table.
type WebSocketFaces struct {
	Enabled bool `toml:"enabled"`
	// Listen is one host:port address; port 0 picks a free port.
	Listen string `toml:"listen"`
	// TLSCert and TLSKey are PEM file paths: both set for wss://, both
	// empty for ws://.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
}

// Group is one [[group]] entry: a sync group this node serves.
type Group struct {
	// Prefix is the group's NDN name prefix; never "/" or empty.
	Prefix string `toml:"prefix"`
	// Cache makes the node's own member of the group fetch every
	// publication of the group's shared layer, keep it in the node's
	// state directory (bounded by retention) and serve it to members that
	// ask again, for example after its producer left. Off, the node's
	// member only syncs, and applications fetch from each other.
	Cache bool `toml:"cache"`
}

// Strategy is one [[strategy]] entry: a strategy choice for a prefix.
type Strategy struct {
	// Prefix is an NDN name; "/" sets the default strategy.
	Prefix string `toml:"prefix"`
	// Name is a strategy short name: StrategyMulticast or
	// StrategyBestRoute.
	Name string `toml:"name"`
}

// Neighbor is one [[neighbor]] entry: a static neighbour.
type Neighbor struct {
	// URI is udp4://host:port, udp6://[ip]:port or host:port, tcp4://...
	// or tcp6://..., host a literal IP address or a DNS name.
	URI string `toml:"uri"`
	// Prefixes are routed to the neighbour; empty means every group
	// prefix.
	Prefixes []string `toml:"prefixes"`
	// ResolveEvery is how often a DNS name in URI is resolved again
	// (also when the face fails to send); 0 means 30 s.
	ResolveEvery Duration `toml:"resolve_every"`
}

// Default returns the default configuration, the one config.toml.example
// spells out. Each call returns fresh slices, so the result may be changed
// freely.
func Default() Config {
	return Config{
		Node: Node{Name: "", StateDir: "", Ping: true, GCPercent: DefaultGCPercent},
		Log: Log{
			Level:          "info",
			Format:         "text",
			ForwarderLevel: "warn",
		},
		Forwarder: Forwarder{
			Threads:       0,
			QueueSize:     1024,
			FaceQueueSize: 1024,
			UDPMTU:        1420,
			ContentStore: ContentStore{
				Admit:    false,
				Serve:    true,
				Capacity: 1024,
			},
		},
		Faces: Faces{
			Unix: UnixFaces{
				Enabled: true,
				Path:    "",
				Mode:    "0660",
				Group:   "",
			},
			UDP: UDPFaces{
				Enabled:  true,
				Listen:   []string{"0.0.0.0:6363"},
				Lifetime: Duration{10 * time.Minute},
			},
			Multicast: MulticastFaces{
				Enabled:    true,
				Group:      "224.0.23.170:56363",
				Interfaces: []string{},
			},
			TCP: TCPFaces{
				Enabled: false,
				Listen:  []string{"0.0.0.0:6363"},
			},
			WebSocket: WebSocketFaces{
				Enabled: false,
				Listen:  "127.0.0.1:9696",
			},
			Limits: FaceLimits{
				OnDemandFaces:     256,
				StreamFaces:       256,
				ReassemblyBytes:   4 << 20,
				ReassemblyTimeout: Duration{500 * time.Millisecond},
			},
		},
		Sync: Sync{
			MaxSyncInterestSize: 8800,
			MaxMembers:          1024,
			SupersededGrace:     Duration{time.Minute},
		},
		Management: Management{
			AllowLocalhopRegister: true,
			AllowFaceCreate:       true,
			RequestsPerSecond:     200,
			Burst:                 400,
		},
		Metrics: defaultMetrics(),
		Health:  defaultHealth(),
		// No security: the example spells the keys out with empty lists.
		Security: Security{Keys: []string{}, Anchors: []string{}, CertPrefixes: []string{}},
		Groups:   []Group{{Prefix: "/ndn/svs"}},
	}
}

// ThreadCount returns the number of forwarding threads to start: Threads
// when it is set, else GOMAXPROCS capped at MaxThreads.
func (f Forwarder) ThreadCount() int {
	if f.Threads > 0 {
		return min(f.Threads, MaxThreads)
	}
	return max(1, min(runtime.GOMAXPROCS(0), MaxThreads))
}

// UnixSocketPath returns the path of the unix socket: faces.unix.path when
// set; else /run/nfd/nfd.sock when running as root (where NFD tools look);
// else $XDG_RUNTIME_DIR/ndnsvs-node/nfd.sock when XDG_RUNTIME_DIR is an
// absolute path; else /tmp/ndnsvs-node-<uid>/nfd.sock. It only computes the
// path: creating the directory is the caller's job.
func (c Config) UnixSocketPath() string {
	return unixSocketPath(c.Faces.Unix.Path, os.Geteuid(), os.Getenv("XDG_RUNTIME_DIR"))
}

func unixSocketPath(path string, euid int, runtimeDir string) string {
	switch {
	case path != "":
		return path
	case euid == 0:
		return RootUnixSocketPath
	case runtimeDir != "" && filepath.IsAbs(runtimeDir):
		return filepath.Join(runtimeDir, socketDirName, socketFileName)
	default:
		return filepath.Join("/tmp", socketDirName+"-"+strconv.Itoa(euid), socketFileName)
	}
}

// FileMode returns faces.unix.mode as permission bits. A mode that does not
// pass Validate yields 0600, the most restrictive mode that still lets the
// owner connect.
func (c Config) FileMode() os.FileMode {
	m, err := parseMode(c.Faces.Unix.Mode)
	if err != nil {
		return 0o600
	}
	return m
}

// ClientTransport returns the NDN_CLIENT_TRANSPORT value that points ndnd's
// and python-ndn's clients (and NFD's tools) at the node's unix socket:
// unix://<path>, which is unix:/// and the absolute path.
func (c Config) ClientTransport() string {
	return "unix://" + c.UnixSocketPath()
}

// State directory locations used when node.state_dir is empty; see
// Config.StateDir.
const (
	RootStateDir = "/var/lib/ndnsvs-node"
	stateDirName = "ndnsvs-node"
)

// StateDir returns the node's state directory: node.state_dir when set;
// else /var/lib/ndnsvs-node when running as root; else
// $XDG_STATE_HOME/ndnsvs-node when XDG_STATE_HOME is an absolute path;
// else $HOME/.local/state/ndnsvs-node (the XDG base directory default). It
// returns an error, with the key node.state_dir, when none of these can be
// worked out (a user process without HOME). It only computes the path.
func (c Config) StateDir() (string, error) {
	return stateDir(c.Node.StateDir, os.Geteuid(), os.Getenv("XDG_STATE_HOME"), os.Getenv("HOME"))
}

func stateDir(dir string, euid int, stateHome, home string) (string, error) {
	switch {
	case dir != "":
		return dir, nil
	case euid == 0:
		return RootStateDir, nil
	case stateHome != "" && filepath.IsAbs(stateHome):
		return filepath.Join(stateHome, stateDirName), nil
	case home != "" && filepath.IsAbs(home):
		return filepath.Join(home, ".local", "state", stateDirName), nil
	}
	return "", &Error{Key: "node.state_dir", Reason: "no default for this user: neither XDG_STATE_HOME nor HOME is an absolute path; set node.state_dir"}
}

// DefaultNodeName returns the name a node without node.name takes:
// /ndnsvs-node/<host>/<id>. The host name keeps the name readable in logs
// and vectors; the id, made once per state directory, keeps it unique
// where several nodes share a host name (containers, network namespaces,
// cloned machines). An empty host becomes "localhost".
func DefaultNodeName(host, id string) string {
	if host == "" {
		host = "localhost"
	}
	return "/ndnsvs-node/" + escapeComponent(host) + "/" + escapeComponent(id)
}

// escapeComponent writes s as one NDN URI component.
func escapeComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}
