package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestValidateSecurity(t *testing.T) {
	keyed := func(c *Config) {
		c.Security = Security{Signer: "ed25519", Keys: []string{"a.key", "a.cert"}, Anchors: []string{"root.cert"}, Schema: "g.lvs"}
	}
	runValidateCases(t, []validateCase{
		{"none", func(c *Config) {}, "", ""},
		{"digest", func(c *Config) { c.Security.Signer = "digest" }, "", ""},
		{"hmac", func(c *Config) { c.Security = Security{Signer: "hmac", HMACKeyFile: "g.hmac"} }, "", ""},
		{"ed25519", keyed, "", ""},
		{"ecdsa with key name", func(c *Config) { keyed(c); c.Security.Signer = "ecdsa"; c.Security.Key = "/g/alice/KEY/%01" }, "", ""},
		{"unknown signer", func(c *Config) { c.Security.Signer = "sha1" }, "security.signer", `"sha1": want one of`},
		{"keyed without keys", func(c *Config) { keyed(c); c.Security.Keys = nil }, "security.keys", "needs the node's key"},
		{"keyed without anchors", func(c *Config) { keyed(c); c.Security.Anchors = nil }, "security.anchors", "at least one trust anchor"},
		{"keyed without schema", func(c *Config) { keyed(c); c.Security.Schema = "" }, "security.schema", "needs a trust schema"},
		{"keyed with hmac file", func(c *Config) { keyed(c); c.Security.HMACKeyFile = "g.hmac" }, "security.hmac_key_file", "does not use it"},
		{"hmac without file", func(c *Config) { c.Security.Signer = "hmac" }, "security.hmac_key_file", "needs the group's key file"},
		{"digest with anchors", func(c *Config) { c.Security = Security{Signer: "digest", Anchors: []string{"r.cert"}} }, "security.anchors", `set with signer "digest"`},
		{"none with schema", func(c *Config) { c.Security.Schema = "g.lvs" }, "security.schema", `set with signer ""`},
		{"empty key path", func(c *Config) { keyed(c); c.Security.Keys = []string{"a.key", ""} }, "security.keys[1]", "empty path"},
		{"bad key name", func(c *Config) { keyed(c); c.Security.Key = "no-slash" }, "security.key", `"no-slash"`},
		{"bad cert prefix", func(c *Config) { keyed(c); c.Security.CertPrefixes = []string{"x"} }, "security.cert_prefixes[0]", `"x"`},
	})
}

func TestPreflightSecurity(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.hmac", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n") // 32 bytes
	short := write("short.hmac", "c2hvcnQ=\n")                                   // "short"
	notB64 := write("text.hmac", "this is not base64!\n")
	missing := filepath.Join(dir, "missing.cert")
	for _, tt := range []struct {
		name   string
		s      Security
		key    string
		reason string
	}{
		{"hmac good", Security{Signer: "hmac", HMACKeyFile: good}, "", ""},
		{"hmac short", Security{Signer: "hmac", HMACKeyFile: short}, "security.hmac_key_file", "5 bytes, under 16"},
		{"hmac not base64", Security{Signer: "hmac", HMACKeyFile: notB64}, "security.hmac_key_file", "not one line of base64"},
		{"hmac missing", Security{Signer: "hmac", HMACKeyFile: missing}, "security.hmac_key_file", "no such file"},
		{"anchor missing", Security{Signer: "ed25519", Keys: []string{good}, Anchors: []string{missing}, Schema: good}, "security.anchors", "missing.cert"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Faces.Unix.Enabled, c.Faces.UDP.Enabled, c.Faces.Multicast.Enabled, c.Metrics.Enabled = false, false, false, false
			c.Node.Name = "/n"
			c.Security = tt.s
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			err := c.Preflight()
			if tt.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantProblem(t, err, tt.key, tt.reason)
		})
	}
}
