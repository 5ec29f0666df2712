package svs

import (
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// dataFrame takes a frame of a bare face that is not a Sync Interest, on
// the face's goroutine (a forwarding thread for an fw.Face), and reports
// whether the publication layer took it: an Interest for a publication
// (to the server), a Data or a Nack (to the fetch worker; a bare Data is
// taken unread, and counted as ignored by the worker if it cannot be
// read). It never
// blocks; the frame is copied, since the face may reuse it.
func (s *Sync) dataFrame(frame []byte) bool {
	d := s.data
	if len(frame) > 0 && frame[0] == tlvData {
		// A bare Data goes to the worker unread: it decodes it on Run
		// anyway, and a forwarding thread satisfying N members' fetches
		// of one publication (one thread per name) decoded it N times
		// more here, on the group's critical path. A face whose Data
		// frames are never reused (fw.Face: the forwarder's copy, handed
		// to every fetching member alike) gives them uncopied: at 20
		// members the copies were 7 % of the CPU of a 64 KiB publication.
		if !s.dataFramesKept {
			frame = clone(frame)
		}
		d.worker.in.put(workerEvent{data: frame})
		return true
	}
	// What is taken aliases the frame, which the face may reuse: a copy,
	// made once, before reading it.
	frame = clone(frame)
	kind, l3, name, canBePrefix := classify(frame)
	switch kind {
	case frameInterest:
		if !d.names.prefix.IsPrefix(name) && !d.names.perNodePrefix().IsPrefix(name) {
			return false
		}
		if !canBePrefix && !d.names.ownShared(name) && !d.names.perNodePrefix().IsPrefix(name) {
			// Another member's publication asked for the first time:
			// its producer answers (dataServer.serve), so the server
			// goroutine is not woken for it.
			return true
		}
		r := serveReq{name: name, canBePrefix: canBePrefix}
		if d.server.sendData == nil {
			r.reply = s.face.Send
		}
		d.server.offer(r)
		return true
	case frameData:
		d.worker.in.put(workerEvent{data: l3})
		return true
	case frameNack:
		d.worker.in.put(workerEvent{nacked: name})
		return true
	}
	return false
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// interestSender is a face that takes an Interest its caller encoded
// together with its description, unparsed (fw.Face.SendInterest).
type interestSender interface {
	SendInterest(frame []byte, name enc.Name, canBePrefix bool, nonce uint32, lifetime time.Duration) error
}

// dataSend returns how the fetch worker expresses a segment Interest: on a
// bare face, encoded by wire.AppendSegmentInterest and sent with
// face.Send, or with its description on a face that takes one
// (interestSender: the forwarder does not parse it again); the reply
// comes back as a frame (dataFrame); on an engine,
// made by ndnd's MakeInterest and sent with Express, whose outcome it
// posts to the worker. It looks at s.e when called: New sets it after
// newSync built the worker.
func (s *Sync) dataSend() func(segInterest) error {
	return func(si segInterest) error {
		if s.e == nil {
			frame := wire.AppendSegmentInterest(nil, si.key, si.seg, si.canBePrefix, si.nonce, si.lifetime)
			if is, ok := s.face.(interestSender); ok {
				return is.SendInterest(frame, si.name(), si.canBePrefix, si.nonce, si.lifetime)
			}
			return s.face.Send(enc.Wire{frame})
		}
		name := si.name()
		intr, err := spec.Spec{}.MakeInterest(name, &ndn.InterestConfig{
			CanBePrefix: si.canBePrefix,
			Lifetime:    optional.Some(si.lifetime),
			Nonce:       optional.Some(si.nonce),
		}, nil, nil)
		if err != nil {
			return err
		}
		w := s.data.worker
		return s.e.Express(intr, func(args ndn.ExpressCallbackArgs) {
			switch args.Result {
			case ndn.InterestResultData:
				w.in.put(workerEvent{data: args.RawData.Join()})
			case ndn.InterestResultNack:
				w.in.put(workerEvent{nacked: name})
			default:
				w.in.put(workerEvent{timedOut: name})
			}
		})
	}
}

// attachData routes what the publication layer serves to this member, from
// Run: the per-node prefix (and a shared prefix outside the group's route)
// through Config.Register, and, on an engine, handlers on the shared and
// per-node prefixes (the engine picks the longest prefix, so Sync
// Interests still reach the handler on /<group>/v=3). The returned
// function detaches the handlers.
func (s *Sync) attachData() (func(), error) {
	d := s.data
	prefixes := s.dataRoutes()
	var attached []enc.Name
	detach := func() {
		for _, p := range attached {
			_ = s.e.DetachHandler(p)
		}
	}
	if s.e != nil {
		handler := func(args ndn.InterestHandlerArgs) {
			d.server.offer(serveReq{name: args.Interest.Name(), canBePrefix: args.Interest.CanBePrefix(), reply: args.Reply})
		}
		for _, p := range append(prefixes, d.names.prefix) {
			if containsName(attached, p) {
				continue
			}
			if err := s.e.AttachHandler(p, handler); err != nil {
				detach()
				return nil, fmt.Errorf("svs: attach handler on %s: %w", p, err)
			}
			attached = append(attached, p)
		}
	}
	var registered []enc.Name
	undo := func() {
		detach()
		// With the engine's own registration (no Config.Register), the
		// routes go when Run returns, as the group's does.
		if s.unregister && s.e.IsRunning() {
			for _, p := range registered {
				_ = s.e.UnregisterRoute(p)
			}
		}
	}
	own := d.names.ownSharedPrefix()
	for _, p := range prefixes {
		register := s.register
		if d.cfg.RegisterOwn != nil && p.Equal(own) {
			register = d.cfg.RegisterOwn
		}
		if err := register(p.Clone()); err != nil {
			undo()
			return nil, fmt.Errorf("svs: register %s: %w", p, err)
		}
		registered = append(registered, p)
	}
	return undo, nil
}

// dataRoutes returns the prefixes the publication layer needs routed to
// the member besides the group's: /<node>/<group>, and the shared prefix
// when the group's route does not cover it.
func (s *Sync) dataRoutes() []enc.Name {
	d := s.data
	prefixes := []enc.Name{d.names.perNodePrefix()}
	if !s.route.IsPrefix(d.names.prefix) {
		prefixes = append(prefixes, d.names.prefix.Clone())
	}
	// The member's own part of the shared layer: longest-prefix match
	// sends a fetch of its publications to it alone on its forwarder
	// (not to every member of the group there, nor back to the LAN);
	// when it is gone, its route goes with its face and fetches fall
	// back to /<group>, where the members that cached them answer.
	return append(prefixes, d.names.ownSharedPrefix())
}

func containsName(l []enc.Name, n enc.Name) bool {
	for _, o := range l {
		if o.Equal(n) {
			return true
		}
	}
	return false
}
