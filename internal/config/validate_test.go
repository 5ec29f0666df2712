package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// validateCase changes Default() and names the problem Validate must report,
// or none when key is "".
type validateCase struct {
	name   string
	mutate func(*Config)
	key    string
	reason string
}

func runValidateCases(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if tt.key == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			wantProblem(t, err, tt.key, tt.reason)
			if n := len(problemsOf(t, err)); n != 1 {
				t.Errorf("want 1 problem, got %d:\n%v", n, err)
			}
		})
	}
}

func TestValidateLog(t *testing.T) {
	var cases []validateCase
	for _, l := range []string{"debug", "info", "warn", "error"} {
		cases = append(cases,
			validateCase{"level " + l, func(c *Config) { c.Log.Level = l }, "", ""},
			validateCase{"forwarder_level " + l, func(c *Config) { c.Log.ForwarderLevel = l }, "", ""})
	}
	cases = append(cases, []validateCase{
		{"level trace", func(c *Config) { c.Log.Level = "trace" }, "log.level", `"trace": want one of debug, info, warn, error`},
		{"level upper case", func(c *Config) { c.Log.Level = "INFO" }, "log.level", "want one of"},
		{"level empty", func(c *Config) { c.Log.Level = "" }, "log.level", "want one of"},
		{"level warning", func(c *Config) { c.Log.Level = "warning" }, "log.level", "want one of"},
		{"forwarder_level fatal", func(c *Config) { c.Log.ForwarderLevel = "fatal" }, "log.forwarder_level", "want one of"},
		{"format json", func(c *Config) { c.Log.Format = "json" }, "", ""},
		{"format logfmt", func(c *Config) { c.Log.Format = "logfmt" }, "log.format", `"logfmt": want one of text, json`},
	}...)
	runValidateCases(t, cases)
}

func TestValidateForwarder(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"threads 0 means GOMAXPROCS", func(c *Config) { c.Forwarder.Threads = 0 }, "", ""},
		{"threads 32", func(c *Config) { c.Forwarder.Threads = 32 }, "", ""},
		{"threads 33", func(c *Config) { c.Forwarder.Threads = 33 }, "forwarder.threads", "33 out of range 0..32"},
		{"threads -1", func(c *Config) { c.Forwarder.Threads = -1 }, "forwarder.threads", "out of range"},
		{"queue_size 1", func(c *Config) { c.Forwarder.QueueSize = 1 }, "", ""},
		{"queue_size 1<<20", func(c *Config) { c.Forwarder.QueueSize = 1 << 20 }, "", ""},
		{"queue_size 0", func(c *Config) { c.Forwarder.QueueSize = 0 }, "forwarder.queue_size", "0 out of range 1..1048576"},
		{"queue_size 1<<20+1", func(c *Config) { c.Forwarder.QueueSize = 1<<20 + 1 }, "forwarder.queue_size", "out of range"},
		{"face_queue_size 0", func(c *Config) { c.Forwarder.FaceQueueSize = 0 }, "forwarder.face_queue_size", "out of range 1..1048576"},
		{"face_queue_size 1<<20+1", func(c *Config) { c.Forwarder.FaceQueueSize = 1<<20 + 1 }, "forwarder.face_queue_size", "out of range"},
		{"udp_mtu 576", func(c *Config) { c.Forwarder.UDPMTU = 576 }, "", ""},
		{"udp_mtu 8800", func(c *Config) { c.Forwarder.UDPMTU = 8800 }, "", ""},
		{"udp_mtu 575", func(c *Config) { c.Forwarder.UDPMTU = 575 }, "forwarder.udp_mtu", "out of range 576..8800"},
		{"udp_mtu 9000", func(c *Config) { c.Forwarder.UDPMTU = 9000 }, "forwarder.udp_mtu", "out of range"},
		{"capacity 0", func(c *Config) { c.Forwarder.ContentStore.Capacity = 0 }, "", ""},
		{"capacity 65535", func(c *Config) { c.Forwarder.ContentStore.Capacity = 65535 }, "", ""},
		{"capacity 65536", func(c *Config) { c.Forwarder.ContentStore.Capacity = 65536 }, "forwarder.content_store.capacity", "out of range 0..65535"},
		{"capacity -1", func(c *Config) { c.Forwarder.ContentStore.Capacity = -1 }, "forwarder.content_store.capacity", "out of range"},
		{"gc_percent 5", func(c *Config) { c.Node.GCPercent = 5 }, "node.gc_percent", "out of range 10..1000"},
		{"gc_percent 0", func(c *Config) { c.Node.GCPercent = 0 }, "node.gc_percent", "out of range"},
		{"admit on", func(c *Config) { c.Forwarder.ContentStore.Admit = true }, "", ""},
	})
}

