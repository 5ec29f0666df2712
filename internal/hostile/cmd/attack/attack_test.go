package main

import (
	"bytes"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// The flood is of valid SVS v3 Sync Interests, each naming its fake member:
// a node that drops it as malformed is not being tested.
func TestSyncFloodInterestsAreValid(t *testing.T) {
	p, err := encodeSync("/ndn/svs", "/hostile/fake/1/ab", 1_800_000_000, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := enc.NameFromStr("/ndn/svs")
	c, err := wire.NewCodec(g, nil, wire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.DecodeSyncInterest(p)
	if err != nil {
		t.Fatalf("the flood's Sync Interest does not decode: %v", err)
	}
	m, _ := enc.NameFromStr("/hostile/fake/1/ab")
	if got := v.Get(wire.NameToCore(m), 1_800_000_000); got != 1 || v.Len() != 1 {
		t.Fatalf("vector %v: want the fake member alone at seq 1", v.Entries())
	}
}

func TestEncodings(t *testing.T) {
	if want := []byte{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00}; !bytes.Equal(len263, want) {
		t.Errorf("len263 = % x, want the issue's % x", len263, want)
	}
	got := lpFrag(0x0102030405060708, 0, 2_000_000, []byte{0xAA})
	want := []byte{
		0x64, 0x16,
		0x51, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, // Sequence
		0x52, 0x01, 0x00, // FragIndex
		0x53, 0x04, 0x00, 0x1E, 0x84, 0x80, // FragCount 2,000,000
		0x50, 0x01, 0xAA, // Fragment
	}
	if !bytes.Equal(got, want) {
		t.Errorf("lpFrag = % x, want % x", got, want)
	}
	if got := varNum(nil, 1<<62); !bytes.Equal(got, []byte{0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("varNum(2^62) = % x", got)
	}
}
