package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	toml "github.com/pelletier/go-toml/v2"
)

func TestDefaultValidates(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

// The example file spells out the defaults: parsing it must give Default()
// exactly, so the two cannot drift apart.
func TestExampleIsDefault(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config.toml.example"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data, "config.toml.example")
	if err != nil {
		t.Fatalf("Parse(example): %v", err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(example) != Default()\n got: %+v\nwant: %+v", got, want)
	}
}

// Decoding the example over a zero Config, rather than over Default, must
// still give Default: every key is in the file, none is left to the
// defaults Parse starts from.
func TestExampleSetsEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config.toml.example"))
	if err != nil {
		t.Fatal(err)
	}
	var got Config
	dec := toml.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("example decoded over a zero Config != Default()\n got: %+v\nwant: %+v", got, want)
	}
}

func TestEmptyDocumentIsDefault(t *testing.T) {
	if got := mustParse(t, ""); !reflect.DeepEqual(got, Default()) {
		t.Fatalf("Parse(\"\") = %+v, want Default()", got)
	}
}

// Only the unix socket, UDP unicast and UDP multicast face the network by
// default; TCP and WebSocket are off, and no neighbour is configured.
func TestDefaultIsSafe(t *testing.T) {
	c := Default()
	if !c.Faces.Unix.Enabled || !c.Faces.UDP.Enabled || !c.Faces.Multicast.Enabled {
		t.Errorf("unix, udp and multicast should be on: %+v", c.Faces)
	}
	if c.Faces.TCP.Enabled || c.Faces.WebSocket.Enabled {
		t.Errorf("tcp and websocket should be off: %+v", c.Faces)
	}
	if !reflect.DeepEqual(c.Faces.UDP.Listen, []string{"0.0.0.0:6363"}) {
		t.Errorf("udp listen = %q", c.Faces.UDP.Listen)
	}
	if c.Faces.Multicast.Group != "224.0.23.170:56363" {
		t.Errorf("multicast group = %q", c.Faces.Multicast.Group)
	}
	if c.Faces.WebSocket.Listen != "127.0.0.1:9696" {
		t.Errorf("websocket listen = %q, want loopback", c.Faces.WebSocket.Listen)
	}
	if c.FileMode()&0o002 != 0 {
		t.Errorf("unix mode %v lets others write", c.FileMode())
	}
	if c.Forwarder.ContentStore.Admit {
		t.Error("content store admits by default: ndnd v1.5.3 leaks a name-tree node per cached name")
	}
	if len(c.Neighbors) != 0 || len(c.Strategies) != 0 {
		t.Errorf("neighbours %v, strategies %v: want none", c.Neighbors, c.Strategies)
	}
}

func TestDefaultReturnsFreshSlices(t *testing.T) {
	a := Default()
	a.Faces.UDP.Listen[0] = "changed"
	a.Groups[0].Prefix = "changed"
	a.Faces.Multicast.Interfaces = append(a.Faces.Multicast.Interfaces, "changed")
	b := Default()
	if b.Faces.UDP.Listen[0] == "changed" || b.Groups[0].Prefix == "changed" || len(b.Faces.Multicast.Interfaces) != 0 {
		t.Fatal("Default shares slices between calls")
	}
}

