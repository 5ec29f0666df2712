package deploy

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
)

// maxExposure is the highest exposure level systemd-analyze security may
// give the unit: 2.0 and under is its "OK".
const maxExposure = 2.0

// The unit passes systemd-analyze verify with no output at all, and
// systemd-analyze security --offline rates its exposure OK. verify wants
// ExecStart's program to exist: the unit is checked with it pointing at
// the binary built from this tree.
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian: apt-get install systemd): the unit is not checked")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ndnsvs-node")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ndnsvs/ndnsvs-node/cmd/ndnsvs-node").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	unit, err := os.ReadFile("systemd/ndnsvs-node.service")
	if err != nil {
		t.Fatal(err)
	}
	const shipped = "ExecStart=/usr/local/bin/ndnsvs-node run --config /etc/ndnsvs-node/config.toml"
	if !strings.Contains(string(unit), shipped+"\n") {
		t.Fatalf("the unit's ExecStart is not %q", shipped)
	}
	path := filepath.Join(dir, "ndnsvs-node.service")
	if err := os.WriteFile(path, []byte(strings.Replace(string(unit), "/usr/local/bin/ndnsvs-node", bin, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=true", path).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+) (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: %v, no overall exposure in:\n%s", err, out)
	}
	level, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("exposure %s %s", m[1], m[2])
	if level > maxExposure {
		t.Errorf("exposure %.1f %s, want at most %.1f:\n%s", level, m[2], maxExposure, out)
	}
}

// The unit's configuration loads, and puts the socket and the state where
// the unit's RuntimeDirectory= and StateDirectory= make them.
func TestSystemdConfig(t *testing.T) {
	c, err := config.Load("systemd/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.UnixSocketPath(); got != "/run/nfd/nfd.sock" {
		t.Errorf("socket %s, want /run/nfd/nfd.sock (RuntimeDirectory=nfd)", got)
	}
	if got, err := c.StateDir(); err != nil || got != "/var/lib/ndnsvs-node" {
		t.Errorf("state dir %q (%v), want /var/lib/ndnsvs-node (StateDirectory=ndnsvs-node)", got, err)
	}
	unit, err := os.ReadFile("systemd/ndnsvs-node.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RuntimeDirectory=nfd\n", "StateDirectory=ndnsvs-node\n", "ConfigurationDirectory=ndnsvs-node\n", "User=ndnsvs\n", "CapabilityBoundingSet=\n"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
	if strings.Contains(string(unit), "DynamicUser=yes") {
		t.Error("DynamicUser=yes: the socket would be root's only")
	}
}

// deploy/release.sh builds a static binary per edge target with its
// checksum, and builds the same bytes a second time.
func TestReleaseScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three binaries twice")
	}
	var sums [2]string
	for i := range sums {
		dir := t.TempDir()
		if out, err := exec.Command("bash", "release.sh", dir).CombinedOutput(); err != nil {
			t.Fatalf("release.sh: %v\n%s", err, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = string(b)
		cmd := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum --check: %v\n%s", err, out)
		}
		want := map[string]elf.Machine{"-linux-amd64": elf.EM_X86_64, "-linux-arm64": elf.EM_AARCH64, "-linux-armv7": elf.EM_ARM}
		lines := strings.Split(strings.TrimSpace(sums[i]), "\n")
		if len(lines) != len(want) {
			t.Fatalf("SHA256SUMS has %d lines, want %d:\n%s", len(lines), len(want), sums[i])
		}
		for _, l := range lines {
			f := strings.Fields(l)
			name := f[len(f)-1]
			suffix := name[strings.LastIndex(name, "-linux-"):]
			m, ok := want[suffix]
			if !ok {
				t.Errorf("unexpected binary %s", name)
				continue
			}
			checkStatic(t, filepath.Join(dir, name), m)
		}
	}
	if sums[0] != sums[1] {
		t.Errorf("two builds of one tree differ:\n%s\n%s", sums[0], sums[1])
	}
}

// checkStatic checks that path is an ELF executable for machine m that
// needs no dynamic loader and no shared library.
func checkStatic(t *testing.T, path string, m elf.Machine) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != m {
		t.Errorf("%s: machine %v, want %v", path, f.Machine, m)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s: has %v: not static", path, p.Type)
		}
	}
}
