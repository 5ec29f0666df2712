package config

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestStateDirDefaults(t *testing.T) {
	for _, tc := range []struct {
		dir             string
		euid            int
		stateHome, home string
		want            string
	}{
		{"/srv/n", 1000, "/x", "/home/u", "/srv/n"},
		{"", 0, "/x", "/root", RootStateDir},
		{"", 1000, "/home/u/.st", "/home/u", "/home/u/.st/ndnsvs-node"},
		{"", 1000, "relative", "/home/u", "/home/u/.local/state/ndnsvs-node"},
		{"", 1000, "", "/home/u", "/home/u/.local/state/ndnsvs-node"},
		{"", 1000, "", "", ""},
	} {
		got, err := stateDir(tc.dir, tc.euid, tc.stateHome, tc.home)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("stateDir(%q, %d, %q, %q) = %q, %v; want %q", tc.dir, tc.euid, tc.stateHome, tc.home, got, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), "node.state_dir") {
			t.Errorf("error without the key: %v", err)
		}
	}
}

// The id is made once, with private modes, and read back unchanged; racing
// makers agree on one id.
func TestEnsureNodeIDIsMadeOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "state")
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := EnsureNodeID(dir)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("racing makers disagree: %q", ids)
		}
	}
	if err := checkNodeID(ids[0]); err != nil {
		t.Fatalf("id %q: %v", ids[0], err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, NodeIDFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %#o, want %#o", path, fi.Mode().Perm(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d files, want only %s", len(entries), NodeIDFile)
	}
	again, err := EnsureNodeID(dir)
	if err != nil || again != ids[0] {
		t.Errorf("second EnsureNodeID = %q, %v; want %q", again, err, ids[0])
	}
	other, err := EnsureNodeID(t.TempDir())
	if err != nil || other == ids[0] {
		t.Errorf("another state dir got %q, %v", other, err)
	}
}

func TestNodeNameFromStateDir(t *testing.T) {
	c := Default()
	c.Node.StateDir = t.TempDir()
	n1, err := c.NodeName()
	if err != nil {
		t.Fatal(err)
	}
	id, err := ReadNodeID(c.Node.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if n1 != DefaultNodeName(host, id) {
		t.Errorf("NodeName = %q, want %q", n1, DefaultNodeName(host, id))
	}
	if _, err := checkName(n1); err != nil {
		t.Errorf("default name %q does not parse: %v", n1, err)
	}
	if n2, _ := c.NodeName(); n2 != n1 {
		t.Errorf("second NodeName %q, first %q", n2, n1)
	}
	c.Node.Name = "/x/y"
	if n, err := c.NodeName(); n != "/x/y" || err != nil {
		t.Errorf("configured NodeName = %q, %v", n, err)
	}

	// A state directory that cannot be made: the key and the reason.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c.Node.Name = ""
	c.Node.StateDir = filepath.Join(file, "state")
	if _, err := c.NodeName(); err == nil || !strings.Contains(err.Error(), "node.state_dir") || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("NodeName with an unusable state dir: %v", err)
	}
}
