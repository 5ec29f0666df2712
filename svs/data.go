package svs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// SegmentSize is the most payload bytes one Data packet of a publication
// carries, as ndnd's object client (std/object, pSegmentSize) and NDNts's
// default chunk size: with a name of up to MaxDataNameSize bytes and a
// signature, every segment stays under 8800 bytes, the largest packet
// ndnd and NFD accept.
const SegmentSize = 8000

// MaxDataNameSize bounds the encoded size of a publication's name (node,
// group or data prefix, and the t=, seq=, v= and seg= components), so that
// a full segment fits one packet. DataConfig checks it for the member's
// own names; a longer received name is rejected when read.
const MaxDataNameSize = 512

// MaxPayloadSize bounds a publication's payload: 64 MiB, 8,389 segments.
// A fetched publication announcing more segments is refused as invalid.
const MaxPayloadSize = 64 << 20

// dataFreshness is the FreshnessPeriod of publication Data: a publication
// never changes, but a Content Store should not keep answering a
// MustBeFresh Interest for longer than a producer restart takes; ndnd's
// object client uses 4 s.
const dataFreshness = 4 * time.Second

// Errors of the publication layer.
var (
	// ErrNoData: the Sync was made without Config.Data, so it has no
	// publication layer (Publish, Subscribe).
	ErrNoData = errors.New("svs: no publication layer (Config.Data is nil)")
	// ErrPayloadTooLarge: a payload over MaxPayloadSize.
	ErrPayloadTooLarge = errors.New("svs: payload too large")
	// ErrBadData: a fetched Data that cannot be used: it does not decode,
	// has another name than asked for, fails validation, or its segments
	// do not add up (FinalBlockId missing or changing, a segment past the
	// last). Counted in Stats.Data.BadData.
	ErrBadData = errors.New("svs: bad publication data")

	// errRefused: the Validator refused a fetched Data (with ErrBadData).
	// Such a Data says nothing about its producer: anyone on the path may
	// have sent it.
	errRefused = errors.New("refused by the validator")
	// errUnavailable: the producer answered that it does not hold the
	// publication (never stored after a crash, or removed by retention).
	errUnavailable = errors.New("svs: producer no longer holds the publication")
)

// dataNames builds and parses the names of one member's publication
// layer. Two namespaces (docs/decisions.md, "Publications: two names,
// one stored form"):
//
//   - shared: /<prefix>/<node>/t=<boot>/seq=<n>/v=0/seg=<i>, the name
//     fetched over the network. <prefix> is the group (Config.Data.Prefix),
//     already routed to every member and to the LAN with the multicast
//     strategy, so a fetch reaches the producer and every member that
//     cached it with no configuration. It is ndnd SvsALO's object name
//     (std/sync/svs_alo_data.go objectName, segments by std/object).
//   - per-node: /<node>/<group>/t=<boot>/seq=<n>/seg=<i>, the SVS v3 name
//     (wire.PublicationName) with NDN segment numbering, served only by the
//     producer, reachable where /<node> is routed (its own forwarder, or a
//     routed network); NDNts's fetch(name) reads it as it is.
type dataNames struct {
	prefix enc.Name // shared-layer prefix
	group  enc.Name
	self   enc.Name
}

// shared returns /<prefix>/<node>/t=<boot>/seq=<seq>/v=0.
func (d *dataNames) shared(node enc.Name, boot, seq uint64) enc.Name {
	n := make(enc.Name, 0, len(d.prefix)+len(node)+4)
	n = append(n, d.prefix...)
	n = append(n, node...)
	return append(n, enc.NewTimestampComponent(boot), enc.NewSequenceNumComponent(seq),
		enc.NewVersionComponent(enc.VersionImmutable))
}

// perNode returns /<self>/<group>/t=<boot>/seq=<seq>.
func (d *dataNames) perNode(boot, seq uint64) enc.Name {
	return wire.PublicationName(d.self, d.group, boot, seq)
}

// perNodePrefix returns /<self>/<group>: what a member registers to serve
// its per-node layer.
func (d *dataNames) perNodePrefix() enc.Name {
	n := make(enc.Name, 0, len(d.self)+len(d.group))
	n = append(n, d.self...)
	return append(n, d.group...)
}

// ownSharedPrefix returns /<prefix>/<self>: the member's own publications
// in the shared layer.
func (d *dataNames) ownSharedPrefix() enc.Name {
	n := make(enc.Name, 0, len(d.prefix)+len(d.self))
	n = append(n, d.prefix...)
	return append(n, d.self...)
}

