// Package ndnpkt reads NDN packets with ndnd's application decoder
// (std/ndn/spec_2022) without trusting it with a length. ndnd v1.5.3's
// decoder makes slices of the lengths it reads before it checks that the
// bytes are there, so one malformed packet can make it allocate gigabytes
// and kill the process (fw/link.Wellformed), and it has panicked on
// others. Here an LpPacket is read by this project's NDNLPv2 decoder,
// the packet inside is checked by link.Wellformed first, and a panic of
// ndnd's decoder is an error.
package ndnpkt

import (
	"errors"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// ErrPanicked is a packet on which ndnd's decoder panicked.
var ErrPanicked = errors.New("ndnpkt: malformed packet (ndnd's decoder panicked)")

// errFragment is an LpPacket that holds a fragment or nothing.
var errFragment = errors.New("ndnpkt: an LpPacket without a whole packet")

// Read decodes frame: an Interest or Data, bare or in an NDNLPv2 LpPacket
// that holds it whole. It returns the packet, its bytes (aliasing frame)
// and, for a Nack (an LpPacket's), its reason, at least 1; 0 for anything
// else.
func Read(frame []byte) (pkt *spec.Packet, l3 []byte, nack uint64, err error) {
	l3 = frame
	if len(frame) > 0 && frame[0] == link.TypeLpPacket {
		var lp link.Lp
		if err := link.DecodeLp(frame, &lp); err != nil {
			return nil, nil, 0, err
		}
		if len(lp.Fragment) == 0 || lp.Fragmented() {
			return nil, nil, 0, errFragment
		}
		if lp.Nack {
			nack = max(lp.NackReason, 1)
		}
		l3 = lp.Fragment
	}
	if err := link.Wellformed(l3); err != nil {
		return nil, nil, 0, err
	}
	err = guard(func() (err error) {
		pkt, _, err = spec.ReadPacket(enc.NewBufferView(l3))
		return err
	})
	if err != nil {
		return nil, nil, 0, err
	}
	return pkt, l3, nack, nil
}

// Data decodes a bare Data, and returns what its signature covers.
func Data(raw []byte) (data ndn.Data, covered enc.Wire, err error) {
	if err := link.Wellformed(raw); err != nil {
		return nil, nil, err
	}
	err = guard(func() (err error) {
		data, covered, err = spec.Spec{}.ReadData(enc.NewBufferView(raw))
		return err
	})
	return data, covered, err
}

// Interest decodes a bare Interest, and returns what its signature covers.
func Interest(raw []byte) (intr ndn.Interest, covered enc.Wire, err error) {
	if err := link.Wellformed(raw); err != nil {
		return nil, nil, err
	}
	err = guard(func() (err error) {
		intr, covered, err = spec.Spec{}.ReadInterest(enc.NewBufferView(raw))
		return err
	})
	return intr, covered, err
}

// guard runs f, a call of ndnd's decoder, and turns a panic into
// ErrPanicked.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = ErrPanicked
		}
	}()
	return f()
}
