package fw

import (
	"bytes"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/dispatch"
	ndnfw "github.com/named-data/ndnd/fw/fw"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// SendData hands the forwarder a Data that answers an Interest this face
// received, named name. When the Data is named name and holds only the
// elements the forwarder reads (Name, MetaInfo with ContentType,
// FreshnessPeriod and FinalBlockId, Content, SignatureInfo,
// SignatureValue), it is described with a walk of its elements instead of
// ndnd's parse, and goes to the one forwarding thread that holds the
// Interest; Send offers a Data that carries no PIT token to every thread
// that may hold an Interest for one of its prefixes, hashing each prefix.
// Any other Data goes through Send. A producer on the in-process face
// answers every member's fetch itself (the Content Store admits nothing
// by default): at 20 members and 64 KiB, the parse and the prefix hashes
// were 7 % of the process's CPU. The forwarder keeps frame as Send keeps
// a packet.
func (af *Face) SendData(frame []byte, name enc.Name) error {
	d, ok := describeData(frame, name)
	if !ok {
		return af.Send(enc.Wire{frame})
	}
	if !af.running.Load() {
		return ErrClosed
	}
	p := &defn.Pkt{IncomingFaceID: af.id, Raw: enc.Wire{frame}, Name: name, L3: &defn.FwPacket{Data: d}}
	af.nInBytes.Add(uint64(len(frame)))
	af.nInD.Add(1)
	// An Interest is queued on the thread its name hashes to (Send, and
	// the network faces alike): the one that holds its PIT entry.
	dispatch.GetFWThread(ndnfw.HashNameToFwThread(name)).QueueData(p)
	return nil
}

// TLV-TYPEs of a Data packet (NDN packet format v0.3).
const (
	tlvName           = 0x07
	tlvMetaInfo       = 0x14
	tlvContent        = 0x15
	tlvSignatureInfo  = 0x16
	tlvSignatureValue = 0x17
	tlvContentType    = 0x18
	tlvFreshness      = 0x19
	tlvFinalBlockID   = 0x1a
)

// describeData is what defn.ParseFwPacket makes of frame, if frame is
// exactly one Data named name whose elements are all ones the forwarder
// reads, each once and in order; ok is false otherwise.
func describeData(frame []byte, name enc.Name) (d *defn.FwData, ok bool) {
	typ, v, rest, ok := link.Element(frame)
	if !ok || typ != link.TypeData || len(rest) != 0 {
		return nil, false
	}
	typ, nv, v, ok := link.Element(v)
	if !ok || typ != tlvName {
		return nil, false
	}
	for _, c := range name {
		var ct uint64
		var cv []byte
		if ct, cv, nv, ok = link.Element(nv); !ok || ct != uint64(c.Typ) || !bytes.Equal(cv, c.Val) {
			return nil, false
		}
	}
	if len(nv) != 0 {
		return nil, false
	}
	d = &defn.FwData{NameV: name}
	last := uint64(tlvName)
	for len(v) > 0 {
		var ev []byte
		if typ, ev, v, ok = link.Element(v); !ok || typ <= last {
			return nil, false
		}
		last = typ
		switch typ {
		case tlvMetaInfo:
			if d.MetaInfo, ok = describeMetaInfo(ev); !ok {
				return nil, false
			}
		case tlvContent:
			d.ContentV = true
		case tlvSignatureInfo:
			d.SignatureInfo = true
		case tlvSignatureValue:
			d.SignatureValue = true
		default:
			return nil, false
		}
	}
	return d, true
}

// describeMetaInfo is ParseFwPacket's MetaInfo, for one that holds only
// ContentType, FreshnessPeriod and FinalBlockId, each once and in order.
func describeMetaInfo(v []byte) (*defn.FwMetaInfo, bool) {
	mi := &defn.FwMetaInfo{}
	last := uint64(0)
	for len(v) > 0 {
		typ, ev, rest, ok := link.Element(v)
		if !ok || typ <= last {
			return nil, false
		}
		last, v = typ, rest
		switch typ {
		case tlvContentType:
			x, ok := link.Natural(ev)
			if !ok {
				return nil, false
			}
			mi.ContentType = optional.Some(x)
		case tlvFreshness:
			x, ok := link.Natural(ev)
			if !ok || x > uint64(1<<63-1)/uint64(time.Millisecond) {
				return nil, false
			}
			mi.FreshnessPeriod = optional.Some(time.Duration(x) * time.Millisecond)
		case tlvFinalBlockID:
			mi.FinalBlockID = true
		default:
			return nil, false
		}
	}
	return mi, true
}
