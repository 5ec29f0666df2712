package svs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
)

// encodeSegments writes what ndnd's MakeData writes (makeSegments),
// byte for byte, for every signer whose signature is deterministic, at
// sizes around the segment boundaries and names with long components;
// ECDSA's signatures are random and of varying length, so its segments are
// compared as ndnd parses them, and their signatures checked.
func TestEncodeSegmentsIsMakeData(t *testing.T) {
	key, err := enc.NameFromStr("/key/owner/KEY/%01%02")
	if err != nil {
		t.Fatal(err)
	}
	ed, err := sig.KeygenEd25519(key)
	if err != nil {
		t.Fatal(err)
	}
	ecc, err := sig.KeygenEcc(key, elliptic.P256())
	if err != nil {
		t.Fatal(err)
	}
	deterministic := map[string]ndn.Signer{
		"sha256":  sig.NewSha256Signer(),
		"ed25519": ed,
		"hmac":    sig.NewHmacSigner([]byte("secret")),
	}
	// ndnd v1.5.3 writes a component's TLV-LENGTH as a NonNegativeInteger
	// (enc.Component.EncodeInto), wrong from 253 bytes on: 252 is the
	// longest component either encoder can name.
	long := string(bytes.Repeat([]byte("n"), 252))
	bases := []string{"/g/n/t=1700000000/seq=1/v=0", "/bench/pub/bench/node/3/t=1700000000000000/seq=4294967296/v=0", "/" + long + "/x/t=1/seq=70000/v=0"}
	r := rand.New(rand.NewPCG(5, 6))
	sizes := []int{0, 1, 100, SegmentSize - 1, SegmentSize, SegmentSize + 1, 3*SegmentSize + 17, 64 << 10, 300 * SegmentSize}
	for _, b := range bases {
		base, err := enc.NameFromStr(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range sizes {
			payload := make([]byte, n)
			for i := range payload {
				payload[i] = byte(r.Uint32())
			}
			last := 0
			if n > 0 {
				last = (n - 1) / SegmentSize
			}
			// both encodes the payload both ways, as many segments each.
			both := func(label string, s ndn.Signer) (got, want [][]byte) {
				t.Helper()
				got, err := encodeSegments(base, payload, s)
				if err != nil {
					t.Fatal(err)
				}
				want, err = makeSegments(base, payload, last, s)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%s %s %d B: %d segments, want %d", label, b, n, len(got), len(want))
				}
				return got, want
			}
			for label, s := range deterministic {
				got, want := both(label, s)
				for i := range got {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("%s %s %d B segment %d:\n got %x\nwant %x", label, b, n, i, got[i][:min(80, len(got[i]))], want[i][:min(80, len(want[i]))])
					}
				}
			}
			got, want := both("ecc", ecc)
			for i := range got {
				g, err := describeSegment(got[i], ecc)
				if err != nil {
					t.Fatalf("ecc %s %d B segment %d: %v", b, n, i, err)
				}
				w, err := describeSegment(want[i], ecc)
				if err != nil {
					t.Fatalf("ecc %s %d B segment %d of MakeData: %v", b, n, i, err)
				}
				if g != w {
					t.Fatalf("ecc %s %d B segment %d: %s, want %s", b, n, i, g, w)
				}
			}
		}
	}
}

// describeSegment parses an ECDSA-signed Data with ndnd's decoder, checks
// its signature with the signer's public key, and returns what it holds
// but the signature.
func describeSegment(b []byte, s ndn.Signer) (string, error) {
	p, ctx, err := spec.ReadPacket(enc.NewBufferView(b))
	if err != nil || p.Data == nil {
		return "", fmt.Errorf("not a Data: %v", err)
	}
	d := p.Data
	der, err := s.Public()
	if err != nil {
		return "", err
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256(ctx.Data_context.SigCovered().Join())
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], d.Signature().SigValue()) {
		return "", fmt.Errorf("signature of %s does not verify", d.Name())
	}
	fb, _ := d.FinalBlockID().Get()
	fr, _ := d.Freshness().Get()
	ct, _ := d.ContentType().Get()
	return fmt.Sprintf("%s ct=%d fresh=%v final=%s content=%x type=%d key=%s",
		d.Name(), ct, fr, fb, d.Content().Join(), d.Signature().SigType(), d.Signature().KeyName()), nil
}

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
