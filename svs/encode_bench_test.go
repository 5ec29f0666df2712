package svs

import (
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	sig "github.com/named-data/ndnd/std/security/signer"
)

// BenchmarkEncodeSegments64KiB: what Publish spends encoding and signing
// a 64 KiB publication (DigestSha256) before it can announce it; the
// Makedata variant is ndnd's encoder, as it was.
func BenchmarkEncodeSegments64KiB(b *testing.B) {
	base, err := enc.NameFromStr("/bench/pub/bench/node/3/t=1700000000/seq=7/v=0")
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 64<<10)
	signer := sig.NewSha256Signer()
	for _, v := range []struct {
		name string
		f    func() ([][]byte, error)
	}{
		{"ours", func() ([][]byte, error) { return encodeSegments(base, payload, signer) }},
		{"MakeData", func() ([][]byte, error) { return makeSegments(base, payload, len(payload)/SegmentSize, signer) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
