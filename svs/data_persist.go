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

// persister does the Storage writes that Run must not wait for, on a
// goroutine of its own: reservations of own sequence numbers ahead of
// need, the vector, fetched publications (batched: one PutFetched, one
// commit, for all that arrived meanwhile) and the periodic Prune. Writes
// of own publications are done by the Publish caller, which waits for
// them anyway.
//
// Bounds: the vector is coalesced (only the latest waits); reservations
// are one at a time (Run asks for the next when the last is done);
// fetched publications are bounded by the fetch scheduler's cap on
// outstanding fetches between two batches.
type persister struct {
	store    Storage
	log      *slog.Logger
	ctr      *dataCounters
	progress *progress

	in       *mailbox[persistOp]
	reserved func(reserveResult) // to Run

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
	p.vector = v
	p.mu.Unlock()
	p.in.put(persistOp{})
}

// moved says that deliveries advanced, so that the saved vector may be
// raised at the next save.
func (p *persister) moved() {
	p.mu.Lock()
	p.dirty = true
	p.mu.Unlock()
}

func (p *persister) run(done <-chan struct{}) {
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	refresh := time.NewTicker(time.Second)
	defer refresh.Stop()
	var last *core.Vector
	for {
		select {
		case <-done:
			// What Run handed over before it stopped is written still.
			p.apply(p.in.take())
			p.flush(last)
			return
		case <-prune.C:
			if err := p.store.Prune(); err != nil {
				p.fail("prune", err)
			}
		case <-refresh.C:
			p.mu.Lock()
			if p.dirty && p.vector == nil && last != nil {
				p.vector = last
			}
			p.mu.Unlock()
			last = p.flush(last)
		case <-p.in.wake:
			p.apply(p.in.take())
			last = p.flush(last)
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
	p.vector, p.dirty = nil, false
	p.mu.Unlock()
	if v == nil {
		return last
	}
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
type progress struct {
	mu        sync.Mutex
	delivered map[core.Key]uint64
}

// owe records that (k) is owed from low on, unless already tracked.
func (p *progress) owe(k core.Key, low uint64) {
	p.mu.Lock()
	if _, ok := p.delivered[k]; !ok {
		p.delivered[k] = low - 1
	}
	p.mu.Unlock()
}

// advance records that k was delivered through seq.
func (p *progress) advance(k core.Key, seq uint64) {
	p.mu.Lock()
	if d, ok := p.delivered[k]; !ok || seq > d {
		p.delivered[k] = seq
	}
	p.mu.Unlock()
}

// lower returns v with every tracked pair lowered to what was delivered;
// v itself when nothing is owed. Pairs whose delivery caught up are
// dropped from tracking.
func (p *progress) lower(v *core.Vector) *core.Vector {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out *core.Vector
	for k, d := range p.delivered {
		seq := v.Get(k.Node, k.Boot)
		if seq == 0 || d >= seq {
			// Pruned from the vector, or caught up: nothing owed now
			// (owe starts again from the next Want).
			delete(p.delivered, k)
			continue
		}
		if out == nil {
			out = v.Clone()
		}
		out.Set(k.Node, k.Boot, d)
	}
	if out == nil {
		return v
	}
	return out
}