func TestValidateUnix(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"path absolute", func(c *Config) { c.Faces.Unix.Path = "/run/ndn/nfd.sock" }, "", ""},
		{"path relative", func(c *Config) { c.Faces.Unix.Path = "nfd.sock" }, "faces.unix.path", "want an absolute path"},
		{"path too long", func(c *Config) { c.Faces.Unix.Path = "/" + strings.Repeat("a", 107) }, "faces.unix.path", "longer than 107 bytes"},
		{"path at limit", func(c *Config) { c.Faces.Unix.Path = "/" + strings.Repeat("a", 106) }, "", ""},
		{"path with $", func(c *Config) { c.Faces.Unix.Path = "/run/$USER/nfd.sock" }, "faces.unix.path", "must not contain '$'"},
		{"path is a directory", func(c *Config) { c.Faces.Unix.Path = "/run/nfd/" }, "faces.unix.path", "names a directory"},
		{"mode 0600", func(c *Config) { c.Faces.Unix.Mode = "0600" }, "", ""},
		{"mode 0777 lets others write", func(c *Config) { c.Faces.Unix.Mode = "0777" }, "faces.unix.mode", `"0777": must not let others write`},
		{"mode 0666 lets others write", func(c *Config) { c.Faces.Unix.Mode = "0666" }, "faces.unix.mode", "must not let others write"},
		{"mode 0664", func(c *Config) { c.Faces.Unix.Mode = "0664" }, "", ""},
		{"mode 0775", func(c *Config) { c.Faces.Unix.Mode = "0775" }, "", ""},
		{"mode 0500 denies owner write", func(c *Config) { c.Faces.Unix.Mode = "0500" }, "faces.unix.mode", "owner needs read and write"},
		{"mode 0060", func(c *Config) { c.Faces.Unix.Mode = "0060" }, "faces.unix.mode", "owner needs read and write"},
		{"mode without leading 0", func(c *Config) { c.Faces.Unix.Mode = "660" }, "faces.unix.mode", "four octal digits"},
		{"mode with 8", func(c *Config) { c.Faces.Unix.Mode = "0680" }, "faces.unix.mode", "four octal digits"},
		{"mode 0o660", func(c *Config) { c.Faces.Unix.Mode = "0o660" }, "faces.unix.mode", "four octal digits"},
		{"mode empty", func(c *Config) { c.Faces.Unix.Mode = "" }, "faces.unix.mode", "four octal digits"},
		{"mode checked even when disabled", func(c *Config) { c.Faces.Unix.Enabled = false; c.Faces.Unix.Mode = "0777" }, "faces.unix.mode", "others"},
	})
}

