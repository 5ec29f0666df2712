package wire

import (
	"bytes"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	spec_svs "github.com/named-data/ndnd/std/ndn/svs/v3"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

func newCodec(tb testing.TB, group string, s Signer, opts Options) *Codec {
	tb.Helper()
	c, err := NewCodec(name(tb, group), s, opts)
	if err != nil {
		tb.Fatalf("NewCodec(%s): %v", group, err)
	}
	return c
}

func tv1Vector(tb testing.TB) *core.Vector {
	tb.Helper()
	return core.NewVector(entry(tb, "/A", 1736266473, 1))
}

// TV7b: the encoder reproduces ndnd v1.5.3's Sync Interest byte for byte,
// and the Data inside it is TV7a.
func TestEncodeSyncInterestTV7(t *testing.T) {
	c := newCodec(t, "/ndn/svs", nil, Options{OmitSignatureTime: true}) // as ndnd v1.5.3
	got, err := c.EncodeSyncInterest(tv1Vector(t), 0x01020304)
	if err != nil {
		t.Fatal(err)
	}
	want := tv(t, "TV7b")
	if !bytes.Equal(got, want) {
		t.Fatalf("EncodeSyncInterest:\n got %x\nwant %x", got, want)
	}
	if !bytes.HasSuffix(got, tv(t, "TV7a")) {
		t.Errorf("the Sync Interest does not end with TV7a")
	}
	// Explicitly passing ndnd's DigestSha256 signer is the same thing.
	c2 := newCodec(t, "/ndn/svs", signer.NewSha256Signer(), Options{OmitSignatureTime: true})
	if got2, _ := c2.EncodeSyncInterest(tv1Vector(t), 0x01020304); !bytes.Equal(got2, want) {
		t.Errorf("with signer.NewSha256Signer():\n got %x\nwant %x", got2, want)
	}
	// Appending keeps the prefix and produces the same packet after it.
	out, err := c.AppendSyncInterest([]byte("xyz"), tv1Vector(t), 0x01020304)
	if err != nil || string(out[:3]) != "xyz" || !bytes.Equal(out[3:], want) {
		t.Errorf("AppendSyncInterest: %x, %v", out, err)
	}
}

func TestDecodeSyncInterestTV7(t *testing.T) {
	c := newCodec(t, "/ndn/svs", nil, Options{})
	for _, label := range []string{"TV7b", "TV7c"} {
		t.Run(label, func(t *testing.T) {
			si, err := c.ParseSyncInterest(tv(t, label))
			if err != nil {
				t.Fatalf("ParseSyncInterest: %v", err)
			}
			if !sameVector(si.Vector, tv1Vector(t)) {
				t.Errorf("vector %v, want {/A@1736266473:1}", si.Vector.Entries())
			}
			wantSig := map[string]ndn.SigType{"TV7b": ndn.SignatureDigestSha256, "TV7c": 200}[label]
			if si.SigType != wantSig || si.DataVersion != 3 || si.Mapping != nil {
				t.Errorf("SigType %d DataVersion %d Mapping %x", si.SigType, si.DataVersion, si.Mapping)
			}
		})
	}
}

// ndndSyncInterest builds a Sync Interest the way ndnd v1.5.3's
// SvSync.encodeSyncData and sendSyncInterestWith do, with its own encoders,
// naming the Data dataName.
func ndndSyncInterest(tb testing.TB, group enc.Name, dataName enc.Name, es []core.Entry, nonce uint32) []byte {
	tb.Helper()
	content := ndndEncode(tb, es)
	data, err := spec.Spec{}.MakeData(dataName, &ndn.DataConfig{ContentType: optional.Some(ndn.ContentTypeBlob)},
		enc.Wire{content}, signer.NewSha256Signer())
	if err != nil {
		tb.Fatal(err)
	}
	prefix := group.Clone().Append(enc.NewVersionComponent(3))
	interest, err := spec.Spec{}.MakeInterest(prefix, &ndn.InterestConfig{
		Lifetime: optional.Some(time.Second),
		Nonce:    optional.Some(nonce),
	}, data.Wire, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return interest.Wire.Join()
}

// ndnd v1.5.2/v1.5.3 name the State Vector Data /<group>/v=<unix µs>; we
// accept that (NDNts does not).
func TestDecodeSyncInterestNdndMicrosecondVersion(t *testing.T) {
	group := name(t, "/ndn/svs")
	es := []core.Entry{entry(t, "/A", 1736266473, 1), entry(t, "/B", 1, 9)}
	b := ndndSyncInterest(t, group, group.WithVersion(enc.VersionUnixMicro), es, 7)
	si, err := newCodec(t, "/ndn/svs", nil, Options{}).ParseSyncInterest(b)
	if err != nil {
		t.Fatalf("ParseSyncInterest: %v", err)
	}
	if !sameVector(si.Vector, core.NewVector(es...)) {
		t.Errorf("vector %v", si.Vector.Entries())
	}
	if si.DataVersion < 1_700_000_000_000_000 {
		t.Errorf("DataVersion %d is not a Unix time in µs", si.DataVersion)
	}
}

// Our Sync Interests are byte-identical to the ones ndnd's own encoders
// produce for a /<group>/v=3 Data, for random vectors, and ndnd's decoders
// read ours back.
func TestSyncInterestMatchesNdnd(t *testing.T) {
	group := name(t, "/some/sync/group")
	c := newCodec(t, "/some/sync/group", nil, Options{OmitSignatureTime: true}) // as ndnd v1.5.3
	dataName := group.Clone().Append(enc.NewVersionComponent(3))
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 300 {
		es := randomEntries(r, 25)
		v := core.NewVector(es...)
		nonce := r.Uint32()
		ours, err := c.EncodeSyncInterest(v, nonce)
		if err != nil {
			t.Fatal(err)
		}
		if theirs := ndndSyncInterest(t, group, dataName, es, nonce); !bytes.Equal(ours, theirs) {
			t.Fatalf("run %d:\nours %x\nndnd %x", i, ours, theirs)
		}
		interest, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(ours))
		if err != nil {
			t.Fatalf("run %d: ndnd ReadInterest: %v", i, err)
		}
		data, sigCov, err := spec.Spec{}.ReadData(enc.NewWireView(interest.AppParam()))
		if err != nil {
			t.Fatalf("run %d: ndnd ReadData: %v", i, err)
		}
		if !signer.ValidateSha256(sigCov, data.Signature()) {
			t.Fatalf("run %d: ndnd says our DigestSha256 is wrong", i)
		}
		if _, err := spec_svs.ParseSvsData(enc.NewBufferView(data.Content().Join()), false); err != nil {
			t.Fatalf("run %d: ndnd ParseSvsData: %v", i, err)
		}
		got, err := c.DecodeSyncInterest(ours)
		if err != nil || !sameVector(got, v) {
			t.Fatalf("run %d: round trip: %v", i, err)
		}
	}
}

// Signers other than DigestSha256, including ones whose signature length
// varies (ECDSA), go through Signer.Sign and validate with ndnd.
func TestEncodeSyncInterestOtherSigners(t *testing.T) {
	keyName := name(t, "/ndn/svs/KEY/k1")
	hmac := signer.NewHmacSigner([]byte("secret"))
	ecdsa, err := signer.KeygenEcc(keyName, elliptic.P256())
	if err != nil {
		t.Fatal(err)
	}
	ed, err := signer.KeygenEd25519(keyName)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Signer{hmac, ecdsa, ed} {
		t.Run(s.Type().String(), func(t *testing.T) {
			var seen ndn.Data
			var seenCov enc.Wire
			check := ValidatorFunc(func(d ndn.Data, cov enc.Wire) error {
				seen, seenCov = d, cov
				return nil
			})
			c := newCodec(t, "/ndn/svs", s, Options{Validator: check})
			r := rand.New(rand.NewPCG(7, 8))
			for range 50 {
				v := core.NewVector(randomEntries(r, 8)...)
				b, err := c.EncodeSyncInterest(v, 1)
				if err != nil {
					t.Fatal(err)
				}
				got, err := c.DecodeSyncInterest(b)
				if err != nil || !sameVector(got, v) {
					t.Fatalf("round trip: %v", err)
				}
				if seen == nil || seen.Signature().SigType() != s.Type() {
					t.Fatalf("validator saw %v", seen)
				}
				if kl := s.KeyLocator(); len(kl) > 0 && !seen.Signature().KeyName().Equal(kl) {
					t.Errorf("KeyLocator %s, want %s", seen.Signature().KeyName(), kl)
				}
				if _, sigCov, err := (spec.Spec{}).ReadData(enc.NewWireView(mustAppParam(t, b))); err != nil || !bytes.Equal(sigCov.Join(), seenCov.Join()) {
					t.Fatalf("sigCovered differs from ndnd's: %v", err)
				}
				if s == hmac && !signer.ValidateHmac(seenCov, seen.Signature(), []byte("secret")) {
					t.Fatalf("HMAC does not verify")
				}
			}
		})
	}
}

func mustAppParam(tb testing.TB, b []byte) enc.Wire {
	tb.Helper()
	interest, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(b))
	if err != nil {
		tb.Fatal(err)
	}
	return interest.AppParam()
}

