package core_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// VectorSize is the length of what svs/wire encodes, for vectors that
// cross every length-field width (names and entries over 252 bytes,
// vectors over 64 KiB) and every NonNegativeInteger width.
func TestVectorSizeMatchesWire(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	ints := []uint64{1, 255, 256, 65535, 65536, 1 << 32, 1<<64 - 1}
	for i := range 300 {
		v := &core.Vector{}
		n := r.IntN(40)
		if i%100 == 0 {
			n = 1000 // about 170 KB: three-byte and five-byte lengths
		}
		for range n {
			name := fmt.Sprintf("%0*d", 1+r.IntN(300), r.IntN(1000))
			node := core.Name(append(appendVarNum([]byte{0x08}, len(name)), name...))
			v.Set(node, ints[r.IntN(len(ints))], ints[r.IntN(len(ints))])
		}
		if got, want := core.VectorSize(v), len(wire.EncodeStateVector(v)); got != want {
			t.Fatalf("vector %d (%d pairs): VectorSize %d, encoded %d", i, v.Len(), got, want)
		}
	}
	if core.VectorSize(nil) != 2 {
		t.Fatalf("VectorSize(nil) = %d", core.VectorSize(nil))
	}
}

func appendVarNum(b []byte, n int) []byte {
	if n < 253 {
		return append(b, byte(n))
	}
	return append(b, 0xFD, byte(n>>8), byte(n))
}
