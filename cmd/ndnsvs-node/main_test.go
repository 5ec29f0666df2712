package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "node.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A bad configuration is refused before anything starts, with the file,
// the line, the key and the reason, and exit code 2.
func TestBadConfigIsRefusedWithKeyAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"unknown key", "[faces.udp]\nenabeld = true\n", []string{"node.toml:2", "faces.udp.enabeld", "enabled"}},
		{"wrong type", "[forwarder]\nthreads = \"four\"\n", []string{"node.toml:2", "forwarder.threads"}},
		{"unknown strategy", "[[strategy]]\nprefix = \"/x\"\nname = \"fastest\"\n", []string{"node.toml:3", "strategy[0].name", "multicast"}},
		{"bad address", "[faces.udp]\nlisten = [\"1.2.3.4:99999\"]\n", []string{"node.toml:2", "faces.udp.listen[0]"}},
		{"bad group", "[[group]]\nprefix = \"/\"\n", []string{"node.toml:2", "group[0].prefix"}},
		{"syntax", "[log\nlevel = \"info\"\n", []string{"node.toml:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.body)
			for _, cmd := range []string{"run", "check"} {
				code, _, stderr := runCmd(t, cmd, "--config", p)
				if code != 2 {
					t.Errorf("%s: exit %d, want 2; stderr:\n%s", cmd, code, stderr)
				}
				for _, w := range tc.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s: stderr lacks %q:\n%s", cmd, w, stderr)
					}
				}
			}
		})
	}
}

func TestCheckAcceptsTheExample(t *testing.T) {
	code, out, errOut := runCmd(t, "config")
	if code != 0 || !strings.Contains(out, "[faces.unix]") {
		t.Fatalf("config: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCmd(t, "check", "--config", writeFile(t, out))
	if code != 0 {
		t.Fatalf("check of the printed default config: exit %d\n%s", code, errOut)
	}
	if _, err := config.Parse([]byte(out), "printed"); err != nil {
		t.Fatal(err)
	}
}

func TestUsage(t *testing.T) {
	if code, _, _ := runCmd(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	if code, _, _ := runCmd(t, "run", "extra"); code != 2 {
		t.Errorf("extra argument: exit %d, want 2", code)
	}
	if code, out, _ := runCmd(t, "version"); code != 0 || !strings.Contains(out, "ndnd v1.5.3") && !strings.Contains(out, "ndnsvs-node") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if code, _, _ := runCmd(t, "check", "--config", "/nonexistent/x.toml"); code != 2 {
		t.Errorf("missing file: exit %d, want 2", code)
	}
}