func TestValidateUDP(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"listen IPv6", func(c *Config) { c.Faces.UDP.Listen = []string{"[::]:6363"} }, "", ""},
		{"listen both families", func(c *Config) { c.Faces.UDP.Listen = []string{"0.0.0.0:6363", "[::]:6363"} }, "", ""},
		{"listen port 0", func(c *Config) { c.Faces.UDP.Listen = []string{"127.0.0.1:0", "127.0.0.1:0"} }, "", ""},
		{"listen port out of range", func(c *Config) { c.Faces.UDP.Listen = []string{"1.2.3.4:99999"} }, "faces.udp.listen[0]", `"1.2.3.4:99999": port out of range`},
		{"listen second bad", func(c *Config) { c.Faces.UDP.Listen = []string{"0.0.0.0:6363", "0.0.0.0:x"} }, "faces.udp.listen[1]", "port must be a decimal number"},
		{"listen host name", func(c *Config) { c.Faces.UDP.Listen = []string{"localhost:6363"} }, "faces.udp.listen[0]", "literal IP address"},
		{"listen no host", func(c *Config) { c.Faces.UDP.Listen = []string{":6363"} }, "faces.udp.listen[0]", "missing host"},
		{"listen no port", func(c *Config) { c.Faces.UDP.Listen = []string{"0.0.0.0"} }, "faces.udp.listen[0]", "want host:port"},
		{"listen empty port", func(c *Config) { c.Faces.UDP.Listen = []string{"0.0.0.0:"} }, "faces.udp.listen[0]", "missing port"},
		{"listen unbracketed IPv6", func(c *Config) { c.Faces.UDP.Listen = []string{"::1:6363"} }, "faces.udp.listen[0]", "must be in brackets"},
		{"listen bracketed IPv4", func(c *Config) { c.Faces.UDP.Listen = []string{"[1.2.3.4]:6363"} }, "faces.udp.listen[0]", "must not be in brackets"},
		{"listen multicast", func(c *Config) { c.Faces.UDP.Listen = []string{"224.0.23.170:6363"} }, "faces.udp.listen[0]", "must not be a multicast"},
		{"listen duplicate", func(c *Config) { c.Faces.UDP.Listen = []string{"0.0.0.0:6363", "0.0.0.0:6363"} }, "faces.udp.listen[1]", "duplicate of faces.udp.listen[0]"},
		{"listen empty while enabled", func(c *Config) { c.Faces.UDP.Listen = nil }, "faces.udp.listen", "list at least one address"},
		{"listen empty while disabled", func(c *Config) { c.Faces.UDP.Enabled = false; c.Faces.UDP.Listen = []string{} }, "", ""},
		{"lifetime 1s", func(c *Config) { c.Faces.UDP.Lifetime = Duration{time.Second} }, "", ""},
		{"lifetime 24h", func(c *Config) { c.Faces.UDP.Lifetime = Duration{24 * time.Hour} }, "", ""},
		{"lifetime 0", func(c *Config) { c.Faces.UDP.Lifetime = Duration{} }, "faces.udp.lifetime", `"0s" out of range 1s..24h`},
		{"lifetime 25h", func(c *Config) { c.Faces.UDP.Lifetime = Duration{25 * time.Hour} }, "faces.udp.lifetime", "out of range"},
		{"lifetime negative", func(c *Config) { c.Faces.UDP.Lifetime = Duration{-time.Minute} }, "faces.udp.lifetime", "out of range"},
	})
}

func TestValidateSync(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"interest size 1500", func(c *Config) { c.Sync.MaxSyncInterestSize = 1500 }, "", ""},
		{"interest size over a packet", func(c *Config) { c.Sync.MaxSyncInterestSize = 9000 }, "sync.max_sync_interest_size", "out of range"},
		{"no members", func(c *Config) { c.Sync.MaxMembers = 0 }, "sync.max_members", "out of range"},
		{"grace 0", func(c *Config) { c.Sync.SupersededGrace = Duration{} }, "sync.superseded_grace", "out of range"},
	})
}

func TestValidateFaceLimits(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"no on-demand faces is fine", func(c *Config) { c.Faces.Limits.OnDemandFaces = 0 }, "", ""},
		{"negative on-demand faces", func(c *Config) { c.Faces.Limits.OnDemandFaces = -1 }, "faces.limits.on_demand_faces", "out of range"},
		{"no stream faces", func(c *Config) { c.Faces.Limits.StreamFaces = 0 }, "faces.limits.stream_faces", "out of range"},
		{"reassembly under a packet", func(c *Config) { c.Faces.Limits.ReassemblyBytes = 8000 }, "faces.limits.reassembly_bytes", "one whole packet"},
		{"reassembly timeout 0", func(c *Config) { c.Faces.Limits.ReassemblyTimeout = Duration{} }, "faces.limits.reassembly_timeout", "out of range"},
	})
}

