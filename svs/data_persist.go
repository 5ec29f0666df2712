package svs

import (
	"log/slog"
	"sync"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// pruneEvery is how often the persister applies the retention policy
// (Storage.Prune) to a store that is not written to.
const pruneEvery = time.Minute

// vectorSaveSpacing is the least time between two saves of the vector,
// and the longest a fetched publication waits to be stored: both are
// handed over without waking the persister (lazy), which does them in one
// round every vectorSaveSpacing while they come; a member that saved and
// stored on every event woke its persister twice per publication heard.
// The engine's vector changes with every Sync Interest that brings news:
// at 20 members publishing, saving each one (encoding the lowered vector,
// and a commit) took 12 % of the process's CPU. A save is only a floor for
// a restart (the vector saved is lowered to what was delivered), so a
// later one loses nothing: a member that crashes within the spacing
// learns the newer numbers again from the group and fetches again what
// it had not saved, at least once, as after any crash.
const vectorSaveSpacing = 100 * time.Millisecond

// lazyFetchedLimit is how many fetched publications may wait for the
// persister's next round before it is woken at once (a burst).
const lazyFetchedLimit = 64

// persister does the Storage writes that Run must not wait for, on a
// goroutine of its own: reservations of own sequence numbers ahead of
// need, the vector, fetched publications (batched: one PutFetched, one
// commit, for all that arrived meanwhile) and the periodic Prune. Writes
// of own publications are done by the Publish caller, which waits for
// them anyway.
//
// Bounds: the vector is coalesced (only the latest waits, saved at most
// every vectorSaveSpacing); reservations are one at a time (Run asks for
// the next when the last is done); fetched publications wait for at most
// vectorSaveSpacing or lazyFetchedLimit of them, whichever comes first.
type persister struct {
	store    Storage
	log      *slog.Logger
	ctr      *dataCounters
	progress *progress

	in       *mailbox[persistOp]
	lazy     chan struct{}       // something waits for the next round (cap 1)
	reserved func(reserveResult) // to Run

	// release is set by Run, after its loop ended and before done is
	// closed: the reservation to release as the last write.
	release struct {
		boot, seq uint64
		ok        bool
	}

	// inline is set for a store that never waits (neverWaits: a
	// MemoryStorage, whose writes are a map insert under a mutex), so
	// fetched publications go into it at once, on Run, instead of through
	// a round of this goroutine (at 20 members, the persister's rounds
	// were 7 % of the CPU of a 100 B publication); and its contents end
	// with the process, so only the vector saved when the member stops
	// can ever be read (by the next Sync on the same store): the vector
	// is saved then, not every vectorSaveSpacing.
	inline bool

	mu     sync.Mutex
	vector *core.Vector // latest to save, nil if saved
	dirty  bool         // progress moved since the last save
}

type persistOp struct {
	reserve *reserveResult
	fetched *Publication
}

// reserveResult is a reservation to write, and then its outcome for Run.
type reserveResult struct {
	boot, mark uint64
	err        error
}

// saveVector queues v (the engine's latest vector) to be saved; a later
// call replaces an earlier one not yet saved.
func (p *persister) saveVector(v *core.Vector) {
	p.mu.Lock()
	first := p.vector == nil
	p.vector = v
	p.mu.Unlock()
	if first && !p.inline {
		p.poke()
	}
}

// storeFetched queues a fetched publication for the next round, or
// stores it at once in a MemoryStorage (inline).
func (p *persister) storeFetched(pub *Publication) {
	if p.inline {
		if err := p.store.PutFetched(*pub); err != nil {
			p.fail("store fetched publications", err)
		}
		return
	}
	if p.in.putLazy(persistOp{fetched: pub}, lazyFetchedLimit) {
		p.poke()
	}
}

// reserve queues a reservation, done at once: Publish may wait for it.
func (p *persister) reserve(r *reserveResult) {
	p.in.put(persistOp{reserve: r})
}

// poke tells the persister that something waits for its next round.
func (p *persister) poke() {
	select {
	case p.lazy <- struct{}{}:
	default:
	}
}

// moved says that deliveries advanced, so that the saved vector may be
// raised at the next save.
func (p *persister) moved() {
	p.mu.Lock()
	p.dirty = true
	p.mu.Unlock()
}

// finalSaveBound bounds how long Run's return waits for the persister's
// last writes (what was handed to it, the final vector, the release of
// the reservation): a few commits, milliseconds on a healthy disk. Past
// it Run returns anyway; the writes still finish before a Storage Close
// returns (Close lets writes in progress finish), or fail with
// ErrStorageClosed if they had not begun: at least once delivery then
// fetches again what the saved vector does not cover.
const finalSaveBound = 5 * time.Second

// run does the writes until done is closed, and then the last ones: what
// was handed over before (fetched publications, a reservation), the
// vector with every delivery made (the delivery goroutine has ended by
// then: runData's stop), and last, if release is set, the release of the
// reservation above what was published (Storage.Release).
func (p *persister) run(done <-chan struct{}) {
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	refresh := time.NewTicker(time.Second)
	defer refresh.Stop()
	// round fires when the next round is due (armed is true then):
	// vectorSaveSpacing after the last save began (saved).
	round := time.NewTimer(time.Hour)
	round.Stop()
	defer round.Stop()
	var saved time.Time
	armed := false
	arm := func() {
		if !armed {
			round.Reset(max(0, vectorSaveSpacing-time.Since(saved)))
			armed = true
		}
	}
	var last *core.Vector
	save := func() {
		if p.inline {
			return // saved when the member stops
		}
		p.mu.Lock()
		pending := p.vector != nil
		p.mu.Unlock()
		if !pending {
			return
		}
		if time.Since(saved) < vectorSaveSpacing {
			arm()
			return
		}
		saved = time.Now()
		last = p.flush(last)
	}
	for {
		select {
		case <-done:
			p.apply(p.in.take())
			p.mu.Lock()
			if p.dirty && p.vector == nil && last != nil {
				p.vector = last
			}
			p.mu.Unlock()
			p.flush(last)
			if r := p.release; r.ok {
				if err := p.store.Release(r.boot, r.seq); err != nil {
					p.fail("release reservation", err)
				}
			}
			return
		case <-prune.C:
			if err := p.store.Prune(); err != nil {
				p.fail("prune", err)
			}
		case <-refresh.C:
			// Fetched publications waiting are stored before a vector
			// that may count them as delivered is saved.
			p.apply(p.in.take())
			p.mu.Lock()
			if p.dirty && p.vector == nil && last != nil {
				p.vector = last
			}
			p.mu.Unlock()
			save()
		case <-p.lazy:
			arm()
		case <-round.C:
			armed = false
			p.apply(p.in.take())
			save()
		case <-p.in.wake:
			p.apply(p.in.take())
			save()
		}
	}
}

// apply carries out reservations and stores fetched publications, one
// PutFetched for the batch.
func (p *persister) apply(ops []persistOp) {
	var batch []Publication
	for _, op := range ops {
		switch {
		case op.reserve != nil:
			r := *op.reserve
			r.err = p.store.Reserve(r.boot, r.mark)
			if r.err != nil {
				p.fail("reserve", r.err)
			}
			p.reserved(r)
		case op.fetched != nil:
			batch = append(batch, *op.fetched)
		}
	}
	if len(batch) > 0 {
		if err := p.store.PutFetched(batch...); err != nil {
			p.fail("store fetched publications", err)
		}
	}
}

// flush saves the pending vector, lowered to what was delivered, and
// returns the vector saved (or last).
func (p *persister) flush(last *core.Vector) *core.Vector {
	p.mu.Lock()
	v := p.vector
	if v == nil {
		// Nothing to save: progress made stays dirty for the next
		// refresh or the last save.
		p.mu.Unlock()
		return last
	}
	p.vector, p.dirty = nil, false
	p.mu.Unlock()
	if err := p.store.SaveVector(wire.EncodeStateVector(p.progress.lower(v))); err != nil {
		p.fail("save vector", err)
	}
	return v
}

func (p *persister) fail(what string, err error) {
	p.ctr.storeErrors.Add(1)
	p.log.Warn("svs: storage write failed", "op", what, "err", err)
}

// progress is, per producer (node, boot) with publications owed, the
// highest sequence number up to which every publication was delivered to
// the application (or reported missed). The vector saved is lowered to it,
// so that a member restarted after a crash learns again, and fetches
// again, what its application had not yet received: at least once.
//
// A producer is tracked from the moment its numbers are known (dataUpdates,
// before the vector that holds them is handed to the persister) until
// every number owed is delivered: not until a saved vector is caught up,
// since the vector being saved may be older than what Run owes by then.
type progress struct {
	mu        sync.Mutex
	delivered map[core.Key]*owed
}

type owed struct{ delivered, high uint64 }

// owe records that k's numbers low..high are owed, and, unless k is
// tracked, that everything below low was delivered.
func (p *progress) owe(k core.Key, low, high uint64) {
	p.mu.Lock()
	o := p.delivered[k]
	if o == nil {
		o = &owed{delivered: low - 1}
		p.delivered[k] = o
	}
	o.high = max(o.high, high)
	p.mu.Unlock()
}

// advance records that k was delivered through seq.
func (p *progress) advance(k core.Key, seq uint64) {
	p.mu.Lock()
	if o := p.delivered[k]; o != nil {
		o.delivered = max(o.delivered, seq)
	}
	p.mu.Unlock()
}

// lower returns v with every tracked pair lowered to what was delivered;
// v itself when nothing is owed. Pairs with everything owed delivered are
// dropped from tracking.
func (p *progress) lower(v *core.Vector) *core.Vector {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out *core.Vector
	for k, o := range p.delivered {
		if o.delivered >= o.high {
			delete(p.delivered, k)
			continue
		}
		seq := v.Get(k.Node, k.Boot)
		if seq == 0 || o.delivered >= seq {
			continue // pruned from the vector, or this vector is caught up
		}
		if out == nil {
			out = v.Clone()
		}
		out.Set(k.Node, k.Boot, o.delivered)
	}
	if out == nil {
		return v
	}
	return out
}

// cleanStop runs on Run once its loop ended, before the persister's last
// writes: it sets the last one, the release of the reservation above the
// highest own number announced (or learned from the group), so that a
// restart on the same store resumes right after it instead of above the
// reservation (docs/storage.md, "Reservation"). A member that never got to
// hand out numbers (stopped while waiting for its boot) releases nothing.
func (s *Sync) cleanStop() {
	d := s.data
	if d.next == 0 {
		return
	}
	d.persist.release.boot = d.boot
	d.persist.release.seq = max(d.announced.Load(), s.eng.Seq())
	d.persist.release.ok = true
}

// waitBounded waits for wg, at most bound; it reports whether wg was done.
func waitBounded(wg *sync.WaitGroup, bound time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
