package main

import (
	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// encodeSync builds a valid SVS v3 Sync Interest of group with this
// project's codec, whose vector holds member alone at (boot, seq).
func encodeSync(group, member string, boot, seq uint64, nonce uint32) ([]byte, error) {
	g, err := enc.NameFromStr(group)
	if err != nil {
		return nil, err
	}
	m, err := enc.NameFromStr(member)
	if err != nil {
		return nil, err
	}
	c, err := codecFor(g)
	if err != nil {
		return nil, err
	}
	v := core.NewVector(core.Entry{Node: wire.NameToCore(m), Boot: boot, Seq: seq})
	return c.EncodeSyncInterest(v, nonce)
}

var codecs = map[string]*wire.Codec{}

func codecFor(g enc.Name) (*wire.Codec, error) {
	if c, ok := codecs[g.String()]; ok {
		return c, nil
	}
	c, err := wire.NewCodec(g, nil, wire.Options{})
	if err != nil {
		return nil, err
	}
	codecs[g.String()] = c
	return c, nil
}
