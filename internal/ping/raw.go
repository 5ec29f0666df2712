package ping

import (
	"fmt"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
)

// The raw side of ping: producer and consumer on a bare ndn.Face, with no
// ndn engine, as an application that handles its own packets does (the
// svs driver on an in-process face is one). They measure a face rather
// than an engine.

// frameReceiver is a face that can hand frames over on the sender's
// goroutine (fw.Face.OnFrame); a bare face's receiver uses it when it can.
type frameReceiver interface {
	OnFrame(func(frame []byte))
}

// openRaw sets recv as the receiver of f and opens it.
func openRaw(f ndn.Face, recv func([]byte)) error {
	if fr, ok := f.(frameReceiver); ok {
		fr.OnFrame(recv)
	} else {
		f.OnPacket(recv)
	}
	f.OnError(func(error) {})
	return f.Open()
}

// readPacket parses a frame, unwrapping an NDNLPv2 LpPacket, within the
// frame's bounds (ndnpkt).
func readPacket(frame []byte) (*spec.Packet, error) {
	pkt, _, nack, err := ndnpkt.Read(frame)
	if err != nil {
		return nil, err
	}
	if nack != 0 {
		return nil, fmt.Errorf("ping: Nack")
	}
	return pkt, nil
}

// RawServe opens f and answers every Interest that arrives on it with
// content, DigestSha256-signed, from the face's receive callback. It does
// not route anything to f: the caller does.
func RawServe(f ndn.Face, content []byte) error {
	sg := signer.NewSha256Signer()
	return openRaw(f, func(frame []byte) {
		pkt, err := readPacket(frame)
		if err != nil || pkt.Interest == nil {
			return
		}
		data, err := spec.Spec{}.MakeData(pkt.Interest.Name(), &ndn.DataConfig{}, enc.Wire{content}, sg)
		if err != nil {
			return
		}
		_ = f.Send(data.Wire)
	})
}

// RawConsumer expresses Interests for unique names on a bare face and
// waits for the Data itself.
type RawConsumer struct {
	f      ndn.Face
	prefix enc.Name
	seq    uint64
	nonce  uint32

	mu      sync.Mutex
	pending map[string]chan<- struct{} // by name TLV, the exchanges in flight
	done    chan struct{}              // RoundTrip's
}

// NewRawConsumer opens f for names prefix/<run>/seq=<n>.
func NewRawConsumer(f ndn.Face, prefix enc.Name, run string) (*RawConsumer, error) {
	c := &RawConsumer{f: f, prefix: prefix.Append(enc.NewGenericComponent(run)), pending: map[string]chan<- struct{}{},
		done: make(chan struct{}, 1)}
	err := openRaw(f, func(frame []byte) {
		pkt, err := readPacket(frame)
		if err != nil || pkt.Data == nil {
			return
		}
		key := string(pkt.Data.NameV.Bytes())
		c.mu.Lock()
		done, ok := c.pending[key]
		delete(c.pending, key)
		c.mu.Unlock()
		if ok {
			done <- struct{}{}
		}
	})
	return c, err
}

// express sends the next Interest; done gets a value when its Data comes.
func (c *RawConsumer) express(done chan<- struct{}) (enc.Name, error) {
	c.seq++
	c.nonce++
	name := c.prefix.Append(enc.NewSequenceNumComponent(c.seq))
	intr, err := spec.Spec{}.MakeInterest(name, &ndn.InterestConfig{
		Lifetime: optional.Some(4 * time.Second),
		Nonce:    optional.Some(c.nonce),
	}, nil, nil)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.pending[string(name.Bytes())] = done
	c.mu.Unlock()
	return name, c.f.Send(intr.Wire)
}

// RoundTrips makes n exchanges one after another, with gap idle time before
// each, and returns each one's round trip.
func (c *RawConsumer) RoundTrips(n int, gap time.Duration) ([]time.Duration, error) {
	rtts := make([]time.Duration, 0, n)
	for range n {
		if gap > 0 {
			time.Sleep(gap) // the idle gap is what is measured, not a wait
		}
		d, err := c.RoundTrip()
		if err != nil {
			return rtts, err
		}
		rtts = append(rtts, d)
	}
	return rtts, nil
}

// RoundTrip makes one exchange and returns its round trip.
func (c *RawConsumer) RoundTrip() (time.Duration, error) {
	t0 := time.Now()
	name, err := c.express(c.done)
	if err != nil {
		return 0, err
	}
	select {
	case <-c.done:
	case <-time.After(4 * time.Second):
		return 0, fmt.Errorf("%w: %s: no Data", ErrFailed, name)
	}
	return time.Since(t0), nil
}

// Pipeline makes n exchanges with at most window outstanding and returns
// how long they took.
func (c *RawConsumer) Pipeline(n, window int) (time.Duration, error) {
	done := make(chan struct{}, window)
	t0 := time.Now()
	inFlight := 0
	for sent := 0; sent < n || inFlight > 0; {
		if sent < n && inFlight < window {
			if _, err := c.express(done); err != nil {
				return 0, err
			}
			sent++
			inFlight++
			continue
		}
		select {
		case <-done:
			inFlight--
		case <-time.After(4 * time.Second):
			return 0, fmt.Errorf("%w: %d exchanges without Data", ErrFailed, inFlight)
		}
	}
	return time.Since(t0), nil
}
