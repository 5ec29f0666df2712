package security

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/named-data/ndnd/std/ndn"
)

// world is a group /g with a root anchor and members, their files in a
// temporary directory, and a fake clock.
type world struct {
	dir     string
	clock   *fakeClock
	root    ndn.Signer
	rootPEM []byte
	rootRaw []byte
	anchor  string // the root certificate's file
}

// t0 is the fake clock's start: whole seconds, since a ValidityPeriod
// has a resolution of one second.
var t0 = time.Now().UTC().Truncate(time.Second)

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{dir: t.TempDir(), clock: &fakeClock{now: t0}}
	w.root = key(t, "ed25519", "/g")
	rc := selfSign(t, w.root, t0.Add(-time.Hour), t0.Add(365*24*time.Hour))
	w.rootRaw = rc
	w.rootPEM = pemOf(t, rc)
	w.anchor = writeFile(t, w.dir, "root.cert", w.rootPEM)
	return w
}

// member makes a member's key of type typ and its certificate issued by
// the root, writes both in one file and returns the file and the key.
func (w *world) member(t testing.TB, typ, id string) (string, ndn.Signer) {
	t.Helper()
	k := key(t, typ, id)
	c := issue(t, k, w.root, t0.Add(-time.Hour), t0.Add(30*24*time.Hour))
	f := writeFile(t, w.dir, typ+strings.ReplaceAll(id, "/", "_")+".pem", secretPEM(t, k), pemOf(t, c))
	return f, k
}

// config is a chain Config for the member in file.
func (w *world) config(t testing.TB, typ, file string) Config {
	return Config{
		Signer:   typ,
		KeyFiles: []string{file},
		Anchors:  []string{w.anchor},
		Schema:   testSchema(t),
		Clock:    w.clock.Now,
	}
}

// tlv finds the element reached by the path of TLV types from the start
// of b and returns the bounds of its value.
func tlv(t testing.TB, b []byte, path ...uint64) (int, int) {
	t.Helper()
	start, end := 0, len(b)
	for _, want := range path {
		i := start
		found := false
		for i < end {
			typ, n := varNum(b[i:])
			i += n
			l, n := varNum(b[i:])
			i += n
			if typ == want {
				start, end, found = i, i+int(l), true
				break
			}
			i += int(l)
		}
		if !found {
			t.Fatalf("no TLV %#x in path %v", want, path)
		}
	}
	return start, end
}

func varNum(b []byte) (uint64, int) {
	switch b[0] {
	case 0xfd:
		return uint64(binary.BigEndian.Uint16(b[1:])), 3
	case 0xfe:
		return uint64(binary.BigEndian.Uint32(b[1:])), 5
	}
	return uint64(b[0]), 1
}
