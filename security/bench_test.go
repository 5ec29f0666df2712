package security

import (
	"bytes"
	"testing"

	"github.com/named-data/ndnd/std/security/signer"
)

// BenchmarkValidate: one State Vector Data per iteration, signer's
// certificate cached (the steady state), parse excluded. The ndnd/*
// cases do what ndnd's TrustConfig does per packet on a cache hit
// (schema Check, then signer.ValidateData, which parses the SPKI public
// key every time), for comparison.
func BenchmarkValidate(b *testing.B) {
	w := newWorld(b)
	for _, typ := range []string{"digest", "hmac", "ed25519", "ecdsa", "rsa"} {
		var cfg Config
		switch typ {
		case "digest":
		case "hmac":
			cfg = Config{Signer: "hmac", HMACKey: bytes.Repeat([]byte{1}, 32)}
		default:
			f, _ := w.member(b, typ, "/g/alice")
			cfg = w.config(b, typ, f)
		}
		tr, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		name := mustName(b, "/g/v=3")
		s, err := tr.Signer(name)
		if err != nil {
			b.Fatal(err)
		}
		raw := makeData(b, name, bytes.Repeat([]byte{0xca}, 200), s)
		data, cov := parse(b, raw)
		b.Run(typ, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tr.Validate(data, cov); err != nil {
					b.Fatal(err)
				}
			}
		})
		if tr.Mode() != ModeChain {
			continue
		}
		certData, _ := parse(b, tr.OwnChain()[0])
		schema := cfg.Schema
		b.Run("ndnd/"+typ, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !schema.Check(stripName(data.Name()), certData.Name()) {
					b.Fatal("schema")
				}
				if ok, err := signer.ValidateData(data, cov, certData); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
