package lvs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// goldens are (text, binary) pairs compiled by python-ndn: those that ship with ndnd v1.5.3
// and NDNts's fixtures (see testdata/README.md).
var goldens = []struct{ src, bin string }{
	{"trust_config_test.lvs", "trust_config_test.tlv"},
	{"lvs_test_model.lvs", "lvs_test_model.tlv"},
	{"lvs_test_model_complex.lvs", "lvs_test_model_complex.tlv"},
	{"dv_schema.trust", "dv_schema.tlv"},
	// NDNts's fixtures, also compiled by python-ndn.
	{"ndnts_pyndn0.rs", "ndnts_pyndn0.tlv"},
	{"ndnts_pyndn1.rs", "ndnts_pyndn1.tlv"},
	{"ndnts_pyndn2.rs", "ndnts_pyndn2.tlv"},
	{"ndnts_pyndn3.rs", "ndnts_pyndn3.tlv"},
	{"ndnts_pyndn4.rs", "ndnts_pyndn4.tlv"},
	{"ndnts_pyndn5.rs", "ndnts_pyndn5.tlv"},
	{"ndnts_tutorial.rs", "ndnts_tutorial.tlv"},
}

// usesFn lists the goldens with user functions, which Load must refuse.
var usesFn = map[string]bool{"ndnts_pyndn2.rs": true, "ndnts_pyndn3.rs": true, "ndnts_tutorial.rs": true}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCompileMatchesPythonNdn(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.src, func(t *testing.T) {
			want := readTestdata(t, g.bin)
			got, err := Compile(string(readTestdata(t, g.src)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Fatalf("compiled model differs from python-ndn's at byte %d (len %d, want %d)\ngot  % x\nwant % x",
					i, len(got), len(want), got[i:min(i+32, len(got))], want[i:min(i+32, len(want))])
			}
		})
	}
}
