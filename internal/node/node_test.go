package node

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
)

// Every forwarder-related key of the configuration reaches the forwarder's
// configuration.
func TestForwarderConfigMapsEveryKey(t *testing.T) {
	c, err := config.Parse([]byte(`
[log]
format = "json"
forwarder_level = "debug"
[forwarder]
threads = 3
queue_size = 2048
face_queue_size = 512
udp_mtu = 1300
[forwarder.content_store]
admit = true
serve = false
capacity = 77
[faces.unix]
path = "/tmp/x/nfd.sock"
mode = "0600"
[faces.udp]
listen = ["127.0.0.1:7000", "[::1]:7000"]
lifetime = "90s"
[faces.multicast]
group = "239.1.2.3:5000"
interfaces = ["eth9"]
[faces.tcp]
enabled = true
listen = ["127.0.0.1:7001"]
[faces.websocket]
enabled = true
listen = "127.0.0.1:9000"
`), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	fc, err := ForwarderConfig(c, slog.Default(), &logs)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("Threads", fc.Threads, 3)
	check("QueueSize", fc.QueueSize, 2048)
	check("FaceQueueSize", fc.FaceQueueSize, 512)
	check("UDPMTU", fc.UDPMTU, 1300)
	check("CS admit", fc.ContentStore.Admit, true)
	check("CS serve", fc.ContentStore.Serve, false)
	check("CS capacity", fc.ContentStore.Capacity, 77)
	check("unix path", fc.Unix.Path, "/tmp/x/nfd.sock")
	check("unix mode", fc.Unix.Mode.Perm().String(), "-rw-------")
	check("udp listen", len(fc.UDP.Listen), 2)
	check("udp listen[1]", fc.UDP.Listen[1], netip.MustParseAddrPort("[::1]:7000"))
	check("udp lifetime", fc.UDP.Lifetime, 90*time.Second)
	check("multicast group", fc.Multicast.Group, netip.MustParseAddrPort("239.1.2.3:5000"))
	check("multicast interfaces", strings.Join(fc.Multicast.Interfaces, ","), "eth9")
	check("tcp", fc.TCP.Enabled && fc.TCP.Listen[0] == netip.MustParseAddrPort("127.0.0.1:7001"), true)
	check("websocket", fc.WebSocket.Listen, netip.MustParseAddrPort("127.0.0.1:9000"))
	check("forwarder level", fc.ForwarderLogLevel, slog.LevelDebug)
	check("forwarder json", fc.ForwarderLogJSON, true)
	if err := fc.Validate(); err != nil {
		t.Errorf("mapped config does not validate: %v", err)
	}
}

// The defaults map to a valid forwarder configuration with CS admission off.
func TestForwarderConfigDefaults(t *testing.T) {
	fc, err := ForwarderConfig(config.Default(), slog.Default(), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if fc.ContentStore.Admit {
		t.Error("content store admits by default")
	}
	if !fc.Unix.Enabled || !fc.UDP.Enabled || !fc.Multicast.Enabled || fc.TCP.Enabled || fc.WebSocket.Enabled {
		t.Errorf("default listeners: unix %v udp %v multicast %v tcp %v ws %v",
			fc.Unix.Enabled, fc.UDP.Enabled, fc.Multicast.Enabled, fc.TCP.Enabled, fc.WebSocket.Enabled)
	}
}

func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	l, err := NewLogger(config.Log{Level: "warn", Format: "json"}, &b)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("shown", "k", 1)
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), `"msg":"shown"`) {
		t.Errorf("log output %q", b.String())
	}
	if _, err := NewLogger(config.Log{Level: "loud"}, &b); err == nil {
		t.Error("bad level accepted")
	}
}