// ownShared reports whether name is under /<prefix>/<self>/t=... (a
// shared-layer name of this member's own publications).
func (d *dataNames) ownShared(name enc.Name) bool {
	p := len(d.prefix) + len(d.self)
	return len(name) > p && d.prefix.IsPrefix(name) && d.self.IsPrefix(name[len(d.prefix):]) &&
		name[p].Typ == enc.TypeTimestampNameComponent
}

// dataRequest is what an Interest for a publication asks for.
type dataRequest struct {
	node      enc.Name // the producer
	boot, seq uint64
	seg       uint64
	shared    bool // shared layer (else per-node)
}

// parseShared reads name as /<prefix>/<node>/t=<boot>/seq=<n>[/v=0[/seg=<i>]]
// (the shorter forms only with CanBePrefix, answered with segment 0).
func (d *dataNames) parseShared(name enc.Name, canBePrefix bool) (dataRequest, bool) {
	if len(name) <= len(d.prefix) || !d.prefix.IsPrefix(name) {
		return dataRequest{}, false
	}
	rest := name[len(d.prefix):]
	r := dataRequest{shared: true}
	n := len(rest)
	switch {
	case n >= 5 && rest[n-1].Typ == enc.TypeSegmentNameComponent && isImmutable(rest[n-2]):
		r.seg = rest[n-1].NumberVal()
		rest = rest[:n-2]
	case n >= 4 && isImmutable(rest[n-1]) && canBePrefix:
		rest = rest[:n-1]
	case canBePrefix:
	default:
		return dataRequest{}, false
	}
	return r, r.tail(rest)
}

// parsePerNode reads name as /<self>/<group>/t=<boot>/seq=<n>[/seg=<i>].
func (d *dataNames) parsePerNode(name enc.Name, canBePrefix bool) (dataRequest, bool) {
	p := len(d.self) + len(d.group)
	if len(name) < p+2 || !d.self.IsPrefix(name) || !d.group.IsPrefix(name[len(d.self):]) {
		return dataRequest{}, false
	}
	rest := name[p:]
	r := dataRequest{node: d.self}
	switch {
	case len(rest) == 3 && rest[2].Typ == enc.TypeSegmentNameComponent:
		r.seg = rest[2].NumberVal()
	case len(rest) == 2 && canBePrefix:
	default:
		return dataRequest{}, false
	}
	return r, r.bootSeq(rest[0], rest[1])
}

// tail reads <node>/t=<boot>/seq=<n>.
func (r *dataRequest) tail(rest enc.Name) bool {
	n := len(rest)
	if n < 3 {
		return false
	}
	r.node = rest[: n-2 : n-2]
	return r.bootSeq(rest[n-2], rest[n-1])
}

func (r *dataRequest) bootSeq(t, s enc.Component) bool {
	if t.Typ != enc.TypeTimestampNameComponent || s.Typ != enc.TypeSequenceNumNameComponent ||
		!shortestNumber(t) || !shortestNumber(s) {
		return false
	}
	r.boot, r.seq = t.NumberVal(), s.NumberVal()
	return r.seq > 0
}

// shortestNumber reports whether c's value is a NonNegativeInteger in its
// shortest encoding: the names this layer answers with are encoded so, and
// a Data whose name differs from the Interest's would satisfy nothing
// (FuzzParseDataNames found t=<4 bytes> accepted for a 2-byte number).
func shortestNumber(c enc.Component) bool {
	v := c.NumberVal()
	switch {
	case v <= 0xFF:
		return len(c.Val) == 1
	case v <= 0xFFFF:
		return len(c.Val) == 2
	case v <= 0xFFFFFFFF:
		return len(c.Val) == 4
	}
	return len(c.Val) == 8
}

func isImmutable(c enc.Component) bool {
	return c.Typ == enc.TypeVersionNameComponent && c.NumberVal() == enc.VersionImmutable
}

