// Checks of parseName against ndnd's own parser, encoding.NameFromStr.

package config

import (
	"fmt"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
)

// ndndParse calls enc.NameFromStr, turning its panics (it indexes s[0] of
// an empty type, as in "/=x") into errors.
func ndndParse(s string) (n enc.Name, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return enc.NameFromStr(s)
}

// checkAgainstNDND fails when parseName accepts s but ndnd rejects it or
// reads it as a different name.
func checkAgainstNDND(t *testing.T, s string) {
	t.Helper()
	ours, err := parseName(s)
	if err != nil {
		return
	}
	theirs, err := ndndParse(s)
	if err != nil {
		t.Fatalf("parseName accepts %q, ndnd rejects it: %v", s, err)
	}
	if len(ours) != len(theirs) {
		t.Fatalf("%q: %d components here, %d in ndnd", s, len(ours), len(theirs))
	}
	for i, c := range theirs {
		if uint64(c.Typ) != uint64(ours[i].typ) || string(c.Val) != ours[i].val {
			t.Fatalf("%q component %d: here %d=%x, ndnd %d=%x", s, i, ours[i].typ, ours[i].val, c.Typ, c.Val)
		}
	}
}

func TestNDNDAgreesWithParseName(t *testing.T) {
	for _, s := range []string{
		"/", "/ndn/svs", "/ndn/svs/", "/a%2Fb%20c", "/%00%ff", "/8=abc", "/32=kw", "/65535=x",
		"/v=3", "/seg=0", "/seg=256", "/off=65536", "/t=4294967296", "/seq=18446744073709551615",
		"/v=007", "/...%2E", "/a.b", "/A-z_0.9~", "/example/v=3/seg=0/32=keyword/%7Euser",
	} {
		checkAgainstNDND(t, s)
	}
}

func FuzzNDNDAgreesWithParseName(f *testing.F) {
	for _, s := range []string{"/", "/ndn/svs", "/a%2Fb", "/v=3/seg=0", "/32=x", "/8=%41", "/seq=1"} {
		f.Add(s)
	}
	f.Fuzz(checkAgainstNDND)
}
