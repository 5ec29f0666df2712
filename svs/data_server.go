package svs

import (
	"errors"
	"sync"
	"sync/atomic"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// dataServer answers Interests for publications from the Storage, on a
// goroutine of its own: Storage reads may wait for a lock or a disk,
// which neither a forwarding thread nor Run may do (a MemoryStorage's
// only wait for another call's map work: see inline). Interests wait in a
// mailbox of at most DataConfig.ServeQueue; beyond it they are dropped
// and counted (the fetcher asks again).
type dataServer struct {
	names  *dataNames
	store  Storage
	signer ndn.Signer
	boot   uint64
	limit  int
	// announced is the highest own sequence number announced in this
	// incarnation: an own publication at or below it that the store does
	// not hold was lost or removed, and is answered with an application
	// Nack; above it, not yet published, and left unanswered.
	announced *atomic.Uint64
	// holeLow..holeHigh (this incarnation) are the numbers a restart
	// resumed above: reserved before the crash, never stored. Set before
	// the goroutine starts.
	holeLow, holeHigh uint64
	ctr               *dataCounters
	ignored           *atomic.Uint64 // Stats.Ignored: Interests under the prefixes that name no publication

	in *mailbox[serveReq]
	// inline is set for a store that never waits (neverWaits) on a face
	// that takes SendData (fw.Face): offer answers Interests on the
	// goroutine they arrive on (a forwarding thread) instead of handing
	// them to the server's. At 20 members the producer's one server
	// goroutine, woken for each of the ~17 fetches of a publication that
	// the PIT does not aggregate, waited to be scheduled among the
	// members' Run goroutines. serve is then called on several goroutines
	// at once: signedMu guards signed.
	inline   bool
	signedMu sync.Mutex
	// sendData answers on a bare face that takes a Data with the name it
	// answers (fw.Face.SendData), for the requests with no reply; set by
	// NewOnFace.
	sendData func(frame []byte, name enc.Name) error

	// signed caches the per-node answers (a stored segment re-signed under
	// the v3 name): with a key signer each signature costs 0.1 ms (Ed25519)
	// to milliseconds (RSA), and anyone may ask for the same segment again
	// and again. Guarded by signedMu (serve runs on forwarding threads
	// when inline); at most signedCacheSize entries, the oldest dropped
	// first.
	signed     map[signedKey][]byte
	signedRing [signedCacheSize]signedKey // insertion order; signedNext is the oldest once full
	signedNext int
}

// signedCacheSize bounds the per-node answers kept signed.
const signedCacheSize = 256

type signedKey struct{ boot, seq, seg uint64 }

// perNodeAnswer returns segment seg of own publication (boot, seq) signed
// under its per-node name, from the cache or signed now.
func (d *dataServer) perNodeAnswer(pub Publication, boot, seq, seg uint64) ([]byte, error) {
	k := signedKey{boot, seq, seg}
	d.signedMu.Lock()
	defer d.signedMu.Unlock()
	if out, ok := d.signed[k]; ok {
		return out, nil
	}
	out, err := reencode(pub.Segments[seg], d.names.perNode(boot, seq), seg, d.signer)
	if err != nil {
		return nil, err
	}
	if d.signed == nil {
		d.signed = make(map[signedKey][]byte, signedCacheSize)
	}
	if len(d.signed) >= signedCacheSize {
		delete(d.signed, d.signedRing[d.signedNext])
	}
	d.signed[k] = out
	d.signedRing[d.signedNext] = k
	d.signedNext = (d.signedNext + 1) % signedCacheSize
	return out, nil
}

// dataSender is a bare face that takes a Data together with the name of
// the Interest it answers (fw.Face.SendData).
type dataSender interface {
	SendData(frame []byte, name enc.Name) error
}

// serveReq is one Interest to answer; reply sends a Data back the way the
// Interest came (the bare face's Send, or the engine's Reply); nil means
// the server's sendData.
type serveReq struct {
	name        enc.Name // the Interest's, read where it arrived (classify, or the engine)
	canBePrefix bool
	reply       func(enc.Wire) error
}

// offer queues an Interest, or answers it at once when inline; it never
// blocks.
func (d *dataServer) offer(r serveReq) {
	if d.inline {
		d.serve(r)
		return
	}
	if !d.in.putBounded(r, d.limit) {
		d.ctr.serveDropped.Add(1)
	}
}

func (d *dataServer) run(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-d.in.wake:
			for _, r := range d.in.take() {
				d.serve(r)
			}
		}
	}
}

func (d *dataServer) serve(r serveReq) {
	name, canBePrefix := r.name, r.canBePrefix
	req, ok := d.names.parseShared(name, canBePrefix)
	if !ok {
		if req, ok = d.names.parsePerNode(name, canBePrefix); !ok {
			d.ignored.Add(1)
			return
		}
	}
	own := req.node.Equal(d.names.self)
	if !own && !canBePrefix {
		// A cacher answers only a fetcher that asks again (CanBePrefix,
		// fetchWorker.ask): the producer answers the first ask, and N−1
		// cachers answering every Interest would multiply the traffic.
		return
	}
	var pub Publication
	var err error
	if own {
		pub, err = d.store.Own(req.boot, req.seq)
	} else {
		pub, err = d.store.Fetched(wire.NameToCore(req.node), req.boot, req.seq)
	}
	var out []byte
	switch {
	case errors.Is(err, ErrNotFound):
		if !own || req.boot > d.boot || (req.boot == d.boot && req.seq > d.announced.Load()) {
			return // a cacher that lacks it, or not published yet: silence
		}
		var from, through uint64
		if req.boot == d.boot && req.seq >= d.holeLow && req.seq <= d.holeHigh {
			from, through = d.holeLow, d.holeHigh
		}
		out, err = unavailableData(name, from, through, d.signer)
	case err != nil:
		d.ctr.storeErrors.Add(1)
		return
	case req.seg >= uint64(len(pub.Segments)):
		return
	case req.shared:
		out = pub.Segments[req.seg]
	default:
		out, err = d.perNodeAnswer(pub, req.boot, req.seq, req.seg)
	}
	if err != nil {
		return
	}
	if r.reply == nil {
		err = d.sendData(out, name)
	} else {
		err = r.reply(enc.Wire{out})
	}
	if err == nil {
		d.ctr.served.Add(1)
	}
}