func TestValidateMulticast(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"group 239.x", func(c *Config) { c.Faces.Multicast.Group = "239.255.0.1:56363" }, "", ""},
		{"group unicast", func(c *Config) { c.Faces.Multicast.Group = "192.0.2.1:56363" }, "faces.multicast.group", "not an IPv4 multicast address"},
		{"group IPv6 multicast", func(c *Config) { c.Faces.Multicast.Group = "[ff02::114]:56363" }, "faces.multicast.group", "not an IPv4 multicast address"},
		{"group port 0", func(c *Config) { c.Faces.Multicast.Group = "224.0.23.170:0" }, "faces.multicast.group", "port 0 is not allowed here"},
		{"group without port", func(c *Config) { c.Faces.Multicast.Group = "224.0.23.170" }, "faces.multicast.group", "want host:port"},
		{"group empty", func(c *Config) { c.Faces.Multicast.Group = "" }, "faces.multicast.group", "empty address"},
		{"interfaces", func(c *Config) { c.Faces.Multicast.Interfaces = []string{"eth0", "wlp2s0", "br-1a2b3c4d5e6f"} }, "", ""},
		{"interface empty", func(c *Config) { c.Faces.Multicast.Interfaces = []string{"eth0", ""} }, "faces.multicast.interfaces[1]", "empty interface name"},
		{"interface too long", func(c *Config) { c.Faces.Multicast.Interfaces = []string{"a234567890123456"} }, "faces.multicast.interfaces[0]", "longer than 15 bytes"},
		{"interface with slash", func(c *Config) { c.Faces.Multicast.Interfaces = []string{"eth/0"} }, "faces.multicast.interfaces[0]", "no '/'"},
		{"interface alias", func(c *Config) { c.Faces.Multicast.Interfaces = []string{"eth0:1"} }, "faces.multicast.interfaces[0]", "no '/', ':'"},
		{"interface dot", func(c *Config) { c.Faces.Multicast.Interfaces = []string{".."} }, "faces.multicast.interfaces[0]", "not an interface name"},
		{"interface duplicate", func(c *Config) { c.Faces.Multicast.Interfaces = []string{"eth0", "eth0"} }, "faces.multicast.interfaces[1]", "duplicate of faces.multicast.interfaces[0]"},
	})
}

func TestValidateTCPAndWebSocket(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"tcp on", func(c *Config) { c.Faces.TCP.Enabled = true }, "", ""},
		{"tcp listen bad even when off", func(c *Config) { c.Faces.TCP.Listen = []string{"0.0.0.0:65536"} }, "faces.tcp.listen[0]", "port out of range"},
		{"tcp on without listen", func(c *Config) { c.Faces.TCP.Enabled = true; c.Faces.TCP.Listen = nil }, "faces.tcp.listen", "list at least one address"},
		{"tcp duplicate", func(c *Config) { c.Faces.TCP.Listen = []string{"[::1]:6363", "[0:0::1]:6363"} }, "faces.tcp.listen[1]", "duplicate of faces.tcp.listen[0]"},
		{"websocket on", func(c *Config) { c.Faces.WebSocket.Enabled = true }, "", ""},
		{"websocket port 0", func(c *Config) { c.Faces.WebSocket.Listen = "127.0.0.1:0" }, "", ""},
		{"websocket listen host name", func(c *Config) { c.Faces.WebSocket.Listen = "example.com:443" }, "faces.websocket.listen", "literal IP address"},
		{"websocket listen empty", func(c *Config) { c.Faces.WebSocket.Listen = "" }, "faces.websocket.listen", "empty address"},
		{"websocket tls both", func(c *Config) { c.Faces.WebSocket.TLSCert, c.Faces.WebSocket.TLSKey = "/c.pem", "/k.pem" }, "", ""},
		{"health interval too short", func(c *Config) { c.Health.Interval = Duration{time.Millisecond} }, "health.interval", "out of range"},
		{"health expire 1", func(c *Config) { c.Health.Expire = 1 }, "health.expire", "out of range 2..100"},
		{"metrics listen host name", func(c *Config) { c.Metrics.Listen = "localhost:9363" }, "metrics.listen", "literal IP address"},
		{"metrics listen empty while enabled", func(c *Config) { c.Metrics.Listen = "" }, "metrics.listen", "metrics.enabled is true"},
		{"metrics listen multicast", func(c *Config) { c.Metrics.Listen = "224.0.0.1:9363" }, "metrics.listen", "multicast"},
		{"websocket tls cert only", func(c *Config) { c.Faces.WebSocket.TLSCert = "/c.pem" }, "faces.websocket.tls_key", "set both"},
		{"websocket tls key only", func(c *Config) { c.Faces.WebSocket.TLSKey = "/k.pem" }, "faces.websocket.tls_cert", "set both"},
	})
}

