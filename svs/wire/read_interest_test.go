package wire

import (
	"bytes"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
)

// ReadInterest reads the name and CanBePrefix that ndnd's parser reads,
// for Interests of ndnd's encoder with every optional element, and refuses
// what is not one whole Interest.
func TestReadInterestIsTheParse(t *testing.T) {
	hop := byte(7)
	names := []string{"/g", "/bench/pub/node-7/t=1732800000/seq=42/v=0/seg=3", "/a/b/c/d/e/f"}
	cfgs := []*ndn.InterestConfig{
		{},
		{CanBePrefix: true},
		{CanBePrefix: true, MustBeFresh: true, Lifetime: optional.Some(4 * time.Second), Nonce: optional.Some(uint32(9))},
		{MustBeFresh: true, HopLimit: &hop},
		{ForwardingHint: []enc.Name{name(t, "/hint")}, Lifetime: optional.Some(time.Millisecond)},
	}
	n := 0
	for _, ns := range names {
		for _, cfg := range cfgs {
			for _, params := range []enc.Wire{nil, {[]byte("params")}} {
				for _, signer := range []ndn.Signer{nil, sig.NewSha256Signer()} {
					if params == nil && signer != nil {
						continue // a signed Interest has parameters
					}
					intr, err := spec.Spec{}.MakeInterest(name(t, ns), cfg, params, signer)
					if err != nil {
						t.Fatal(err)
					}
					b := intr.Wire.Join()
					want, _, err := ndnpkt.Interest(b)
					if err != nil {
						t.Fatal(err)
					}
					got, cbp, err := ReadInterest(b)
					if err != nil {
						t.Fatalf("%s %+v: %v", ns, cfg, err)
					}
					if !got.Equal(want.Name()) || cbp != want.CanBePrefix() {
						t.Errorf("%s %+v: read %s %v, parsed %s %v", ns, cfg, got, cbp, want.Name(), want.CanBePrefix())
					}
					n++
				}
			}
		}
	}
	intr, err := spec.Spec{}.MakeInterest(name(t, "/g/x"), &ndn.InterestConfig{CanBePrefix: true}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := intr.Wire.Join()
	for what, bad := range map[string][]byte{
		"truncated":      b[:len(b)-1],
		"trailing bytes": append(bytes.Clone(b), 0),
		"a Data":         {0x06, 0x03, 0x07, 0x01, 0x08},
		"no Name":        {0x05, 0x02, 0x21, 0x00},
		"empty":          nil,
	} {
		if _, _, err := ReadInterest(bad); err == nil {
			t.Errorf("%s: read", what)
		}
	}
	t.Logf("%d Interests read as parsed", n)
}

// On any bytes ReadInterest never panics, and an Interest it reads ndnd's
// parser reads with the same name and CanBePrefix, when it reads it.
func FuzzReadInterest(f *testing.F) {
	for _, cfg := range []*ndn.InterestConfig{{}, {CanBePrefix: true, Lifetime: optional.Some(time.Second)}} {
		intr, err := spec.Spec{}.MakeInterest(name(f, "/g/n/t=1/seq=2/v=0/seg=0"), cfg, nil, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(intr.Wire.Join())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, cbp, err := ReadInterest(b)
		if err != nil {
			return
		}
		want, _, err := ndnpkt.Interest(b)
		if err != nil {
			return // ndnd refuses more (e.g. a parameters digest that does not match)
		}
		if !got.Equal(want.Name()) {
			t.Fatalf("read %s, parsed %s", got, want.Name())
		}
		// ndnd's parser misreads the elements that follow an unknown one
		// (TestReadInterestSkipsUnknownElements): CanBePrefix is
		// compared only without one.
		if !hasUnknownElement(b) && cbp != want.CanBePrefix() {
			t.Fatalf("CanBePrefix: read %v, parsed %v", cbp, want.CanBePrefix())
		}
	})
}

// hasUnknownElement says whether the Interest b, which ReadInterest read,
// holds an element of a type the packet format does not define for it.
func hasUnknownElement(b []byte) bool {
	_, vs, ve, _ := element(b, 0, len(b))
	for i := vs; i < ve; {
		typ, _, ee, _ := element(b, i, ve)
		if interestRank(typ) == 0 {
			return true
		}
		i = ee
	}
	return false
}

// An unknown non-critical element is skipped, as the packet format says,
// and the elements after it are read: CanBePrefix after one counts.
// ndnd v1.5.3's parser (ndnpkt.Interest) reads CanBePrefix as unset there,
// and fails on an InterestLifetime that follows one; FuzzReadInterest
// found the first (testdata/fuzz/FuzzReadInterest).
func TestReadInterestSkipsUnknownElements(t *testing.T) {
	name := []byte{0x07, 0x03, 0x08, 0x01, 'a'}
	for what, c := range map[string]struct {
		els [][]byte
		cbp bool
	}{
		"unknown, CanBePrefix":          {[][]byte{name, {0x30, 0x00}, {0x21, 0x00}}, true},
		"CanBePrefix, unknown":          {[][]byte{name, {0x21, 0x00}, {0x30, 0x00}}, true},
		"Nonce, unknown, lifetime":      {[][]byte{name, {0x0a, 4, 1, 2, 3, 4}, {0x30, 0}, {0x0c, 1, 5}}, false},
		"unknown, MustBeFresh":          {[][]byte{name, {0x30, 0x00}, {0x12, 0x00}}, false},
		"unknown of 3-byte type, Nonce": {[][]byte{name, {0xfd, 0x01, 0x00, 0x01, 0x00}, {0x0a, 4, 1, 2, 3, 4}}, false},
	} {
		var v []byte
		for _, e := range c.els {
			v = append(v, e...)
		}
		got, cbp, err := ReadInterest(append([]byte{0x05, byte(len(v))}, v...))
		if err != nil || got.String() != "/a" || cbp != c.cbp {
			t.Errorf("%s: %s %v %v, want /a %v", what, got, cbp, err, c.cbp)
		}
	}
	// A critical unknown element is refused.
	if _, _, err := ReadInterest([]byte{0x05, 0x07, 0x07, 0x03, 0x08, 0x01, 'a', 0x31, 0x00}); err == nil {
		t.Error("an unknown critical element was read")
	}
}