func TestParseKeepsDefaultsForAbsentKeys(t *testing.T) {
	c := mustParse(t, "[faces.tcp]\nenabled = true\n")
	want := Default()
	want.Faces.TCP.Enabled = true
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

// An array in the file replaces the default array; it is not appended to.
func TestParseReplacesArrays(t *testing.T) {
	c := mustParse(t, `
[faces.udp]
listen = ["127.0.0.1:7000"]

[[group]]
prefix = "/a"
`)
	if !reflect.DeepEqual(c.Faces.UDP.Listen, []string{"127.0.0.1:7000"}) {
		t.Errorf("listen = %q", c.Faces.UDP.Listen)
	}
	if !reflect.DeepEqual(c.Groups, []Group{{Prefix: "/a"}}) {
		t.Errorf("groups = %v", c.Groups)
	}
	if c := mustParse(t, "group = []\n"); c.Groups == nil || len(c.Groups) != 0 {
		t.Errorf(`group = [] gave %#v, want no groups`, c.Groups)
	}
	// go-toml reads a single [group] table as an array of one; that is
	// what the writer meant, so it is accepted.
	if c := mustParse(t, "[group]\nprefix = \"/b\"\n"); !reflect.DeepEqual(c.Groups, []Group{{Prefix: "/b"}}) {
		t.Errorf("[group] gave %v", c.Groups)
	}
}

// fullConfig is what testdata/full.toml decodes to.
func fullConfig() Config {
	return Config{
		Node: Node{Name: "/example/node/alice", Ping: false, GCPercent: 200},
		Log:  Log{Level: "debug", Format: "json", ForwarderLevel: "error"},
		Forwarder: Forwarder{
			Threads: 4, QueueSize: 4096, FaceQueueSize: 2048, UDPMTU: 8800,
			ContentStore: ContentStore{Admit: true, Serve: false, Capacity: 0},
		},
		Faces: Faces{
			Unix: UnixFaces{Enabled: false, Path: "/var/run/ndnsvs/nfd.sock", Mode: "0600"},
			UDP: UDPFaces{
				Enabled:  false,
				Listen:   []string{"0.0.0.0:7000", "[::]:7000", "[fe80::1%eth0]:7001"},
				Lifetime: Duration{90 * time.Minute},
			},
			Multicast: MulticastFaces{Enabled: false, Group: "239.1.2.3:5000", Interfaces: []string{"eth0", "wlan0"}},
			TCP:       TCPFaces{Enabled: true, Listen: []string{"127.0.0.1:0", "[::1]:6363"}},
			WebSocket: WebSocketFaces{
				Enabled: true, Listen: "[::]:443",
				TLSCert: "/etc/ndnsvs/cert.pem", TLSKey: "/etc/ndnsvs/key.pem",
			},
			Limits: FaceLimits{OnDemandFaces: 0, StreamFaces: 16, ReassemblyBytes: 1 << 20, ReassemblyTimeout: Duration{time.Second}},
		},
		Management: Management{RequestsPerSecond: 50, Burst: 10},
		Sync:       Sync{MaxSyncInterestSize: 1500, MaxMembers: 64, SupersededGrace: Duration{2 * time.Minute}},
		Groups: []Group{
			{Prefix: "/ndn/edu/ucla/chat", Cache: true},
			{Prefix: "/example/v=3/seg=0/32=keyword/%7Euser"},
		},
		Strategies: []Strategy{
			{Prefix: "/", Name: "multicast"},
			{Prefix: "/ndn/edu/ucla/chat", Name: "multicast"},
			{Prefix: "/ndn/edu/ucla/files", Name: "best-route"},
		},
		Metrics: Metrics{Enabled: true, Listen: "[::1]:9000", PerMember: true},
		Health:  Health{Enabled: false, Interval: Duration{2 * time.Second}, Expire: 5},
		Security: Security{
			Signer: "ed25519", Keys: []string{"/etc/ndnsvs/alice.key", "/etc/ndnsvs/alice.cert"},
			Key: "/ndn/edu/ucla/alice", Anchors: []string{"/etc/ndnsvs/root.cert"},
			Schema: "/etc/ndnsvs/group.lvs", CertPrefixes: []string{"/ndn/edu/ucla"},
		},
		Neighbors: []Neighbor{
			{URI: "udp4://192.0.2.10:6363", Prefixes: []string{}},
			{URI: "tcp6://[2001:db8::10]:6363", Prefixes: []string{"/", "/ndn/edu/ucla/files"}},
			{URI: "udp6://[fe80::2%eth0]:56363", Prefixes: []string{"/example"}},
			{URI: "tcp4://127.0.0.1:6364", Prefixes: []string{"/ndn/edu/ucla/chat"}},
		},
	}
}

// A configuration that sets every key survives Load, and survives being
// written back as TOML and parsed again.
func TestFullConfigRoundTrip(t *testing.T) {
	got, err := Load(filepath.Join("testdata", "full.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := fullConfig()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Load(full.toml)\n got: %+v\nwant: %+v", got, want)
	}
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	out, err := toml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out, "marshalled")
	if err != nil {
		t.Fatalf("Parse(Marshal(full)): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(again, want) {
		t.Fatalf("round trip changed the config\n got: %+v\nwant: %+v\n%s", again, want, out)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.toml")
	if err := os.WriteFile(path, []byte("[log]\nlevel = \"debug\"\n\n[forwarder]\nthreads = 64\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	p := wantProblem(t, err, "forwarder.threads", "out of range 0..32")
	if p.File != path || p.Line != 5 {
		t.Errorf("problem at %s:%d, want %s:5", p.File, p.Line, path)
	}
	if want := path + ":5: forwarder.threads: 64 out of range"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}

	_, err = Load(filepath.Join(dir, "missing.toml"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("Load(missing) = %v: want a config:-prefixed fs.ErrNotExist that is not ErrInvalid", err)
	}
}

func TestUnixSocketPath(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		euid       int
		runtimeDir string
		want       string
	}{
		{"explicit path wins", "/srv/ndn.sock", 0, "/run/user/1000", "/srv/ndn.sock"},
		{"root", "", 0, "/run/user/0", "/run/nfd/nfd.sock"},
		{"user with XDG_RUNTIME_DIR", "", 1000, "/run/user/1000", "/run/user/1000/ndnsvs-node/nfd.sock"},
		{"user without XDG_RUNTIME_DIR", "", 1000, "", "/tmp/ndnsvs-node-1000/nfd.sock"},
		{"relative XDG_RUNTIME_DIR is ignored", "", 1000, "run", "/tmp/ndnsvs-node-1000/nfd.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unixSocketPath(tt.path, tt.euid, tt.runtimeDir); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	// The method reads the real environment.
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/4242")
	want := "/run/user/4242/ndnsvs-node/nfd.sock"
	if os.Geteuid() == 0 {
		want = RootUnixSocketPath
	}
	if got := Default().UnixSocketPath(); got != want {
		t.Errorf("Default().UnixSocketPath() = %q, want %q", got, want)
	}
}

func TestFileMode(t *testing.T) {
	tests := []struct {
		mode string
		want os.FileMode
	}{
		{"0660", 0o660},
		{"0600", 0o600},
		{"0644", 0o644},
		{"0775", 0o775},
		{"0666", 0o600}, // invalid: others may write
		{"bogus", 0o600},
		{"", 0o600},
	}
	for _, tt := range tests {
		c := Default()
		c.Faces.Unix.Mode = tt.mode
		if got := c.FileMode(); got != tt.want {
			t.Errorf("FileMode(%q) = %o, want %o", tt.mode, got, tt.want)
		}
	}
}

func TestThreadCount(t *testing.T) {
	procs := min(runtime.GOMAXPROCS(0), MaxThreads)
	tests := []struct{ threads, want int }{
		{0, procs},
		{1, 1},
		{32, 32},
		{33, 32},
		{-1, procs},
	}
	for _, tt := range tests {
		if got := (Forwarder{Threads: tt.threads}).ThreadCount(); got != tt.want {
			t.Errorf("ThreadCount(%d) = %d, want %d", tt.threads, got, tt.want)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		text    string
		want    time.Duration
		wantErr bool
		out     string
	}{
		{text: "10m", want: 10 * time.Minute, out: "10m"},
		{text: "200ms", want: 200 * time.Millisecond, out: "200ms"},
		{text: "1h30m", want: 90 * time.Minute, out: "1h30m"},
		{text: "2h", want: 2 * time.Hour, out: "2h"},
		{text: "1h0m5s", want: time.Hour + 5*time.Second, out: "1h0m5s"},
		{text: "0", want: 0, out: "0s"},
		{text: "-5s", want: -5 * time.Second, out: "-5s"},
		{text: "", wantErr: true},
		{text: "10", wantErr: true},
		{text: "ten minutes", wantErr: true},
	}
	for _, tt := range tests {
		var d Duration
		err := d.UnmarshalText([]byte(tt.text))
		if (err != nil) != tt.wantErr {
			t.Errorf("UnmarshalText(%q) error = %v, wantErr %v", tt.text, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if d.Duration != tt.want {
			t.Errorf("UnmarshalText(%q) = %v, want %v", tt.text, d.Duration, tt.want)
		}
		out, _ := d.MarshalText()
		if string(out) != tt.out {
			t.Errorf("MarshalText(%v) = %q, want %q", tt.want, out, tt.out)
		}
		var back Duration
		if err := back.UnmarshalText(out); err != nil || back != d {
			t.Errorf("round trip of %q gave %v, %v", tt.text, back, err)
		}
	}
}
