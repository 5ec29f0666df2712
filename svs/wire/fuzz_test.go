package wire

import (
	"bytes"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// FuzzDecodeStateVector: the decoder never panics, and whatever it accepts
// re-encodes to bytes that decode to the same vector. DecodeContent agrees
// with it.
func FuzzDecodeStateVector(f *testing.F) {
	for _, label := range []string{"TV1", "TV2", "TV3", "TV4", "TV5", "TV6", "TV2-v2", "V2-unit", "MAPPING"} {
		f.Add(tv(f, label))
	}
	f.Add(append(tv(f, "TV1"), tv(f, "MAPPING")...))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeStateVector(b)
		cv, mapping, cerr := DecodeContent(b, 0)
		if err != nil {
			if v != nil {
				t.Fatalf("vector and error %v", err)
			}
			if cerr == nil && mapping == nil {
				t.Fatalf("DecodeContent accepts a bare vector that DecodeStateVector rejects (%v)", err)
			}
			return
		}
		if cerr != nil || mapping != nil || !sameVector(cv, v) {
			t.Fatalf("DecodeContent disagrees: %v, mapping %x", cerr, mapping)
		}
		re := EncodeStateVector(v)
		back, err := DecodeStateVector(re)
		if err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", re, err)
		}
		if !sameVector(back, v) {
			t.Fatalf("re-encoded vector %v, want %v", back.Entries(), v.Entries())
		}
	})
}

// FuzzDecodeSyncInterest: the decoder never panics, and whatever it
// accepts re-encodes to a Sync Interest that decodes to the same vector.
// Each input is tried twice: as a whole Interest, and as the Data inside a
// correctly digested /ndn/svs/v=3 Interest, so that the fuzzer reaches the
// Data and content parsers without having to forge SHA-256. The second
// codec has a Validator, which runs ndnd's Data parser on what we accept.
func FuzzDecodeSyncInterest(f *testing.F) {
	for _, label := range []string{"TV7a", "TV7b", "TV7c", "TV8"} {
		f.Add(tv(f, label))
	}
	f.Add(rawData(nv(f, "/ndn/svs/v=3"), nil, append(tv(f, "TV3"), tv(f, "MAPPING")...)))
	f.Add(rawData(nv(f, "/ndn/svs/v=1736266473000000"), nil, tv(f, "TV5")))
	plain, err := NewCodec(name(f, "/ndn/svs"), nil, Options{})
	if err != nil {
		f.Fatal(err)
	}
	checked, err := NewCodec(name(f, "/ndn/svs"), nil, Options{Validator: DigestSha256})
	if err != nil {
		f.Fatal(err)
	}
	syncName := nv(f, "/ndn/svs/v=3")
	// One vector reused across inputs, as the driver does, and dirty from
	// the seed corpus: decoding into it must give what a new one gets.
	reused := core.NewVector(entry(f, "/left/over", 1, 99), entry(f, "/zzz", 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		wrapped := rawInterest(syncName, stdMiddle, syncParams(b), nil)
		// A Data alone decodes exactly when it decodes wrapped, unless
		// something follows it (ignored inside ApplicationParameters).
		sd, derr := plain.ParseSyncData(b)
		wd, werr := plain.ParseSyncInterest(wrapped)
		if derr == nil && (werr != nil || !sameVector(sd.Vector, wd.Vector)) {
			t.Fatalf("ParseSyncData accepts what the wrapped Interest does not: %v", werr)
		}
		for _, in := range [][]byte{b, wrapped} {
			si, err := plain.ParseSyncInterest(in)
			_, cerr := checked.ParseSyncInterest(in)
			into, ierr := plain.ParseSyncInterestInto(in, reused)
			if (err == nil) != (ierr == nil) || (err == nil && (into.Vector != reused || !sameVector(into.Vector, si.Vector))) {
				t.Fatalf("ParseSyncInterestInto disagrees: %v against %v", ierr, err)
			}
			if err != nil {
				if si.Vector != nil {
					t.Fatalf("vector and error %v", err)
				}
				if cerr == nil {
					t.Fatalf("the validating codec accepts what the plain one rejects: %v", err)
				}
				continue
			}
			re, err := plain.EncodeSyncInterest(si.Vector, 1)
			if err != nil {
				t.Fatalf("re-encoding %v: %v", si.Vector.Entries(), err)
			}
			back, err := checked.DecodeSyncInterest(re)
			if err != nil {
				t.Fatalf("re-encoded %x does not decode: %v", re, err)
			}
			if !sameVector(back, si.Vector) {
				t.Fatalf("re-encoded vector %v, want %v", back.Entries(), si.Vector.Entries())
			}
			if si.Mapping != nil && !bytes.Contains(in, si.Mapping) {
				t.Fatalf("Mapping does not alias the input")
			}
		}
	})
}

// FuzzCoreToName: CoreToName never panics, and what it accepts converts
// back to the same bytes; a publication name built from it parses back.
func FuzzCoreToName(f *testing.F) {
	f.Add([]byte("\x08\x01A"))
	f.Add(tv(f, "NAME-pub")[2:])
	f.Add(tv(f, "NAME-pub-seg")[2:])
	f.Add([]byte("\xfd\x01\x00\x00"))
	group := name(f, "/some/group")
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := CoreToName(core.Name(b))
		if err != nil {
			return
		}
		if back := NameToCore(n); string(back) != string(b) {
			t.Fatalf("NameToCore(CoreToName(%x)) = %x", b, back)
		}
		if len(n) == 0 {
			return
		}
		node, boot, seq, err := ParsePublicationName(PublicationName(n, group, 7, 9), group)
		if err != nil || !node.Equal(n) || boot != 7 || seq != 9 {
			t.Fatalf("publication name of %s: %s %d %d %v", n, node, boot, seq, err)
		}
		_, _, _, _ = ParsePublicationName(n, group) // must not panic
	})
}