func TestValidateGroups(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"no groups", func(c *Config) { c.Groups = nil }, "", ""},
		{"two groups", func(c *Config) { c.Groups = []Group{{Prefix: "/a"}, {Prefix: "/b/v=3"}} }, "", ""},
		{"root", func(c *Config) { c.Groups = []Group{{Prefix: "/"}} }, "group[0].prefix", `"/": a sync group needs a prefix longer than "/"`},
		{"empty", func(c *Config) { c.Groups = []Group{{Prefix: "/a"}, {Prefix: ""}} }, "group[1].prefix", "missing or empty"},
		{"not a URI", func(c *Config) { c.Groups = []Group{{Prefix: "ndn/svs"}} }, "group[0].prefix", `must start with "/"`},
		{"bad component", func(c *Config) { c.Groups = []Group{{Prefix: "/ndn/a b"}} }, "group[0].prefix", "must be written as %20"},
		{"localhost", func(c *Config) { c.Groups = []Group{{Prefix: "/localhost/svs"}} }, "group[0].prefix", "reserved for the forwarder"},
		{"duplicate", func(c *Config) { c.Groups = []Group{{Prefix: "/a/b"}, {Prefix: "/c"}, {Prefix: "/a/b"}} }, "group[2].prefix", "duplicate of group[0].prefix"},
		{"duplicate spelled differently", func(c *Config) { c.Groups = []Group{{Prefix: "/a/b"}, {Prefix: "/%61/8=b/"}} }, "group[1].prefix", "duplicate of group[0].prefix"},
		{"nested is fine", func(c *Config) { c.Groups = []Group{{Prefix: "/a"}, {Prefix: "/a/b"}} }, "", ""},
	})
}

func TestValidateStrategies(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"best-route", func(c *Config) { c.Strategies = []Strategy{{"/files", "best-route"}} }, "", ""},
		{"multicast on root", func(c *Config) { c.Strategies = []Strategy{{"/", "multicast"}} }, "", ""},
		{"multicast on a group prefix", func(c *Config) { c.Strategies = []Strategy{{"/ndn/svs", "multicast"}} }, "", ""},
		{"unknown", func(c *Config) { c.Strategies = []Strategy{{"/a", "asf"}} }, "strategy[0].name", `"asf": unknown strategy, want one of best-route, multicast`},
		{"versioned", func(c *Config) { c.Strategies = []Strategy{{"/a", "multicast/v=1"}} }, "strategy[0].name", "unknown strategy"},
		{"full name", func(c *Config) { c.Strategies = []Strategy{{"/a", "/localhost/nfd/strategy/multicast"}} }, "strategy[0].name", "unknown strategy"},
		{"empty name", func(c *Config) { c.Strategies = []Strategy{{"/a", ""}} }, "strategy[0].name", "missing or empty: want one of best-route, multicast"},
		{"empty prefix", func(c *Config) { c.Strategies = []Strategy{{"", "multicast"}} }, "strategy[0].prefix", "missing or empty"},
		{"bad prefix", func(c *Config) { c.Strategies = []Strategy{{"/a//b", "multicast"}} }, "strategy[0].prefix", "empty component"},
		{"localhost prefix", func(c *Config) { c.Strategies = []Strategy{{"/localhost/nfd", "best-route"}} }, "strategy[0].prefix", "reserved for the forwarder"},
		{"duplicate prefix", func(c *Config) { c.Strategies = []Strategy{{"/a", "multicast"}, {"/a/", "best-route"}} }, "strategy[1].prefix", "duplicate of strategy[0].prefix"},
		{"best-route on a group prefix", func(c *Config) { c.Strategies = []Strategy{{"/ndn/svs", "best-route"}} }, "strategy[0].name", "prefix of group[0], which always uses multicast"},
	})
}

