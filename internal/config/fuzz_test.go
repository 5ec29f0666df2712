package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	toml "github.com/pelletier/go-toml/v2"
)

// FuzzParse checks that no input makes Parse panic, that every error is a
// *Error matching ErrInvalid, and that any configuration Parse accepts
// validates again and survives being written back as TOML.
func FuzzParse(f *testing.F) {
	for _, name := range []string{filepath.Join("..", "..", "config.toml.example"), filepath.Join("testdata", "full.toml")} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"[log]\nlevel = \"debug\"\n",
		"[faces.udp]\nlisten = [\"1.2.3.4:99999\"]\nlifetime = 600\n",
		"group = [{prefix = \"/a\"}, {prefix = \"/a/\"}]\n",
		"[[neighbor]]\nuri = \"udp6://[fe80::1%eth0]:6363\"\nprefixes = [\"/\", \"/v=1\"]\n",
		"[[strategy]]\nprefix = \"/=x\"\nname = \"multicast\"\n",
		"a.b.c = 1\n[x]\n[[y]]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.toml")
		if err != nil {
			for _, p := range problemsOf(t, err) {
				if p.Reason == "" {
					t.Fatalf("problem without a reason: %+v", p)
				}
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Fatal("Parse returned a Config with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that does not validate: %v", err)
		}
		out, err := toml.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := Parse(out, "marshalled")
		if err != nil {
			t.Fatalf("Parse(Marshal(c)): %v\n%s", err, out)
		}
		if !sameConfig(again, c) {
			t.Fatalf("round trip changed the config\n got: %+v\nwant: %+v", again, c)
		}
	})
}

// FuzzParseName checks that no string makes parseName panic, and that an
// accepted name has a key that its canonical spelling reproduces.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"/", "/ndn/svs", "/a%2Fb", "/v=3/seg=0", "/32=x", "/=", "/a//", "/%", "/...", "/65536=a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseName(s)
		if err != nil {
			return
		}
		back, err := parseName(n.uri())
		if err != nil {
			t.Fatalf("canonical URI %q of %q does not parse: %v", n.uri(), s, err)
		}
		if back.key() != n.key() {
			t.Fatalf("%q and its canonical URI %q differ", s, n.uri())
		}
	})
}
