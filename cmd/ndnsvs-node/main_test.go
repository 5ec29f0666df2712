package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
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
	if code, _, errOut := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "Commands:") {
		t.Errorf("unknown command: exit %d, want 2 and the usage on stderr:\n%s", code, errOut)
	}
	for _, args := range [][]string{{"run", "extra"}, {"--bogus"}, {"check", "--bogus"}, {"version", "extra"}, {"help", "nope"}} {
		code, out, errOut := runCmd(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%q: exit %d, want 2, the usage on stderr and nothing on stdout; stdout %q, stderr:\n%s", args, code, out, errOut)
		}
	}
	if code, _, _ := runCmd(t, "check", "--config", "/nonexistent/x.toml"); code != 2 {
		t.Errorf("missing file: exit %d, want 2", code)
	}
}

// Every way of asking for help prints it on stdout and exits 0: the top
// level lists every command, a command's help gives its flags.
func TestHelpEverywhere(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}, {"help"}} {
		code, out, errOut := runCmd(t, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
		for _, c := range commands {
			if !strings.Contains(out, "\n  "+c.name+" ") {
				t.Errorf("%q: the command list lacks %s:\n%s", args, c.name, out)
			}
		}
		for _, w := range []string{"--version", "--help", "COMMAND --help"} {
			if !strings.Contains(out, w) {
				t.Errorf("%q: help lacks %q", args, w)
			}
		}
	}
	for _, c := range commands {
		forms := [][]string{{"help", c.name}}
		if c.name != "help" {
			forms = append(forms, []string{c.name, "-h"}, []string{c.name, "--help"})
		}
		for _, args := range forms {
			code, out, errOut := runCmd(t, args...)
			if code != 0 || errOut != "" || !strings.Contains(out, "Usage:\n  ndnsvs-node "+c.name) {
				t.Errorf("%q: exit %d, stderr %q, stdout:\n%s", args, code, errOut, out)
			}
			if c.configFlag && !strings.Contains(out, "--config FILE") {
				t.Errorf("%q: help lacks --config:\n%s", args, out)
			}
		}
	}
}

// The applications are listed in the help and answer -h as commands do.
func TestHelpOfApplications(t *testing.T) {
	_, top, _ := runCmd(t, "--help")
	for _, a := range apps {
		if !strings.Contains(top, "\n  "+a.name+" ") {
			t.Errorf("help lacks the application %s:\n%s", a.name, top)
		}
		for _, args := range [][]string{{"help", a.name}, {a.name, "-h"}, {a.name, "--help"}} {
			code, out, errOut := runCmd(t, args...)
			if code != 0 || errOut != "" || !strings.Contains(out, a.name) || !strings.Contains(out, "-gp") {
				t.Errorf("%q: exit %d, stderr %q, stdout:\n%s", args, code, errOut, out)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, errOut := runCmd(t, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "ndnsvs-node ") || !strings.Contains(out, "ndnd:     v1.5.3") || !strings.Contains(out, "go:       go1.") {
			t.Errorf("%q: exit %d, stderr %q, stdout:\n%s", args, code, errOut, out)
		}
	}
}

// The version comes from the build: module version first, then the VCS
// revision, time and modified flag; dev only when there is nothing.
func TestVersionFromBuildInfo(t *testing.T) {
	ndnd := &debug.Module{Path: "github.com/named-data/ndnd", Version: "v1.5.3"}
	vcs := []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-11-29T05:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, tc := range []struct {
		name      string
		bi        *debug.BuildInfo
		short     string
		longParts []string
	}{
		{"nothing", nil, "dev", []string{"the build recorded no version"}},
		{"go run", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Deps: []*debug.Module{ndnd}}, "dev", []string{"ndnd:     v1.5.3"}},
		{"vcs only", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs}, "0123456789ab-modified",
			[]string{"revision: 0123456789abcdef0123456789abcdef01234567 (2026-11-29T05:00:00Z, modified)"}},
		{"module", &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "v0.0.0-20261129050000-0123456789ab+dirty"}, Settings: vcs, Deps: []*debug.Module{ndnd}},
			"v0.0.0-20261129050000-0123456789ab+dirty", []string{"revision: 0123", "ndnd:     v1.5.3", "go:       go1.99"}},
	} {
		v := versionFrom(tc.bi)
		if got := v.short(); got != tc.short {
			t.Errorf("%s: short %q, want %q", tc.name, got, tc.short)
		}
		for _, w := range tc.longParts {
			if !strings.Contains(v.long(), w) {
				t.Errorf("%s: long lacks %q:\n%s", tc.name, w, v.long())
			}
		}
	}
}

// An empty --config is an error, never the defaults (which listen on every
// interface); no --config at all still means the defaults.
func TestEmptyConfigPathIsRefused(t *testing.T) {
	for _, args := range [][]string{{"check", "--config="}, {"check", "--config", ""}, {"run", "--config="}, {"--config", ""}, {"check", "-config="}} {
		code, out, errOut := runCmd(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "--config: empty file name") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// check refuses what run would refuse at start on this machine, with the
// key: here a multicast interface that does not exist.
func TestCheckCatchesAMissingInterface(t *testing.T) {
	p := writeFile(t, fmt.Sprintf("[node]\nname = \"/t\"\n[faces.unix]\npath = %q\n[faces.multicast]\ninterfaces = [\"ndnsvs-none0\"]\n",
		filepath.Join(t.TempDir(), "nfd.sock")))
	for _, cmd := range []string{"check", "run"} {
		code, _, errOut := runCmd(t, cmd, "--config", p)
		if code != 2 || !strings.Contains(errOut, "node.toml: faces.multicast.interfaces[0]: \"ndnsvs-none0\": no such interface on this machine") {
			t.Errorf("%s: exit %d, stderr:\n%s", cmd, code, errOut)
		}
	}
}

// reloadOnHUP without a file logs and ignores the signal; with one it
// reloads it, or keeps the node as it was when the file does not load.
func TestReloadOnHUP(t *testing.T) {
	var logs syncBuffer
	level := new(slog.LevelVar)
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
	p := writeFile(t, "[log]\nlevel = \"warn\"\n")
	for _, tc := range []struct {
		name, path string
		want       string
		wantLevel  slog.Level
	}{
		{"no file", "", "SIGHUP ignored", slog.LevelInfo},
		{"a file", p, "key=log.level from=info to=warn", slog.LevelWarn},
		{"a bad file", writeFile(t, "[log]\nlevel = \"loud\"\n"), "configuration not reloaded", slog.LevelInfo},
	} {
		logs.Reset()
		level.Set(slog.LevelInfo)
		ctx, cancel := context.WithCancel(context.Background())
		hup := make(chan os.Signal)
		done := make(chan struct{})
		go func() { reloadOnHUP(ctx, hup, tc.path, config.Default(), level, logger); close(done) }()
		hup <- syscall.SIGHUP
		hup <- syscall.SIGHUP // the first has been handled once this is taken
		cancel()
		<-done
		if !strings.Contains(logs.String(), tc.want) || level.Level() != tc.wantLevel {
			t.Errorf("%s: level %v, want %v; log:\n%s", tc.name, level.Level(), tc.wantLevel, logs.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a logger in another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