// encodeSegments signs payload as the Data packets of base/seg=<i>, at
// most SegmentSize bytes of payload each (one empty segment for an empty
// payload), every one with FinalBlockId seg=<last>.
func encodeSegments(base enc.Name, payload []byte, signer ndn.Signer) ([][]byte, error) {
	last := 0
	if len(payload) > 0 {
		last = (len(payload) - 1) / SegmentSize
	}
	if signer == nil || signer.Type() == ndn.SignatureNone {
		return makeSegments(base, payload, last, signer)
	}
	s := wire.SegmentData{
		Base: base.TlvStr(), Last: uint64(last), Freshness: dataFreshness,
		SigType: uint64(signer.Type()), SigMax: int(signer.EstimateSize()),
		Sign: func(covered []byte) ([]byte, error) { return signer.Sign(enc.Wire{covered}) },
	}
	if kl := signer.KeyLocator(); kl != nil {
		s.KeyLocator = kl.TlvStr()
	}
	segs := make([][]byte, 0, last+1)
	for i := 0; i <= last; i++ {
		s.Seg = uint64(i)
		s.Content = payload[min(i*SegmentSize, len(payload)):min((i+1)*SegmentSize, len(payload))]
		d, err := wire.EncodeSegmentData(s)
		if err != nil {
			return nil, fmt.Errorf("svs: encode segment %d of %s: %w", i, base, err)
		}
		segs = append(segs, d)
	}
	return segs, nil
}

// makeSegments is encodeSegments by ndnd's encoder, for Data without a
// signature (wire.EncodeSegmentData always signs).
func makeSegments(base enc.Name, payload []byte, last int, signer ndn.Signer) ([][]byte, error) {
	cfg := &ndn.DataConfig{
		ContentType:  optional.Some(ndn.ContentTypeBlob),
		Freshness:    optional.Some(dataFreshness),
		FinalBlockID: optional.Some(enc.NewSegmentComponent(uint64(last))),
	}
	segs := make([][]byte, 0, last+1)
	for i := 0; i <= last; i++ {
		chunk := payload[min(i*SegmentSize, len(payload)):min((i+1)*SegmentSize, len(payload))]
		name := append(base[:len(base):len(base)], enc.NewSegmentComponent(uint64(i)))
		d, err := spec.Spec{}.MakeData(name, cfg, enc.Wire{chunk}, signer)
		if err != nil {
			return nil, fmt.Errorf("svs: encode segment %d of %s: %w", i, base, err)
		}
		segs = append(segs, d.Wire.Join())
	}
	return segs, nil
}

// unavailableData is the producer's answer for a publication of its own
// that it does not hold: a Data of ContentType Nack (an application-level
// Nack, as NDN's ContentType registry defines it) under the Interest's
// name, so that fetchers stop asking at once instead of retrying until
// they give up. A run from..through (through not 0) of numbers the
// producer knows it holds none of (the reservation it resumed above after
// a restart) is the content, two 8-byte big-endian numbers: a fetcher
// skips the whole run with one Interest.
func unavailableData(name enc.Name, from, through uint64, signer ndn.Signer) ([]byte, error) {
	var content enc.Wire
	if through > 0 {
		content = enc.Wire{binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, from), through)}
	}
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{
		ContentType: optional.Some(ndn.ContentTypeNack),
		Freshness:   optional.Some(time.Second),
	}, content, signer)
	if err != nil {
		return nil, err
	}
	return d.Wire.Join(), nil
}

// unavailableError is the producer's application Nack, read: the
// publication is not held, nor any of from..through (0, 0 if unknown).
type unavailableError struct{ from, through uint64 }

func (e unavailableError) Error() string {
	return fmt.Sprintf("%v (%d..%d)", errUnavailable, e.from, e.through)
}

func (e unavailableError) Is(target error) bool { return target == errUnavailable }

// segment is one fetched segment, read and checked.
type segment struct {
	content []byte
	last    uint64 // from FinalBlockId
}

// readSegment decodes raw as segment idx of base, validates it with v
// (nil accepts all) and returns its content and last segment number. It
// returns errUnavailable for the producer's application Nack, and an
// error wrapping ErrBadData for anything else wrong.
func readSegment(raw []byte, base enc.Name, idx uint64, v wire.Validator) (segment, error) {
	data, covered, err := ndnpkt.Data(raw)
	if err != nil {
		return segment{}, fmt.Errorf("%w: %w", ErrBadData, err)
	}
	return checkSegment(data, covered, base, idx, v)
}

