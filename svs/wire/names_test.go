package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// The publication name of testdata/vectors.txt's example, "/node/a/some/group/t=1784322744/seq=7".
func TestPublicationNameVector(t *testing.T) {
	got := PublicationName(name(t, "/node/a"), name(t, "/some/group"), 1784322744, 7)
	if want := tv(t, "NAME-pub"); !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("PublicationName = %x, want %x", got.Bytes(), want)
	}
	if s := got.String(); s != "/node/a/some/group/t=1784322744/seq=7" {
		t.Errorf("String() = %s", s)
	}
	node, boot, seq, err := ParsePublicationName(got, name(t, "/some/group"))
	if err != nil || !node.Equal(name(t, "/node/a")) || boot != 1784322744 || seq != 7 {
		t.Errorf("ParsePublicationName = %s %d %d %v", node, boot, seq, err)
	}
}

func TestPublicationNameRoundTrip(t *testing.T) {
	group := name(t, "/g/h")
	for _, c := range []struct {
		node      string
		boot, seq uint64
	}{
		{"/n", 0, 0},
		{"/a/b/c", 1, 255},
		{"/x", 1 << 32, 1 << 16},
		{"/g/h", 1<<64 - 1, 1<<64 - 1}, // a node named like the group
	} {
		n := PublicationName(name(t, c.node), group, c.boot, c.seq)
		node, boot, seq, err := ParsePublicationName(n, group)
		if err != nil || !node.Equal(name(t, c.node)) || boot != c.boot || seq != c.seq {
			t.Errorf("%s: got %s %d %d %v", n, node, boot, seq, err)
		}
	}
}

func TestParsePublicationNameRejects(t *testing.T) {
	group := name(t, "/some/group")
	for _, uri := range []string{
		"/some/group/t=1/seq=7",                    // no node
		"/node/other/group/t=1/seq=7",              // wrong group
		"/node/some/group/seq=7",                   // no t=
		"/node/some/group/t=1",                     // no seq=
		"/node/some/group/t=1/7",                   // generic seq
		"/node/some/group/1/seq=7",                 // generic boot
		"/node/some/group/seq=7/t=1",               // swapped
		"/node/some/group/t=1/seq=7/v=0/seg=0",     // SVS-PS segment name: not a bare publication
		"/node/some/group/t=1/MAPPING/seq=2/seq=7", // mapping query
	} {
		if _, _, _, err := ParsePublicationName(name(t, uri), group); !errors.Is(err, ErrWrongName) {
			t.Errorf("%s: err = %v, want ErrWrongName", uri, err)
		}
	}
	// A 3-byte t= value is not a NonNegativeInteger.
	bad := name(t, "/node/some/group/t=1/seq=7")
	bad[len(bad)-2].Val = []byte{0, 0, 1}
	if _, _, _, err := ParsePublicationName(bad, group); !errors.Is(err, ErrWrongName) {
		t.Errorf("3-byte t=: err = %v", err)
	}
}

func TestNameConversions(t *testing.T) {
	for _, uri := range []string{"/", "/A", "/ndn/svs/v=3", "/node/a/t=1784322744/seq=7", "/32=svs/%00%FF", "/params-sha256=e5234a2de23ef8104a8a50123cdbf290969dbe1be203ececf499633ce138ab0d"} {
		n := name(t, uri)
		c := NameToCore(n)
		if want := n.BytesInner(); string(c) != string(want) {
			t.Errorf("NameToCore(%s) = %x, want %x", uri, c, want)
		}
		back, err := CoreToName(c)
		if err != nil || !back.Equal(n) {
			t.Errorf("CoreToName(NameToCore(%s)) = %s, %v", uri, back, err)
		}
	}
	// CoreToName checks the bytes.
	for _, bad := range []core.Name{"\x08\x05A", "\x00\x01A", "\x02\x01A", "\x08", "\xfd\x00\x08\x01A"} {
		if _, err := CoreToName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("CoreToName(%x): err = %v, want ErrInvalidName", bad, err)
		}
	}
	// Canonical order of core names agrees with ndnd's.
	names := []string{"/ndn", "/ndn/b", "/ndn/z", "/ndn/aa", "/ndn/v=3", "/a", "/32=x", "/"}
	for _, a := range names {
		for _, b := range names {
			want := name(t, a).Compare(name(t, b))
			if got := core.CompareNames(cname(t, a), cname(t, b)); sign(got) != sign(want) {
				t.Errorf("CompareNames(%s, %s) = %d, ndnd says %d", a, b, got, want)
			}
		}
	}
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}