func TestValidateNeighbors(t *testing.T) {
	nb := func(uri string, prefixes ...string) func(*Config) {
		return func(c *Config) { c.Neighbors = []Neighbor{{URI: uri, Prefixes: prefixes}} }
	}
	runValidateCases(t, []validateCase{
		{"udp4", nb("udp4://192.0.2.10:6363"), "", ""},
		{"udp6", nb("udp6://[2001:db8::1]:6363"), "", ""},
		{"udp6 with zone", nb("udp6://[fe80::1%eth0]:6363"), "", ""},
		{"tcp4 loopback", nb("tcp4://127.0.0.1:6363"), "", ""},
		{"tcp6", nb("tcp6://[::1]:6363"), "", ""},
		{"with prefixes", nb("udp4://192.0.2.10:6363", "/", "/ndn/svs", "/other"), "", ""},
		{"empty uri", nb(""), "neighbor[0].uri", "missing or empty"},
		{"host name", nb("udp4://router.example:6363"), "", ""},
		{"host name, trailing dot", nb("tcp4://ndn-1.ndn.lab.svc.cluster.local.:6363"), "", ""},
		{"host name with resolve_every", func(c *Config) {
			c.Neighbors = []Neighbor{{URI: "udp4://ndn-1.ndn:6363", ResolveEvery: Duration{5 * time.Second}}}
		}, "", ""},
		{"host name, bad label", nb("udp4://-ndn.lab:6363"), "neighbor[0].uri", `label "-ndn"`},
		{"host name, underscore", nb("udp4://ndn_1.lab:6363"), "neighbor[0].uri", "not a letter, digit or hyphen"},
		{"host name, long label", nb("udp4://" + strings.Repeat("a", 64) + ".lab:6363"), "neighbor[0].uri", "1 to 63"},
		{"host name, no port", nb("udp4://ndn-1.lab"), "neighbor[0].uri", "want host:port"},
		{"host name, port 0", nb("udp4://ndn-1.lab:0"), "neighbor[0].uri", "want 1 to 65535"},
		{"malformed IPv4 stays an address", nb("udp4://192.0.2.300:6363"), "neighbor[0].uri", ""},
		{"resolve_every for an address", func(c *Config) {
			c.Neighbors = []Neighbor{{URI: "udp4://192.0.2.10:6363", ResolveEvery: Duration{5 * time.Second}}}
		}, "neighbor[0].resolve_every", "no DNS name"},
		{"resolve_every too short", func(c *Config) {
			c.Neighbors = []Neighbor{{URI: "udp4://ndn-1.ndn:6363", ResolveEvery: Duration{time.Millisecond}}}
		}, "neighbor[0].resolve_every", "out of range"},
		{"duplicate host name", func(c *Config) {
			c.Neighbors = []Neighbor{{URI: "udp4://ndn-1.ndn:6363"}, {URI: "udp4://NDN-1.ndn:6363"}}
		}, "neighbor[1].uri", "duplicate of neighbor[0].uri"},
		{"no scheme", nb("192.0.2.10:6363"), "neighbor[0].uri", "want scheme://host:port"},
		{"unknown scheme", nb("udp://192.0.2.10:6363"), "neighbor[0].uri", `unknown scheme "udp"`},
		{"ws scheme", nb("ws://192.0.2.10:9696"), "neighbor[0].uri", "unknown scheme"},
		{"upper-case scheme", nb("UDP4://192.0.2.10:6363"), "neighbor[0].uri", "unknown scheme"},
		{"udp4 with IPv6", nb("udp4://[2001:db8::1]:6363"), "neighbor[0].uri", "udp4 needs an IPv4 address"},
		{"udp6 with IPv4", nb("udp6://192.0.2.10:6363"), "neighbor[0].uri", "udp6 needs an IPv6 address"},
		{"udp6 with bracketed IPv4", nb("udp6://[192.0.2.10]:6363"), "neighbor[0].uri", "must not be in brackets"},
		{"tcp6 with IPv4-mapped", nb("tcp6://[::ffff:192.0.2.10]:6363"), "neighbor[0].uri", "use tcp4"},
		{"no port", nb("udp4://192.0.2.10"), "neighbor[0].uri", "want host:port"},
		{"port 0", nb("udp4://192.0.2.10:0"), "neighbor[0].uri", "port 0 is not allowed here"},
		{"port too big", nb("tcp4://192.0.2.10:65536"), "neighbor[0].uri", "port out of range"},
		{"path", nb("udp4://192.0.2.10:6363/x"), "neighbor[0].uri", `unexpected '/'`},
		{"query", nb("udp4://192.0.2.10:6363?x"), "neighbor[0].uri", `unexpected '?'`},
		{"user", nb("udp4://me@192.0.2.10:6363"), "neighbor[0].uri", `unexpected '@'`},
		{"unspecified", nb("udp4://0.0.0.0:6363"), "neighbor[0].uri", "needs a unicast address"},
		{"multicast", nb("udp4://224.0.23.170:56363"), "neighbor[0].uri", "needs a unicast address"},
		{"broadcast", nb("udp4://255.255.255.255:6363"), "neighbor[0].uri", "needs a unicast address"},
		{"bad prefix", nb("udp4://192.0.2.10:6363", "/ok", "nope"), "neighbor[0].prefixes[1]", `must start with "/"`},
		{"localhost prefix", nb("udp4://192.0.2.10:6363", "/localhost"), "neighbor[0].prefixes[0]", "reserved for the forwarder"},
		{"duplicate prefix", nb("udp4://192.0.2.10:6363", "/a", "/a/"), "neighbor[0].prefixes[1]", "duplicate of neighbor[0].prefixes[0]"},
		{"duplicate uri", func(c *Config) {
			c.Neighbors = []Neighbor{{URI: "udp4://192.0.2.10:6363"}, {URI: "tcp4://192.0.2.10:6363"}, {URI: "udp4://192.0.2.10:06363"}}
		}, "neighbor[2].uri", "duplicate of neighbor[0].uri"},
	})
}

