package wire_test

import (
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

func Example() {
	group, _ := enc.NameFromStr("/ndn/svs")
	node, _ := enc.NameFromStr("/A")

	// nil signer: DigestSha256; zero Options: accept any signature,
	// 8192 pairs at most, 1 s lifetime.
	codec, err := wire.NewCodec(group, nil, wire.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	v := core.NewVector(core.Entry{Node: wire.NameToCore(node), Boot: 1736266473, Seq: 1})
	pkt, err := codec.EncodeSyncInterest(v, 0x01020304)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes, register %s\n", len(pkt), codec.SyncPrefix())

	got, err := codec.DecodeSyncInterest(pkt)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range got.Entries() {
		n, _ := wire.CoreToName(e.Node)
		fmt.Printf("%s boot=%d seq=%d: fetch %s\n", n, e.Boot, e.Seq, wire.PublicationName(n, group, e.Boot, e.Seq))
	}
	// Output:
	// 156 bytes, register /ndn/svs/v=3
	// /A boot=1736266473 seq=1: fetch /A/ndn/svs/t=1736266473/seq=1
}
