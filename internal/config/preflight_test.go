package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// preflightConfig is a configuration whose host checks all pass on any
// machine: its socket and state directory are in a temporary directory.
func preflightConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	c := Default()
	c.Faces.Unix.Path = filepath.Join(dir, "run", "nfd.sock")
	c.Node.StateDir = filepath.Join(dir, "state")
	return c
}

// wantPreflight checks that Preflight fails with every wanted text (the key
// first) or, with none wanted, passes.
func wantPreflight(t *testing.T, c Config, want ...string) {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	err := c.Preflight()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("Preflight: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Preflight passed, want %q", want)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Preflight error %v does not match ErrInvalid", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Preflight error lacks %q:\n%v", w, err)
		}
	}
}

func TestPreflightPassesOnAUsableConfig(t *testing.T) {
	wantPreflight(t, preflightConfig(t))
}

func TestPreflightMulticastInterfaces(t *testing.T) {
	c := preflightConfig(t)
	c.Faces.Multicast.Interfaces = []string{"ndnsvs-none0"}
	wantPreflight(t, c, "faces.multicast.interfaces[0]", `"ndnsvs-none0": no such interface on this machine`)

	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifi := range ifaces {
		if ifi.Flags&net.FlagLoopback != 0 {
			c.Faces.Multicast.Interfaces = []string{ifi.Name}
			wantPreflight(t, c, "faces.multicast.interfaces[0]", "loopback")
			c.Faces.Multicast.Enabled = false
			wantPreflight(t, c) // multicast off: its interfaces are not used
			return
		}
	}
	t.Log("no loopback interface here: only the missing one checked")
}

func TestPreflightUnixSocket(t *testing.T) {
	c := preflightConfig(t)
	// A file where the directory would be.
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c.Faces.Unix.Path = filepath.Join(file, "nfd.sock")
	wantPreflight(t, c, "faces.unix.path", "is not a directory")

	// A file that is not a socket where the socket would be.
	c.Faces.Unix.Path = file
	wantPreflight(t, c, "faces.unix.path", "not a socket")

	// A live socket.
	sock := filepath.Join(t.TempDir(), "live.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c.Faces.Unix.Path = sock
	wantPreflight(t, c, "faces.unix.path", "in use by another process")

	// The unix face off: nothing is checked.
	c.Faces.Unix.Enabled = false
	wantPreflight(t, c)
}

// The default socket directory, when it exists, must be this user's and
// writable by no one else: /tmp/ndnsvs-node-<uid> can be made by anyone.
func TestOwnDefaultDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sockdir")
	if err := ownDefaultDir("", dir); err != nil {
		t.Errorf("missing directory: %v", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ownDefaultDir("", dir); err != nil {
		t.Errorf("own 0755 directory: %v", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := ownDefaultDir("", dir); err == nil || !strings.Contains(err.Error(), "another user could") {
		t.Errorf("0777 directory: %v", err)
	}
	if err := ownDefaultDir("/configured/nfd.sock", dir); err != nil {
		t.Errorf("a configured path is the operator's choice: %v", err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		if err := ownDefaultDir("", dir); err == nil || !strings.Contains(err.Error(), "uid 4242") {
			t.Errorf("another user's directory: %v", err)
		}
	}
}

func TestPreflightUnwritableDirectories(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write into any directory: run as a user to check the refusal")
	}
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	c := preflightConfig(t)
	c.Faces.Unix.Path = filepath.Join(ro, "sub", "nfd.sock")
	c.Node.StateDir = filepath.Join(ro, "state")
	wantPreflight(t, c, "faces.unix.path", "not writable", "node.state_dir")
	c.Node.Name = "/named" // a named node keeps nothing there yet
	c.Faces.Unix.Path = filepath.Join(t.TempDir(), "nfd.sock")
	wantPreflight(t, c)
}

func TestPreflightStateDirWithABadID(t *testing.T) {
	c := preflightConfig(t)
	if err := os.MkdirAll(c.Node.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Node.StateDir, NodeIDFile), []byte("not an id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantPreflight(t, c, "node.state_dir", "does not hold a node id")
}

func TestPreflightUnixGroup(t *testing.T) {
	c := preflightConfig(t)
	c.Faces.Unix.Group = "ndnsvs-no-such-group"
	wantPreflight(t, c, "faces.unix.group", "no such group")

	c.Faces.Unix.Group = "bad group"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "faces.unix.group") {
		t.Errorf("Validate of %q: %v", c.Faces.Unix.Group, err)
	}

	// The process's own group, by number: always allowed.
	c.Faces.Unix.Group = strconv.Itoa(os.Getegid())
	wantPreflight(t, c)
	gid, ok, err := c.UnixGroupID()
	if err != nil || !ok || gid != os.Getegid() {
		t.Errorf("UnixGroupID = %d, %v, %v", gid, ok, err)
	}
	if os.Geteuid() != 0 {
		// A group this user is not in.
		c.Faces.Unix.Group = "2147483000"
		wantPreflight(t, c, "faces.unix.group", "not a member")
	}
}

func TestPreflightListenAddressNotOnThisMachine(t *testing.T) {
	c := preflightConfig(t)
	c.Faces.UDP.Listen = []string{"0.0.0.0:6363", "192.0.2.77:6363"} // TEST-NET-1
	wantPreflight(t, c, "faces.udp.listen[1]", "no interface on this machine has the address 192.0.2.77")
	c.Faces.UDP.Enabled = false
	wantPreflight(t, c)
}

func TestPreflightTLS(t *testing.T) {
	c := preflightConfig(t)
	dir := t.TempDir()
	c.Faces.WebSocket.Enabled = true
	c.Faces.WebSocket.TLSCert = filepath.Join(dir, "cert.pem")
	c.Faces.WebSocket.TLSKey = filepath.Join(dir, "key.pem")
	wantPreflight(t, c, "faces.websocket.tls_cert", "faces.websocket.tls_key", "no such file")

	certPEM, keyPEM := selfSigned(t)
	if err := os.WriteFile(c.Faces.WebSocket.TLSCert, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.Faces.WebSocket.TLSKey, certPEM, 0o600); err != nil { // not a key
		t.Fatal(err)
	}
	wantPreflight(t, c, "faces.websocket.tls_cert")
	if err := os.WriteFile(c.Faces.WebSocket.TLSKey, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	wantPreflight(t, c)
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestInFileNamesTheFile(t *testing.T) {
	c := preflightConfig(t)
	c.Faces.Multicast.Interfaces = []string{"ndnsvs-none0", "ndnsvs-none1"}
	err := InFile(c.Preflight(), "node.toml")
	if err == nil || strings.Count(err.Error(), "config: node.toml: faces.multicast.interfaces[") != 2 {
		t.Errorf("InFile: %v", err)
	}
}
