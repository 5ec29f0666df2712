package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// groupKeys makes an anchor /g and members /g/m/alice (Ed25519) and
// /g/guest/eve (signed by the anchor, outside testdata/group.lvs) with
// keygen, in dir.
func groupKeys(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{
		{"keygen", "-o", dir, "/g"},
		{"keygen", "-o", dir, "-issuer", filepath.Join(dir, "g.key"), "/g/m/alice"},
		{"keygen", "-o", dir, "-issuer", filepath.Join(dir, "g.key"), "/g/guest/eve"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitOK {
			t.Fatalf("%v: %s", args, errb.String())
		}
	}
}

// securedConfig is a node named name in group /g with no listener, signing
// with signer and the key files of id, under the schema file schema.
func securedConfig(t *testing.T, dir, name, signer, id, schema string) string {
	t.Helper()
	toml := fmt.Sprintf(`[node]
name = %q
state_dir = %q
[faces.unix]
enabled = false
[faces.udp]
enabled = false
[faces.multicast]
enabled = false
[metrics]
enabled = false
[[group]]
prefix = "/g"
cache = true
[security]
signer = %q
keys = [%q, %q]
anchors = [%q]
schema = %q
`, name, filepath.Join(dir, "state"), signer, filepath.Join(dir, id+".key"), filepath.Join(dir, id+".cert"),
		filepath.Join(dir, "g.cert"), schema)
	path := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+signer+".toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// check and run refuse a node whose key the schema does not allow, or
// whose files do not hold what [security] says, naming the file and the
// reason; a good one passes check.
func TestCheckSecurity(t *testing.T) {
	dir := t.TempDir()
	groupKeys(t, dir)
	fnSchema := filepath.Join(dir, "fn.lvs")
	if err := os.WriteFile(fnSchema, []byte(`#x: "g"/a & {a: $fn()}`), 0o600); err != nil {
		t.Fatal(err)
	}
	noHealth := filepath.Join(dir, "nohealth.lvs")
	full, err := os.ReadFile(filepath.Join("testdata", "group.lvs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(noHealth, []byte(strings.Split(string(full), "// The heartbeat")[0]), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, node, signer, id, schema string
		want                           []string // "" for OK
	}{
		{"member", "/g/m/alice", "ed25519", "g-m-alice", "group.lvs", nil},
		{"key outside the schema", "/g/guest/eve", "ed25519", "g-guest-eve", "group.lvs",
			[]string{"security:", "g-guest-eve.cert", "the schema does not let"}},
		{"another node's name", "/g/m/mallory", "ed25519", "g-m-alice", "group.lvs",
			[]string{"group /g publications", "/g/g/m/mallory"}},
		{"wrong key type", "/g/m/alice", "ecdsa", "g-m-alice", "group.lvs",
			[]string{"g-m-alice.key", "is Ed25519"}},
		{"health without a rule", "/g/m/alice", "ed25519", "g-m-alice", noHealth,
			[]string{"health.enabled", "/g/health", "disable health"}},
		{"schema with a user function", "/g/m/alice", "ed25519", "g-m-alice", fnSchema,
			[]string{"security.schema", "fn.lvs", "user functions are not supported"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			schema := tt.schema
			if !filepath.IsAbs(schema) {
				var err error
				if schema, err = filepath.Abs(filepath.Join("testdata", schema)); err != nil {
					t.Fatal(err)
				}
			}
			cfg := securedConfig(t, dir, tt.node, tt.signer, tt.id, schema)
			for _, cmd := range []string{"check", "run"} {
				if cmd == "run" && tt.want == nil {
					continue // a good config would start a node
				}
				var out, errb bytes.Buffer
				code := run([]string{cmd, "--config", cfg}, &out, &errb)
				if tt.want == nil {
					if code != exitOK {
						t.Fatalf("%s: exit %d: %s", cmd, code, errb.String())
					}
					continue
				}
				if code != exitUsage {
					t.Errorf("%s: exit %d, want %d (stderr %q)", cmd, code, exitUsage, errb.String())
				}
				for _, w := range tt.want {
					if !strings.Contains(errb.String(), w) {
						t.Errorf("%s: stderr %q lacks %q", cmd, errb.String(), w)
					}
				}
			}
		})
	}
}
