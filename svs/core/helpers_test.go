package core

import (
	"testing"
)

// nm builds a one-component name TLV-VALUE (GenericNameComponent) from s.
func nm(s string) Name {
	return Name(append([]byte{0x08, byte(len(s))}, s...))
}

// vec builds a vector from (node, boot, seq) triples given as Entry values.
func vec(es ...Entry) *Vector { return NewVector(es...) }

func en(node string, boot, seq uint64) Entry { return Entry{Node: nm(node), Boot: boot, Seq: seq} }

func mustEqual(t *testing.T, what string, got, want *Vector) {
	t.Helper()
	if !Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got.Entries(), want.Entries())
	}
}