type failingSigner struct{ ndn.Signer }

func (failingSigner) Sign(enc.Wire) ([]byte, error) { return nil, errors.New("no key") }

func TestEncodeSyncInterestErrors(t *testing.T) {
	c := newCodec(t, "/ndn/svs", nil, Options{MaxEntries: 3})
	v := core.NewVector(entry(t, "/A", 1, 1), entry(t, "/A", 2, 1), entry(t, "/B", 1, 1), entry(t, "/C", 1, 1))
	dst := []byte("keep")
	out, err := c.AppendSyncInterest(dst, v, 0)
	if !errors.Is(err, ErrTooLarge) || string(out) != "keep" {
		t.Errorf("4 pairs, MaxEntries 3: %q, %v", out, err)
	}
	if _, err := c.EncodeSyncInterest(core.NewVector(core.Entry{Node: "", Boot: 1, Seq: 1}), 0); !errors.Is(err, ErrInvalidName) {
		t.Errorf("empty node name: %v", err)
	}
	if _, err := c.EncodeSyncInterest(core.NewVector(core.Entry{Node: "\x08\x05A", Boot: 1, Seq: 1}), 0); !errors.Is(err, ErrInvalidName) {
		t.Errorf("malformed node name: %v", err)
	}
	big := newCodec(t, "/ndn/svs", nil, Options{MaxEntries: 100000})
	es := make([]core.Entry, 8000) // 9 bytes each: over 64 KiB
	for i := range es {
		es[i] = core.Entry{Node: cname(t, "/node"), Boot: uint64(i + 1), Seq: 1}
	}
	if _, err := big.EncodeSyncInterest(core.NewVector(es...), 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Interest over 64 KiB: %v", err)
	}
	fs := newCodec(t, "/ndn/svs", failingSigner{signer.NewHmacSigner([]byte("k"))}, Options{})
	if _, err := fs.EncodeSyncInterest(tv1Vector(t), 0); !errors.Is(err, ErrSigner) {
		t.Errorf("failing signer: %v", err)
	}
}

