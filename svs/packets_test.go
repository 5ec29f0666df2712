package svs

import (
	"slices"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Crafting Sync Interests, good and bad, for the tests.

// goodInterest is a well-formed Sync Interest carrying v, from our codec.
func goodInterest(t testing.TB, group enc.Name, v *core.Vector) []byte {
	t.Helper()
	c, err := wire.NewCodec(group, nil, wire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.EncodeSyncInterest(v, 0x01020304)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// interestWithParams is /<group>/v=3/<digest> whose ApplicationParameters
// hold params (ndnd computes the digest over whatever params are).
func interestWithParams(t testing.TB, group enc.Name, params []byte) []byte {
	t.Helper()
	name := group.Append(enc.NewVersionComponent(3))
	i, err := spec.Spec{}.MakeInterest(name, &ndn.InterestConfig{
		Lifetime: optional.Some(time.Second),
		Nonce:    optional.Some(uint32(0x0a0b0c0d)),
	}, enc.Wire{params}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return i.Wire.Join()
}

// interestWithData is a Sync Interest whose ApplicationParameters hold a
// Data named dataName with content, signed by sg.
func interestWithData(t testing.TB, group, dataName enc.Name, content []byte, sg ndn.Signer) []byte {
	t.Helper()
	return interestWithParams(t, group, dataPacket(t, dataName, content, sg))
}

// interestNoParams is /<group>/v=3 with no digest and no parameters.
func interestNoParams(t testing.TB, group enc.Name) []byte {
	t.Helper()
	i, err := spec.Spec{}.MakeInterest(group.Append(enc.NewVersionComponent(3)), &ndn.InterestConfig{
		Lifetime: optional.Some(time.Second),
		Nonce:    optional.Some(uint32(0x0a0b0c0e)),
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return i.Wire.Join()
}

// tlv encodes one TLV (type < 253) holding the concatenated values.
func tlv(typ byte, values ...[]byte) []byte {
	var v []byte
	for _, x := range values {
		v = append(v, x...)
	}
	out := []byte{typ}
	switch {
	case len(v) < 253:
		out = append(out, byte(len(v)))
	default:
		out = append(out, 253, byte(len(v)>>8), byte(len(v)))
	}
	return append(out, v...)
}

// nullSignedData is a State Vector Data as NDNts sends it by default:
// no MetaInfo, SignatureType 200 (Null), empty SignatureValue.
func nullSignedData(name enc.Name, content []byte) []byte {
	return tlv(0x06,
		tlv(0x07, []byte(wire.NameToCore(name))),
		tlv(0x15, content),
		tlv(0x16, tlv(0x1b, []byte{200})),
		tlv(0x17))
}

// badInput is one malformed or unacceptable Sync Interest and the counter
// it must land in.
type badInput struct {
	name string
	pkt  []byte
	// counter returns the counter this input must raise by one. nil: ndnd's
	// engine drops the packet before the handler (it checks the parameters
	// digest itself), so only a driver fed directly sees it.
	counter func(Stats) uint64
}

func malformed(s Stats) uint64  { return s.Malformed }
func invalid(s Stats) uint64    { return s.Invalid }
func futureBoot(s Stats) uint64 { return s.Engine.IgnoredFutureBoot }

// badInputs builds the catalogue of bad Sync Interests for group, for a
// receiver configured with MaxEntries 4. wallUnix is the receiver's clock.
func badInputs(t testing.TB, group enc.Name, wallUnix int64) []badInput {
	t.Helper()
	dataName := group.Append(enc.NewVersionComponent(3))
	node := mustName("/evil/node")
	one := core.NewVector(core.Entry{Node: wire.NameToCore(node), Boot: uint64(wallUnix), Seq: 7})
	sv := wire.EncodeStateVector(one)
	sha := signer.NewSha256Signer()

	good := goodInterest(t, group, one)
	wrongDigest := slices.Clone(good)
	d, ok := wire.ParamsDigest(wrongDigest)
	if !ok {
		t.Fatal("no digest in a good Sync Interest")
	}
	d[0] ^= 0xff

	var five []core.Entry
	for i := range 5 {
		five = append(five, core.Entry{Node: wire.NameToCore(node.Append(enc.NewSequenceNumComponent(uint64(i)))), Boot: 1, Seq: 1})
	}

	// StateVector{Entry{Name /evil/node, SeqNoEntry{boot 1, seq 1}, 0xDB (odd: critical) {}}}
	nameTLV := append([]byte{0x07, byte(len(wire.NameToCore(node)))}, wire.NameToCore(node)...)
	seqNo := []byte{0xD2, 0x06, 0xD4, 0x01, 0x01, 0xD6, 0x01, 0x01}
	entry := append(append(slices.Clone(nameTLV), seqNo...), 0xDB, 0x00)
	critical := append([]byte{0xC9, byte(len(entry) + 2), 0xCA, byte(len(entry))}, entry...)

	lengthPastEnd := slices.Clone(sv)
	lengthPastEnd[1] += 5

	return []badInput{
		{"garbage application parameters", interestWithParams(t, group, []byte("not a Data packet at all")), malformed},
		{"bare v2 StateVector as parameters", interestWithParams(t, group, sv), malformed},
		{"wrong parameters digest", wrongDigest, nil},
		{"no parameters and no digest", interestNoParams(t, group), malformed},
		{"inner Data of another group", interestWithData(t, group, mustName("/other/group/v=3"), sv, sha), malformed},
		{"inner Data without version", interestWithData(t, group, group, sv, sha), malformed},
		{"empty content", interestWithData(t, group, dataName, nil, sha), malformed},
		{"truncated vector", interestWithData(t, group, dataName, sv[:len(sv)-2], sha), malformed},
		{"vector length past its end", interestWithData(t, group, dataName, lengthPastEnd, sha), malformed},
		{"more entries than MaxEntries", goodInterest(t, group, core.NewVector(five...)), malformed},
		{"unknown critical TLV in an entry", interestWithData(t, group, dataName, critical, sha), malformed},
		{"bootstrap time 25 h in the future", goodInterest(t, group, core.NewVector(core.Entry{
			Node: wire.NameToCore(node), Boot: uint64(wallUnix) + 25*3600, Seq: 1})), futureBoot},
		{"future bootstrap time next to a good entry", goodInterest(t, group, core.NewVector(
			core.Entry{Node: wire.NameToCore(mustName("/a")), Boot: uint64(wallUnix), Seq: 3},
			core.Entry{Node: wire.NameToCore(node), Boot: uint64(wallUnix) + 25*3600, Seq: 1})), futureBoot},
	}
}

// invalidInputs are well-formed Sync Interests that a DigestSha256
// Validator must reject.
func invalidInputs(t testing.TB, group enc.Name, wallUnix int64) []badInput {
	t.Helper()
	dataName := group.Append(enc.NewVersionComponent(3))
	sv := wire.EncodeStateVector(core.NewVector(core.Entry{Node: wire.NameToCore(mustName("/evil")), Boot: uint64(wallUnix), Seq: 1}))
	return []badInput{
		{"Null signature (type 200)", interestWithParams(t, group, nullSignedData(dataName, sv)), invalid},
		{"DigestSha256 value that does not match", interestWithParams(t, group, corruptSig(dataPacket(t, dataName, sv, signer.NewSha256Signer()))), invalid},
	}
}

// corruptSig flips the last byte of a Data packet: its SignatureValue.
func corruptSig(data []byte) []byte {
	data = slices.Clone(data)
	data[len(data)-1] ^= 0xff
	return data
}

// dataPacket is a Data named name with content, signed by sg.
func dataPacket(t testing.TB, name enc.Name, content []byte, sg ndn.Signer) []byte {
	t.Helper()
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{
		ContentType: optional.Some(ndn.ContentTypeBlob),
	}, enc.Wire{content}, sg)
	if err != nil {
		t.Fatal(err)
	}
	return d.Wire.Join()
}