// checkSegment is readSegment for a Data already decoded.
func checkSegment(data ndn.Data, covered enc.Wire, base enc.Name, idx uint64, v wire.Validator) (segment, error) {
	name := data.Name()
	if len(name) != len(base)+1 || !base.IsPrefix(name) || name[len(base)].Typ != enc.TypeSegmentNameComponent || name[len(base)].NumberVal() != idx {
		return segment{}, fmt.Errorf("%w: got %s for segment %d of %s", ErrBadData, name, idx, base)
	}
	if v != nil {
		if err := v.Validate(data, covered); err != nil {
			return segment{}, fmt.Errorf("%w: %w: %s: %w", ErrBadData, errRefused, name, err)
		}
	}
	if ct, ok := data.ContentType().Get(); ok && ct == ndn.ContentTypeNack {
		var ue unavailableError
		if c := data.Content().Join(); len(c) == 16 {
			ue.from, ue.through = binary.BigEndian.Uint64(c), binary.BigEndian.Uint64(c[8:])
			if ue.from > idxSeq(name) || ue.through < idxSeq(name) {
				ue = unavailableError{} // a run that does not hold the number asked: ignored
			}
		}
		return segment{}, ue
	}
	fb, ok := data.FinalBlockID().Get()
	if !ok || fb.Typ != enc.TypeSegmentNameComponent {
		return segment{}, fmt.Errorf("%w: %s has no segment FinalBlockId", ErrBadData, name)
	}
	last := fb.NumberVal()
	if last < idx {
		return segment{}, fmt.Errorf("%w: %s is past its FinalBlockId %d", ErrBadData, name, last)
	}
	if last >= MaxPayloadSize/SegmentSize+1 {
		return segment{}, fmt.Errorf("%w: %s announces %d segments", ErrBadData, name, last+1)
	}
	content := data.Content().Join()
	if len(content) > SegmentSize && last > 0 {
		// One oversized segment is accepted (a producer with another
		// segment size); a multi-segment one must respect the size that
		// bounds reassembly memory.
		return segment{}, fmt.Errorf("%w: %s carries %d bytes, over %d", ErrBadData, name, len(content), SegmentSize)
	}
	return segment{content: content, last: last}, nil
}

// idxSeq returns the sequence number of a segment name
// .../seq=<n>/v=0/seg=<i> or .../seq=<n>/seg=<i>, 0 if none.
func idxSeq(name enc.Name) uint64 {
	for i := len(name) - 1; i >= 0 && i >= len(name)-3; i-- {
		if name[i].Typ == enc.TypeSequenceNumNameComponent {
			return name[i].NumberVal()
		}
	}
	return 0
}

// reencode turns a stored shared-layer segment into the same segment under
// another base name (the per-node layer), signed by signer. With
// DigestSha256 the result is the same bytes every time.
func reencode(raw []byte, base enc.Name, idx uint64, signer ndn.Signer) ([]byte, error) {
	data, _, err := ndnpkt.Data(raw)
	if err != nil {
		return nil, err
	}
	cfg := &ndn.DataConfig{
		ContentType:  optional.Some(ndn.ContentTypeBlob),
		Freshness:    optional.Some(dataFreshness),
		FinalBlockID: data.FinalBlockID(),
	}
	name := append(base[:len(base):len(base)], enc.NewSegmentComponent(idx))
	d, err := spec.Spec{}.MakeData(name, cfg, data.Content(), signer)
	if err != nil {
		return nil, err
	}
	return d.Wire.Join(), nil
}

// frameKind classifies a frame that is not a Sync Interest.
type frameKind uint8

const (
	frameOther frameKind = iota
	frameInterest
	frameData
	frameNack
)

// classify reads a frame (bare, or in an NDNLPv2 LpPacket) far enough to
// say what it is, and returns the network-layer packet (aliasing frame),
// its name (aliasing frame) and, for an Interest, its CanBePrefix. For a
// Nack it returns the nacked Interest. A bare Interest, which is what a
// producer on an in-process face reads for every member's fetch of every
// segment, is read with wire.ReadInterest (its name and CanBePrefix, the
// elements checked): ndnd's full parse was 5 % of the CPU of a 64 KiB
// publication at 20 members.
func classify(frame []byte) (kind frameKind, l3 []byte, name enc.Name, canBePrefix bool) {
	if len(frame) == 0 {
		return frameOther, nil, nil, false
	}
	if frame[0] == tlvInterest {
		name, canBePrefix, err := wire.ReadInterest(frame)
		if err != nil {
			return frameOther, nil, nil, false
		}
		return frameInterest, frame, name, canBePrefix
	}
	// Fragments are not reassembled here: ndnpkt refuses them.
	pkt, l3, nack, err := ndnpkt.Read(frame)
	if err != nil {
		return frameOther, nil, nil, false
	}
	switch {
	case pkt.Interest != nil && nack != 0:
		return frameNack, l3, pkt.Interest.NameV, false
	case pkt.Interest != nil:
		return frameInterest, l3, pkt.Interest.NameV, pkt.Interest.CanBePrefixV
	case pkt.Data != nil:
		return frameData, l3, pkt.Data.NameV, false
	}
	return frameOther, nil, nil, false
}