func TestNewCodecErrors(t *testing.T) {
	if _, err := NewCodec(nil, nil, Options{}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("empty group: %v", err)
	}
	if _, err := NewCodec(enc.Name{{Typ: 0, Val: []byte("x")}}, nil, Options{}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("component type 0: %v", err)
	}
	if _, err := NewCodec(name(t, "/g"), nil, Options{MaxEntries: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("negative MaxEntries: %v", err)
	}
	for _, lt := range []time.Duration{-time.Second, time.Microsecond} {
		if _, err := NewCodec(name(t, "/g"), nil, Options{Lifetime: lt}); !errors.Is(err, ErrConfig) {
			t.Errorf("Lifetime %v: %v", lt, err)
		}
	}
	c := newCodec(t, "/ndn/svs", nil, Options{})
	if got := c.SyncPrefix().String(); got != "/ndn/svs/v=3" {
		t.Errorf("SyncPrefix = %s", got)
	}
	if got := c.Group().String(); got != "/ndn/svs" {
		t.Errorf("Group = %s", got)
	}
}

func TestEncodeSyncInterestLifetime(t *testing.T) {
	c := newCodec(t, "/ndn/svs", nil, Options{Lifetime: time.Millisecond})
	b, err := c.EncodeSyncInterest(tv1Vector(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	interest, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(b))
	if err != nil {
		t.Fatal(err)
	}
	if lt, ok := interest.Lifetime().Get(); !ok || lt != time.Millisecond {
		t.Errorf("lifetime %v", interest.Lifetime())
	}
	if interest.CanBePrefix() || interest.MustBeFresh() || interest.Signature().SigType() != ndn.SignatureNone {
		t.Errorf("CanBePrefix %v MustBeFresh %v signature %v", interest.CanBePrefix(), interest.MustBeFresh(), interest.Signature().SigType())
	}
}

// syncParams wraps a Data in ApplicationParameters.
func syncParams(data []byte) []byte { return tlv(typeAppParameters, data) }

func TestDecodeSyncInterestRejects(t *testing.T) {
	tv1 := tv(t, "TV1")
	goodData := rawData(nv(t, "/ndn/svs/v=3"), nil, tv1)
	goodName := nv(t, "/ndn/svs/v=3")
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 0x40; return b }
	tv7b := tv(t, "TV7b")
	cases := []struct {
		name string
		in   []byte
		want []error
	}{
		{"hand-built control", rawInterest(goodName, stdMiddle, syncParams(goodData), nil), nil},
		{"empty", nil, []error{ErrMalformed}},
		{"a Data, not an Interest", tv(t, "TV7a"), []error{ErrMalformed}},
		{"trailing byte", append(tv7b, 0), []error{ErrMalformed}},
		{"over 64 KiB", append(appendTL(nil, typeInterest, MaxPacketSize), make([]byte, MaxPacketSize)...), []error{ErrTooLarge}},
		{"wrong group", rawInterest(nv(t, "/ndn/other/v=3"), stdMiddle, syncParams(goodData), nil), []error{ErrWrongName}},
		{"group is a longer component", rawInterest(nv(t, "/ndn/svsx/v=3"), stdMiddle, syncParams(goodData), nil), []error{ErrWrongName}},
		{"missing v=3", rawInterest(nv(t, "/ndn/svs"), stdMiddle, syncParams(goodData), nil), []error{ErrWrongName}},
		{"generic component instead of v=3", rawInterest(nv(t, "/ndn/svs/3"), stdMiddle, syncParams(goodData), nil), []error{ErrWrongName}},
		{"v=3 in 2 bytes", rawInterest(append(nv(t, "/ndn/svs"), 0x36, 2, 0, 3), stdMiddle, syncParams(goodData), nil), []error{ErrWrongName}},
		{"extra component before digest", rawInterest(nv(t, "/ndn/svs/v=3/x"), stdMiddle, syncParams(goodData), nil), []error{ErrWrongName}},
		{"v=4", rawInterest(nv(t, "/ndn/svs/v=4"), stdMiddle, syncParams(goodData), nil), []error{ErrWrongName, ErrUnsupportedVersion}},
		{"TV8 (v2)", tv(t, "TV8"), []error{ErrWrongName, ErrUnsupportedVersion}},
		{"v2 StateVector under v=3", rawInterest(goodName, stdMiddle, syncParams(tv1), nil), []error{ErrMalformed, ErrUnsupportedVersion}},
		{"no digest component", tlv(typeInterest, tlv(typeName, goodName), stdMiddle, syncParams(goodData)), []error{ErrWrongName}},
		{"no ApplicationParameters", tlv(typeInterest, tlv(typeName, goodName, tlv(typeParametersDigest, make([]byte, 32))), stdMiddle), []error{ErrMalformed}},
		{"bad digest: content changed", flip(tv7b, len(tv7b)-50), []error{ErrBadDigest}},
		{"bad digest: digest changed", flip(tv7b, 20), []error{ErrBadDigest}},
		{"empty ApplicationParameters", rawInterest(goodName, stdMiddle, syncParams(nil), nil), []error{ErrMalformed}},
		{"ApplicationParameters not a Data", rawInterest(goodName, stdMiddle, syncParams(tlv(0x08, []byte("x"))), nil), []error{ErrMalformed}},
		{"unknown critical in Interest", rawInterest(goodName, append(bytes.Clone(stdMiddle), tlv(0x25)...), syncParams(goodData), nil), []error{ErrMalformed}},
		{"Nonce after Lifetime", rawInterest(goodName, []byte{0x0c, 0x02, 0x03, 0xe8, 0x0a, 0x04, 1, 2, 3, 4}, syncParams(goodData), nil), []error{ErrMalformed}},
		{"two Nonces", rawInterest(goodName, []byte{0x0a, 0x04, 1, 2, 3, 4, 0x0a, 0x04, 1, 2, 3, 4}, syncParams(goodData), nil), []error{ErrMalformed}},
		{"3-byte Nonce", rawInterest(goodName, []byte{0x0a, 0x03, 1, 2, 3}, syncParams(goodData), nil), []error{ErrMalformed}},
		{"3-byte Lifetime", rawInterest(goodName, []byte{0x0c, 0x03, 0, 3, 0xe8}, syncParams(goodData), nil), []error{ErrMalformed}},
		{"CanBePrefix with a value", rawInterest(goodName, append([]byte{0x21, 0x01, 0}, stdMiddle...), syncParams(goodData), nil), []error{ErrMalformed}},
		{"Data named /<group>/v=3/x", rawInterest(goodName, stdMiddle, syncParams(rawData(nv(t, "/ndn/svs/v=3/x"), nil, tv1)), nil), []error{ErrWrongName}},
		{"Data named /<other>/v=3", rawInterest(goodName, stdMiddle, syncParams(rawData(nv(t, "/ndn/other/v=3"), nil, tv1)), nil), []error{ErrWrongName}},
		{"Data named /<group>", rawInterest(goodName, stdMiddle, syncParams(rawData(nv(t, "/ndn/svs"), nil, tv1)), nil), []error{ErrWrongName}},
		{"Data named /<group>/seq=3", rawInterest(goodName, stdMiddle, syncParams(rawData(nv(t, "/ndn/svs/seq=3"), nil, tv1)), nil), []error{ErrWrongName}},
		{"Data named per node (SvsALO) for a group without 32=svs", rawInterest(goodName, stdMiddle, syncParams(rawData(nv(t, "/ndn/svs/node/a/t=1/32=svs/v=3"), nil, tv1)), nil), []error{ErrWrongName}},
		{"Data ContentType KEY", rawInterest(goodName, stdMiddle, syncParams(rawData(goodName, tlv(typeMetaInfo, tlv(typeContentType, []byte{2})), tv1)), nil), []error{ErrMalformed}},
		{"Data without Content", rawInterest(goodName, stdMiddle, syncParams(tlv(typeData, tlv(typeName, goodName), []byte{0x16, 3, 0x1b, 1, 0, 0x17, 0})), nil), []error{ErrMalformed}},
		{"Data without SignatureValue", rawInterest(goodName, stdMiddle, syncParams(tlv(typeData, tlv(typeName, goodName), tlv(typeContent, tv1), []byte{0x16, 3, 0x1b, 1, 0})), nil), []error{ErrMalformed}},
		{"Data without SignatureType", rawInterest(goodName, stdMiddle, syncParams(tlv(typeData, tlv(typeName, goodName), tlv(typeContent, tv1), []byte{0x16, 0, 0x17, 0})), nil), []error{ErrMalformed}},
		{"Data Content empty", rawInterest(goodName, stdMiddle, syncParams(rawData(goodName, nil, nil)), nil), []error{ErrMalformed}},
		{"Data Content is TV2-v2", rawInterest(goodName, stdMiddle, syncParams(rawData(goodName, nil, tv(t, "TV2-v2"))), nil), []error{ErrMalformed, ErrUnsupportedVersion}},
		{"Data Content with 3-byte seq", rawInterest(goodName, stdMiddle, syncParams(rawData(goodName, nil,
			tlv(typeStateVector, tlv(typeStateVectorEntry, tlv(typeName, []byte{8, 1, 'A'}), seqNoEntry([]byte{1}, []byte{0, 0, 1}))))), nil), []error{ErrMalformed}},
		{"Data Content with unknown critical TLV", rawInterest(goodName, stdMiddle, syncParams(rawData(goodName, nil, tlv(typeStateVector, tlv(0xCB)))), nil), []error{ErrMalformed}},
		{"Data with unknown critical element", rawInterest(goodName, stdMiddle, syncParams(tlv(typeData, tlv(typeName, goodName), tlv(typeContent, tv1), tlv(0x1D), []byte{0x16, 3, 0x1b, 1, 0, 0x17, 0})), nil), []error{ErrMalformed}},
		{"Data elements out of order", rawInterest(goodName, stdMiddle, syncParams(tlv(typeData, tlv(typeName, goodName), []byte{0x16, 3, 0x1b, 1, 0}, tlv(typeContent, tv1), []byte{0x17, 0})), nil), []error{ErrMalformed}},
	}
	c := newCodec(t, "/ndn/svs", nil, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.DecodeSyncInterest(tc.in)
			if tc.want == nil {
				if err != nil || !sameVector(v, tv1Vector(t)) {
					t.Fatalf("control packet rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %x as %v", tc.in, v.Entries())
			}
			if v != nil {
				t.Errorf("non-nil vector with error %v", err)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not wrap %q", err, w)
				}
			}
		})
	}
}