// Validate reports every problem, not just the first, each matching
// ErrInvalid.
func TestValidateCollectsAll(t *testing.T) {
	c := Default()
	c.Log.Level = "loud"
	c.Forwarder.Threads = 99
	c.Faces.UDP.Listen = []string{"0.0.0.0:1", "bad"}
	c.Groups = []Group{{Prefix: "/"}}
	c.Neighbors = []Neighbor{{URI: "http://x"}}
	err := c.Validate()
	ps := problemsOf(t, err)
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.Key
		if !errors.Is(p, ErrInvalid) {
			t.Errorf("%v does not match ErrInvalid", p)
		}
		if p.File != "" || p.Line != 0 {
			t.Errorf("Validate set a position: %+v", p)
		}
	}
	want := []string{"log.level", "forwarder.threads", "faces.udp.listen[1]", "group[0].prefix", "neighbor[0].uri"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("keys = %v, want %v", keys, want)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Error("joined error does not match ErrInvalid")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, "config: ") {
			t.Errorf("line %q lacks the config: prefix", line)
		}
	}
}

func TestNodeName(t *testing.T) {
	for _, tc := range []struct{ name, wantErr string }{
		{"", ""},
		{"/a/b", ""},
		{"/", "node.name"},
		{"/localhost/x", "node.name"},
		{"not a name", "node.name"},
	} {
		c := Default()
		c.Node.Name = tc.name
		err := c.Validate()
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("node.name %q: %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	for _, tc := range [][3]string{
		{"box", "abcdefghij", "/ndnsvs-node/box/abcdefghij"},
		{"", "abcdefghij", "/ndnsvs-node/localhost/abcdefghij"},
		{"a b", "x2", "/ndnsvs-node/a%20b/x2"},
	} {
		if got := DefaultNodeName(tc[0], tc[1]); got != tc[2] {
			t.Errorf("DefaultNodeName(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
	if got := escapeComponent("a b/c"); got != "a%20b%2Fc" {
		t.Errorf("escapeComponent: %q", got)
	}
}