func TestDecodeSyncInterestTruncations(t *testing.T) {
	c := newCodec(t, "/ndn/svs", nil, Options{})
	for _, label := range []string{"TV7b", "TV7c"} {
		b := tv(t, label)
		for n := range len(b) {
			if _, err := c.DecodeSyncInterest(b[:n]); !errors.Is(err, ErrMalformed) {
				t.Errorf("%s cut to %d bytes: err = %v, want ErrMalformed", label, n, err)
			}
		}
	}
}

func TestDecodeSyncInterestTolerates(t *testing.T) {
	tv1 := tv(t, "TV1")
	goodName := nv(t, "/ndn/svs/v=3")
	cases := []struct {
		name    string
		in      []byte
		mapping []byte
	}{
		{"MappingData after the StateVector", rawInterest(goodName, stdMiddle, syncParams(rawData(goodName, nil, append(bytes.Clone(tv1), tv(t, "MAPPING")...))), nil), tv(t, "MAPPING")},
		{"no MetaInfo, no Nonce, no Lifetime", rawInterest(goodName, nil, syncParams(rawData(goodName, nil, tv1)), nil), nil},
		{"ForwardingHint and HopLimit", rawInterest(goodName, append(append(tlv(typeForwardingHint, tlv(typeName, nv(t, "/hint"))), stdMiddle...), 0x22, 1, 9), syncParams(rawData(goodName, nil, tv1)), nil), nil},
		{"unknown non-critical in Interest", rawInterest(goodName, append(tlv(0x3fe, []byte{1}), stdMiddle...), syncParams(rawData(goodName, nil, tv1)), nil), nil},
		{"Interest signature (NDNts v2 style)", rawInterest(goodName, stdMiddle, syncParams(rawData(goodName, nil, tv1)), []byte{0x2c, 0x03, 0x1b, 0x01, 0xc8, 0x2e, 0x00}), nil},
		{"second TLV in ApplicationParameters", rawInterest(goodName, stdMiddle, tlv(typeAppParameters, rawData(goodName, nil, tv1), tlv(0x99, []byte("x"))), nil), nil},
		{"SignatureTime, KeyLocator, FreshnessPeriod, CrossSchema", rawInterest(goodName, stdMiddle, syncParams(tlv(typeData,
			tlv(typeName, goodName),
			tlv(typeMetaInfo, tlv(typeContentType, []byte{0}), tlv(typeFreshnessPeriod, []byte{0x10}), tlv(0x3fe)),
			tlv(typeContent, tv1),
			tlv(typeSignatureInfo, tlv(typeSignatureType, []byte{3}), tlv(typeKeyLocator, tlv(typeName, nv(t, "/k"))), tlv(0x28, []byte{1, 2, 3, 4, 5, 6, 7, 8})),
			tlv(typeSignatureValue, []byte{1, 2, 3}),
			tlv(0x258, []byte{1}))), nil), nil},
	}
	c := newCodec(t, "/ndn/svs", nil, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			si, err := c.ParseSyncInterest(tc.in)
			if err != nil {
				t.Fatalf("ParseSyncInterest(%x): %v", tc.in, err)
			}
			if !sameVector(si.Vector, tv1Vector(t)) || !bytes.Equal(si.Mapping, tc.mapping) {
				t.Errorf("vector %v mapping %x", si.Vector.Entries(), si.Mapping)
			}
		})
	}
}

func TestDecodeSyncInterestMaxEntries(t *testing.T) {
	c3 := newCodec(t, "/ndn/svs", nil, Options{MaxEntries: 3})
	c4 := newCodec(t, "/ndn/svs", nil, Options{MaxEntries: 4})
	v, err := DecodeStateVector(tv(t, "TV3"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c4.EncodeSyncInterest(v, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c4.DecodeSyncInterest(b); err != nil {
		t.Errorf("4 pairs, MaxEntries 4: %v", err)
	}
	if _, err := c3.DecodeSyncInterest(b); !errors.Is(err, ErrTooLarge) {
		t.Errorf("4 pairs, MaxEntries 3: %v", err)
	}
}

func TestDecodeSyncInterestValidators(t *testing.T) {
	strict := newCodec(t, "/ndn/svs", nil, Options{Validator: DigestSha256})
	if _, err := strict.DecodeSyncInterest(tv(t, "TV7b")); err != nil {
		t.Errorf("DigestSha256 validator rejects TV7b: %v", err)
	}
	if _, err := strict.DecodeSyncInterest(tv(t, "TV7c")); !errors.Is(err, ErrValidation) {
		t.Errorf("DigestSha256 validator on a Null signature: %v", err)
	}
	// A DigestSha256 Data with a wrong value, inside an Interest whose
	// parameters digest is right.
	data := tv(t, "TV7a")
	data[len(data)-1] ^= 1
	goodName := nv(t, "/ndn/svs/v=3")
	forged := rawInterest(goodName, stdMiddle, syncParams(data), nil)
	if _, err := newCodec(t, "/ndn/svs", nil, Options{}).DecodeSyncInterest(forged); err != nil {
		t.Errorf("default validator must accept any signature value: %v", err)
	}
	if _, err := strict.DecodeSyncInterest(forged); !errors.Is(err, ErrValidation) {
		t.Errorf("DigestSha256 validator on a wrong digest: %v", err)
	}
	// A custom validator sees the right name and covered bytes, and its
	// error is wrapped.
	sentinel := errors.New("untrusted")
	var seenName enc.Name
	var seenCov []byte
	custom := newCodec(t, "/ndn/svs", nil, Options{Validator: ValidatorFunc(func(d ndn.Data, cov enc.Wire) error {
		seenName, seenCov = d.Name(), cov.Join()
		return sentinel
	})})
	_, err := custom.DecodeSyncInterest(tv(t, "TV7b"))
	if !errors.Is(err, ErrValidation) || !errors.Is(err, sentinel) {
		t.Errorf("custom validator error not wrapped: %v", err)
	}
	tv7a := tv(t, "TV7a")
	// TV7a = 06 51 | covered (Name .. SignatureInfo) | 17 20 <32 bytes>
	if want := tv7a[2 : len(tv7a)-34]; !bytes.Equal(seenCov, want) {
		t.Errorf("sigCovered = %x, want %x", seenCov, want)
	}
	if sum := sha256.Sum256(seenCov); !bytes.Equal(sum[:], tv7a[len(tv7a)-32:]) {
		t.Errorf("TV7a's signature is not the SHA-256 of what the validator saw")
	}
	if seenName.String() != "/ndn/svs/v=3" {
		t.Errorf("validator saw name %s", seenName)
	}
	// Passing AcceptAll is the default.
	if _, err := newCodec(t, "/ndn/svs", nil, Options{Validator: AcceptAll}).DecodeSyncInterest(tv(t, "TV7c")); err != nil {
		t.Errorf("AcceptAll: %v", err)
	}
}

func TestDecodeSyncInterestGroupNames(t *testing.T) {
	// A group that is a prefix of another must not accept the other's
	// Interests, and vice versa.
	long := newCodec(t, "/ndn/svs/sub", nil, Options{})
	if _, err := long.DecodeSyncInterest(tv(t, "TV7b")); !errors.Is(err, ErrWrongName) {
		t.Errorf("/ndn/svs/sub accepted a /ndn/svs Interest: %v", err)
	}
	short := newCodec(t, "/ndn", nil, Options{})
	if _, err := short.DecodeSyncInterest(tv(t, "TV7b")); !errors.Is(err, ErrWrongName) {
		t.Errorf("/ndn accepted a /ndn/svs Interest: %v", err)
	}
}

// sizedSigner claims estimate bytes but signs with n bytes: the SHA-256 of
// the covered part, repeated. It drives the encoder's path where the signed
// part has to move because a length field changed size.
type sizedSigner struct{ estimate, n int }

func (sizedSigner) Type() ndn.SigType       { return 0xfe }
func (sizedSigner) KeyName() enc.Name       { return nil }
func (sizedSigner) KeyLocator() enc.Name    { return nil }
func (s sizedSigner) EstimateSize() uint    { return uint(s.estimate) }
func (sizedSigner) Public() ([]byte, error) { return nil, ndn.ErrNoPubKey }
func (s sizedSigner) Sign(w enc.Wire) ([]byte, error) {
	sum := sha256.Sum256(w.Join())
	return bytes.Repeat(sum[:], s.n/32+1)[:s.n], nil
}

func TestEncodeSyncInterestSignatureSizeMismatch(t *testing.T) {
	cases := []sizedSigner{{0, 300}, {300, 0}, {10, 100000}, {32, 32}, {1, 250}}
	for _, s := range cases {
		check := ValidatorFunc(func(d ndn.Data, cov enc.Wire) error {
			want, _ := s.Sign(cov)
			if !bytes.Equal(d.Signature().SigValue(), want) {
				return errors.New("bad signature")
			}
			return nil
		})
		c := newCodec(t, "/ndn/svs", s, Options{Validator: check})
		r := rand.New(rand.NewPCG(9, 10))
		for range 20 {
			v := core.NewVector(randomEntries(r, 25)...)
			prefix := []byte("pre")
			b, err := c.AppendSyncInterest(prefix, v, 5)
			if s.n > MaxPacketSize {
				if !errors.Is(err, ErrTooLarge) || string(b) != "pre" {
					t.Fatalf("%+v: %q, %v", s, b, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%+v: %v", s, err)
			}
			if string(b[:3]) != "pre" {
				t.Fatalf("%+v: prefix clobbered", s)
			}
			got, err := c.DecodeSyncInterest(b[3:])
			if err != nil || !sameVector(got, v) {
				t.Fatalf("%+v: round trip: %v", s, err)
			}
			if _, _, err := (spec.Spec{}).ReadInterest(enc.NewBufferView(b[3:])); err != nil {
				t.Fatalf("%+v: ndnd ReadInterest: %v", s, err)
			}
		}
	}
}

func TestParseSyncDataTV7a(t *testing.T) {
	c := newCodec(t, "/ndn/svs", nil, Options{Validator: DigestSha256})
	d := tv(t, "TV7a")
	sd, err := c.ParseSyncData(d)
	if err != nil {
		t.Fatalf("ParseSyncData(TV7a): %v", err)
	}
	if !sameVector(sd.Vector, tv1Vector(t)) || sd.SigType != ndn.SignatureDigestSha256 || sd.DataVersion != 3 {
		t.Errorf("got %v sig %d version %d", sd.Vector.Entries(), sd.SigType, sd.DataVersion)
	}
	for n := range len(d) {
		if _, err := c.ParseSyncData(d[:n]); !errors.Is(err, ErrMalformed) {
			t.Errorf("TV7a cut to %d bytes: %v", n, err)
		}
	}
	for _, bad := range [][]byte{append(bytes.Clone(d), 0), tv(t, "TV7b"), tv(t, "TV1")} {
		if _, err := c.ParseSyncData(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSyncData(%x): %v", bad, err)
		}
	}
	if _, err := newCodec(t, "/ndn/other", nil, Options{}).ParseSyncData(d); !errors.Is(err, ErrWrongName) {
		t.Errorf("other group: %v", err)
	}
}

// The codec does not apply the 24-hour future-bootstrap-time rule
// [Spec §3]: that needs a clock and belongs to the engine, which must see
// the whole vector to ignore it as a whole.
func TestDecodeSyncInterestLeavesFutureBootToEngine(t *testing.T) {
	c := newCodec(t, "/ndn/svs", nil, Options{})
	v := core.NewVector(entry(t, "/A", 1<<62, 1), entry(t, "/B", 1736266473, 2))
	b, err := c.EncodeSyncInterest(v, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.DecodeSyncInterest(b)
	if err != nil || !sameVector(got, v) {
		t.Fatalf("got %v, %v", got, err)
	}
}

// Two Sync Interests for the same vector differ: the State Vector Data
// carries a SignatureTime that grows with every packet, so a forwarder never
// aggregates one member's Sync Interest into another's. ndnd's parser and
// ours read it, and ndnd's Data parser sees the time.
func TestSignatureTimeMakesSyncInterestsUnique(t *testing.T) {
	fixed := time.UnixMilli(1_790_000_000_000)
	c := newCodec(t, "/ndn/svs", nil, Options{Clock: func() time.Time { return fixed }})
	other := newCodec(t, "/ndn/svs", nil, Options{Clock: func() time.Time { return fixed }})
	v := tv1Vector(t)
	seen := map[string]bool{}
	var last uint64
	for i := range 50 {
		a, err := c.EncodeSyncInterest(v, 7)
		if err != nil {
			t.Fatal(err)
		}
		interest, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(a))
		if err != nil {
			t.Fatalf("ndnd ReadInterest: %v", err)
		}
		if seen[interest.Name().String()] {
			t.Fatalf("packet %d repeats a Sync Interest name", i)
		}
		seen[interest.Name().String()] = true
		if _, _, err := (spec.Spec{}).ReadData(enc.NewWireView(interest.AppParam())); err != nil {
			t.Fatalf("ndnd ReadData: %v", err)
		}
		// SignatureInfo ends with SignatureTime (0x28, 8 bytes), right
		// before the SignatureValue (0x17, 32 bytes).
		at := len(a) - 2 - 32 - 8
		if a[at-2] != 0x28 || a[at-1] != 8 {
			t.Fatalf("no SignatureTime before the signature value: %x", a[at-2:])
		}
		if ms := binary.BigEndian.Uint64(a[at:]); ms <= last || ms < uint64(fixed.UnixMilli()) {
			t.Fatalf("SignatureTime %d after %d (clock %d)", ms, last, fixed.UnixMilli())
		} else {
			last = ms
		}
		got, err := other.DecodeSyncInterest(a)
		if err != nil || !core.Equal(got, v) {
			t.Fatalf("decode: %v, %v", got, err)
		}
	}
	// Without it, as ndnd v1.5.3: identical vectors, identical packets.
	old := newCodec(t, "/ndn/svs", nil, Options{OmitSignatureTime: true})
	p1, _ := old.EncodeSyncInterest(v, 7)
	p2, _ := old.EncodeSyncInterest(v, 7)
	if !bytes.Equal(p1, p2) {
		t.Error("OmitSignatureTime: packets differ")
	}
}

func TestParamsDigest(t *testing.T) {
	pkt := tv(t, "TV7b")
	d, ok := ParamsDigest(pkt)
	if !ok || len(d) != 32 || d[0] != 0xe5 || d[31] != 0x0d {
		t.Fatalf("ParamsDigest(TV7b) = %x, %v", d, ok)
	}
	for _, bad := range [][]byte{nil, tv(t, "TV7a"), pkt[:20], {0x05, 0x04, 0x07, 0x02, 0x08, 0x00}} {
		if d, ok := ParamsDigest(bad); ok {
			t.Errorf("ParamsDigest(%x) = %x", bad, d)
		}
	}
}

// Decoding into a reused vector gives what decoding into a new one does,
// whatever the vector held before, and allocates only the names.
func TestParseSyncInterestInto(t *testing.T) {
	c, err := NewCodec(name(t, "/ndn/svs"), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	reused := core.NewVector()
	for range 300 {
		v := core.NewVector(randomEntries(r, 25)...)
		b, err := c.EncodeSyncInterest(v, 7)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.ParseSyncInterestInto(b, reused)
		if err != nil {
			t.Fatal(err)
		}
		if got.Vector != reused || !sameVector(reused, v) {
			t.Fatalf("decoded %v into the reused vector, want %v", reused.Entries(), v.Entries())
		}
	}
	b, err := c.EncodeSyncInterest(benchVector(t), 7)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = c.ParseSyncInterestInto(b, reused) }); n > 1 {
		t.Errorf("%v allocations per decode into a reused vector, want 1 (the names)", n)
	}
}

// An ndnd SvsALO member names its State Vector Data after its own data
// prefix, /<prefix>/<node>/t=<boot>/32=svs/v=<µs>, while its Sync
// Interests are /<prefix>/32=svs/v=3/...: a codec for that group accepts
// the form, and only it.
func TestDecodeSyncInterestAcceptsSvsALODataNames(t *testing.T) {
	tv1 := tv(t, "TV1")
	goodName := nv(t, "/ndn/chat/32=svs/v=3")
	c := newCodec(t, "/ndn/chat/32=svs", nil, Options{})
	for _, tc := range []struct {
		data string
		ok   bool
	}{
		{"/ndn/chat/32=svs/v=3", true},
		{"/ndn/chat/alice/t=1795000000/32=svs/v=1795000000123456", true},
		{"/ndn/chat/org/alice/t=1795000000/32=svs/v=1", true},
		{"/ndn/chat/t=1795000000/32=svs/v=1", false},        // no node name
		{"/ndn/chat/alice/t=1795000000/32=svs", false},      // no version
		{"/ndn/chat/alice/1795000000/32=svs/v=1", false},    // a generic component for t=
		{"/ndn/chat/alice/t=1795000000/32=sync/v=1", false}, // another keyword
		{"/ndn/other/alice/t=1795000000/32=svs/v=1", false}, // another prefix
	} {
		in := rawInterest(goodName, stdMiddle, syncParams(rawData(nv(t, tc.data), nil, tv1)), nil)
		_, err := c.ParseSyncInterest(in)
		if tc.ok != (err == nil) {
			t.Errorf("Data named %s: err = %v, want accepted %v", tc.data, err, tc.ok)
		}
		if !tc.ok && !errors.Is(err, ErrWrongName) {
			t.Errorf("Data named %s: err = %v, want ErrWrongName", tc.data, err)
		}
	}
	// A group without 32=svs still refuses the per-node form.
	plain := newCodec(t, "/ndn/chat", nil, Options{})
	in := rawInterest(nv(t, "/ndn/chat/v=3"), stdMiddle, syncParams(rawData(nv(t, "/ndn/chat/alice/t=1/32=svs/v=1"), nil, tv1)), nil)
	if _, err := plain.ParseSyncInterest(in); !errors.Is(err, ErrWrongName) {
		t.Errorf("group /ndn/chat: err = %v, want ErrWrongName", err)
	}
}
