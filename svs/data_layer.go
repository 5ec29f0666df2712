package svs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/named-data/ndnd/std/ndn"
	sig "github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// dataLayer is a member's publication layer: the state Run owns (the fetch
// scheduler and its worker, the in-order release, the own sequence numbers
// handed out and announced, the reservation) and the three goroutines it
// feeds without ever waiting for them: the server, the persister and the
// delivery. docs/svs-driver.md, "Publications".
type dataLayer struct {
	cfg       DataConfig
	names     dataNames
	store     Storage
	signer    ndn.Signer
	validator wire.Validator
	boot      uint64

	// Owned by Run.
	fetcher *core.Fetcher
	order   *core.InOrder[*Message]
	farmed  time.Duration // the scheduler's deadline on Sync.alarm; -1: none
	next    uint64        // next own sequence number to hand out
	mark    uint64        // durable reservation: next may go up to it
	asked   bool          // a reservation write is in flight
	waiting []*pubReq     // seq requests waiting for the reservation
	stored  map[uint64]*pubReq
	wants   map[core.Key]*prodWant // per producer: known and handed to the Fetcher
	dirty   map[core.Key]struct{}  // producers to pump at the end of the event
	// full: the delivery queue is over DeliveryQueue. Set and cleared by
	// Run; read by the delivery goroutine too, which wakes Run when it has
	// drained the queue only while it is set.
	full   atomic.Bool
	outbox []deliverItem       // released in this event, for flush
	wanted map[core.Key]uint64 // highest number handed to the Fetcher
	skip   map[core.Key]run    // a run of numbers the producer holds none of
	news   newsStamp           // the vector that brought the updates (observer_data.go)

	announced atomic.Uint64 // highest own seq announced (read by the server)

	// Inputs of Run, written by any goroutine.
	results  *mailbox[fetchResult]
	reserves *mailbox[reserveResult]
	wake     chan struct{} // one slot: results, reserves or drained
	seqReqs  chan *pubReq
	commits  chan *pubReq

	worker   *fetchWorker
	server   *dataServer
	persist  *persister
	deliv    *delivery
	progress *progress
	subs     subscriptions
	ctr      dataCounters
	// fstats is the fetch scheduler's Stats after Run's last event, for
	// DataStats on any goroutine: a copy under a lock, not a new value
	// behind an atomic pointer, which allocated after every event.
	fstatsMu  sync.Mutex
	fstats    core.FetchStats
	stop      chan struct{} // closed when Run returns: the goroutines end
	wg        sync.WaitGroup
	bootWait  time.Duration // before the first announcement (NewBoot)
	resumeSeq uint64        // own seq to resume at (the reservation)
}

// ErrDataOwnsSeq is returned by SetSeq on a member with a publication
// layer, whose sequence numbers Publish hands out.
var ErrDataOwnsSeq = errors.New("svs: SetSeq on a member with Config.Data: Publish numbers its publications")

// dataCounters count what the publication layer did; see DataStats.
type dataCounters struct {
	published, publishErrors                     atomic.Uint64
	fetched, fetchFailures, badData, unavailable atomic.Uint64
	refused                                      atomic.Uint64
	missed, delivered, subDropped                atomic.Uint64
	served, serveDropped, storeErrors            atomic.Uint64
	heldWants                                    atomic.Uint64
	deliveredUntimed, deliveredNegative          atomic.Uint64
}

// DataStats are the publication layer's counters.
type DataStats struct {
	// Published counts own publications stored and announced;
	// PublishErrors those that failed (store error, Sync stopped).
	Published, PublishErrors uint64
	// Fetched counts publications fetched whole; FetchFailures failed
	// attempts (timeouts, Nacks, bad Data; each may be retried); BadData
	// the attempts failed by a Data that did not decode, had another name,
	// failed validation or did not add up with its other segments;
	// Unavailable publications their producer no longer held.
	Fetched, FetchFailures, BadData, Unavailable uint64
	// Refused counts fetched Data the Validator refused. Each is dropped
	// and its segment asked again within the attempt (anyone on the path
	// may have sent it, not only the producer); an attempt whose segment
	// is refused more than SegmentRetries times fails as BadData.
	Refused uint64
	// Missed counts publications reported to OnMissed (a range counts its
	// size, saturating); Delivered the Messages released in order.
	Missed, Delivered uint64
	// SubDropped counts Messages a full subscription channel dropped.
	SubDropped uint64
	// Served counts Data sent in answer to Interests; ServeDropped the
	// Interests dropped because the server fell ServeQueue behind.
	Served, ServeDropped uint64
	// StoreErrors counts failed Storage calls (other than not found).
	StoreErrors uint64
	// HeldBack counts times a producer's numbers were not handed to the
	// fetch scheduler because the delivery queue was full (a slow
	// OnMessage).
	HeldBack uint64
	// DeliveredUntimed counts delivered Messages whose delivery latency
	// could not be measured (Observer.DeliveryLatency), DeliveredNegative
	// those whose latency was negative (clock offset).
	DeliveredUntimed, DeliveredNegative uint64
	// Fetcher are the scheduler's counters and gauges (outstanding,
	// retries, give-ups, ...).
	Fetcher core.FetchStats
}

// DataStats returns the publication layer's counters (zero without
// Config.Data).
func (s *Sync) DataStats() DataStats {
	d := s.data
	if d == nil {
		return DataStats{}
	}
	st := DataStats{
		Published:     d.ctr.published.Load(),
		PublishErrors: d.ctr.publishErrors.Load(),
		Fetched:       d.ctr.fetched.Load(),
		FetchFailures: d.ctr.fetchFailures.Load(),
		BadData:       d.ctr.badData.Load(),
		Refused:       d.ctr.refused.Load(),
		Unavailable:   d.ctr.unavailable.Load(),
		Missed:        d.ctr.missed.Load(),
		Delivered:     d.ctr.delivered.Load(),
		SubDropped:    d.ctr.subDropped.Load(),
		Served:        d.ctr.served.Load(),
		ServeDropped:  d.ctr.serveDropped.Load(),
		StoreErrors:   d.ctr.storeErrors.Load(),
		HeldBack:      d.ctr.heldWants.Load(),

		DeliveredUntimed:  d.ctr.deliveredUntimed.Load(),
		DeliveredNegative: d.ctr.deliveredNegative.Load(),
	}
	d.fstatsMu.Lock()
	st.Fetcher = d.fstats
	d.fstatsMu.Unlock()
	return st
}

// prepareData opens the publication layer's state before the engine is
// made: the boot and vector to resume from the Storage. It changes cfg's
// Boot and InitialState accordingly.
func prepareData(cfg *Config, seed func() uint64) (*dataLayer, error) {
	dc, err := cfg.Data.withDefaults(seed)
	if err != nil {
		return nil, err
	}
	d := &dataLayer{cfg: dc, signer: cfg.Signer, validator: cfg.Validator, farmed: -1}
	if d.signer == nil {
		d.signer = sig.NewSha256Signer()
	}
	if d.validator == wire.AcceptAll {
		d.validator = nil
	}
	d.store = dc.Storage
	if d.store == nil {
		ms, err := NewMemoryStorage(StorageConfig{Own: DefaultMemoryRetention, Fetched: DefaultMemoryRetention})
		if err != nil {
			return nil, err
		}
		d.store = ms
	}
	prefix := dc.Prefix
	if prefix == nil {
		prefix = cfg.Group
	}
	d.names = dataNames{prefix: prefix.Clone(), group: cfg.Group.Clone(), self: cfg.Node.Clone()}
	if n := nameSize(d.names.shared(cfg.Node, 1<<62, 1<<62)) + 12; n > MaxDataNameSize {
		return nil, fmt.Errorf("%w: publication names of %d bytes, over %d", ErrInvalidConfig, n, MaxDataNameSize)
	}
	if n := nameSize(d.names.perNode(1<<62, 1<<62)) + 12; n > MaxDataNameSize {
		return nil, fmt.Errorf("%w: publication names of %d bytes, over %d", ErrInvalidConfig, n, MaxDataNameSize)
	}

	st, err := d.store.State()
	if err != nil {
		return nil, fmt.Errorf("svs: read storage: %w", err)
	}
	switch {
	case cfg.Boot != 0:
		// The caller chose; resume its reservation if it is the stored one.
		if cfg.Boot == st.Boot {
			d.resumeSeq = st.Reserved
			d.mark = st.Reserved
		}
	case st.Boot != 0:
		cfg.Boot = st.Boot
		d.resumeSeq, d.mark = st.Reserved, st.Reserved
	default:
		// No state: a new incarnation, at a second no earlier start can
		// have taken (NewBoot), waited for in Run before announcing.
		cfg.Boot, d.bootWait = NewBoot(0, time.Now())
	}
	if cfg.InitialState == nil && st.Vector != nil {
		v, err := wire.DecodeStateVector(st.Vector)
		if err != nil {
			// A vector that does not decode is not trusted; the group
			// teaches the member again.
			d.ctr.storeErrors.Add(1)
		} else {
			cfg.InitialState = v
		}
	}
	d.boot = cfg.Boot
	d.fetcher, err = core.NewFetcher(dc.Fetch, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	d.order = core.NewInOrder[*Message](dc.Fetch.Window)
	d.results = newMailbox[fetchResult]()
	d.reserves = newMailbox[reserveResult]()
	d.wake = make(chan struct{}, 1)
	d.seqReqs = make(chan *pubReq)
	d.commits = make(chan *pubReq)
	d.stored = map[uint64]*pubReq{}
	d.wants = map[core.Key]*prodWant{}
	d.dirty = map[core.Key]struct{}{}
	d.wanted = map[core.Key]uint64{}
	d.skip = map[core.Key]run{}
	d.progress = &progress{delivered: map[core.Key]*owed{}}
	d.stop = make(chan struct{})
	return d, nil
}

// run is an inclusive range of sequence numbers; the zero run holds none.
type run struct{ from, through uint64 }

func (r run) holds(seq uint64) bool { return r.through > 0 && r.from <= seq && seq <= r.through }

func newRandFrom(u func() uint64) *rand.Rand { return rand.New(rand.NewPCG(u(), u())) }

func (d *dataLayer) notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// buildData makes the layer's parts, from newSync: frames may reach them
// (through their mailboxes) as soon as the face is open, before Run
// starts their goroutines.
func (s *Sync) buildData() {
	d := s.data
	d.persist = &persister{
		store: d.store, log: s.log, ctr: &d.ctr, progress: d.progress,
		in: newMailbox[persistOp](), lazy: make(chan struct{}, 1),
		reserved: func(r reserveResult) { d.reserves.put(r); d.notify() },
	}
	d.persist.inline = neverWaits(d.store)
	d.deliv = &delivery{
		onMessage: d.cfg.OnMessage, onMissed: d.cfg.OnMissed,
		progress: d.progress, persist: d.persist, limit: d.cfg.DeliveryQueue,
		in:      newMailbox[deliverItem](),
		drained: d.notify, full: &d.full,
	}
	d.server = &dataServer{
		names: &d.names, store: d.store, signer: d.signer, boot: d.boot,
		limit: d.cfg.ServeQueue, announced: &d.announced, ctr: &d.ctr,
		ignored: &s.ctr.ignored,
		in:      newMailbox[serveReq](),
	}
	d.worker = &fetchWorker{
		cfg: &d.cfg, names: &d.names, validator: d.validator, send: s.dataSend(),
		nonces:  rand.New(rand.NewPCG(s.nonces.Uint64(), s.nonces.Uint64())),
		results: func(r fetchResult) { d.results.put(r); d.notify() },
		fetched: s.observer.FetchDuration, ignored: &s.ctr.ignored, refused: &d.ctr.refused,
		in:    newMailbox[workerEvent](),
		jobs:  map[string]*fetchJob{},
		alarm: s.alarm,
		stop:  d.stop,
	}
}

// workerWake is Run's channel for the fetch worker, which runs on Run
// (nil without a publication layer).
func (s *Sync) workerWake() <-chan struct{} {
	if s.data == nil {
		return nil
	}
	return s.data.worker.in.wake
}

// runData starts the layer from Run, before the first announcement: its
// routes, its goroutines, the own sequence numbers, and the wait for a new
// bootstrap time (NewBoot). The returned function, always set, stops the
// goroutines, answers what Run still holds, and closes the subscriptions.
func (s *Sync) runData(ctx context.Context) (func(), error) {
	d := s.data
	pstop := make(chan struct{})
	var pdone sync.WaitGroup
	stop := func() {
		// The delivery and the server end first, so that the persister's
		// last save counts every delivery made; then the persister
		// writes what it was handed, the vector, and the release of the
		// reservation (cleanStop), within finalSaveBound.
		close(d.stop)
		d.wg.Wait()
		s.cleanStop()
		close(pstop)
		if !waitBounded(&pdone, finalSaveBound) {
			s.log.Warn("svs: storage writes at stop still running", "after", finalSaveBound)
		}
		s.failPending()
		for _, sub := range d.subs.snapshot() {
			sub.Close()
		}
	}
	if d.resumeSeq > 0 {
		// The numbers between the last stored one and the reservation
		// were never published: the server answers for them as a run.
		h, err := highestOwn(d.store, d.boot, d.resumeSeq)
		if err != nil {
			d.ctr.storeErrors.Add(1)
			s.log.Warn("svs: read own publications", "err", err)
		} else if h < d.resumeSeq {
			d.server.holeLow, d.server.holeHigh = h+1, d.resumeSeq
		}
	}
	pdone.Add(1)
	go func() { defer pdone.Done(); d.persist.run(pstop) }()
	for _, run := range []func(<-chan struct{}){d.deliv.run, d.server.run} {
		d.wg.Add(1)
		go func() { defer d.wg.Done(); run(d.stop) }()
	}
	detach, err := s.attachData()
	if err != nil {
		return stop, err
	}
	stopAll := func() { detach(); stop() }
	if d.bootWait > 0 {
		t := time.NewTimer(d.bootWait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return stopAll, ctx.Err()
		case <-s.closing:
			return stopAll, nil
		}
	}
	// Own sequence numbers: resume above the reservation (numbers handed
	// out before a crash may have been used), or from the engine's.
	d.next = max(d.resumeSeq, s.eng.Seq()) + 1
	d.announced.Store(s.eng.Seq())
	if d.resumeSeq > s.eng.Seq() {
		// Announce the reservation: the numbers up to it are spent, and
		// the member answers for the unstored ones that it holds nothing.
		rd, err := s.eng.SetSeq(s.now(), d.resumeSeq)
		if err == nil {
			d.announced.Store(d.resumeSeq)
			s.carryOut(rd, nil, result{}, nil, SentAnnounce)
		}
	}
	// The first reservation is asked for by the first publication: a
	// member that never publishes never reserves, so a restart of it
	// announces nothing it did not publish.
	if d.mark > 0 {
		d.askReserve()
	}
	return stopAll, nil
}

// highestOwn returns the highest own sequence number of boot stored at or
// below top (0 if none): a binary search on "some publication is stored in
// [x, top]", which holds for every x up to the answer and for none above,
// whatever holes retention or failed writes left.
func highestOwn(st Storage, boot, top uint64) (uint64, error) {
	some := func(x uint64) (bool, error) {
		p, err := st.OwnRange(boot, x, top, 1)
		return len(p) > 0, err
	}
	if ok, err := some(1); err != nil || !ok {
		return 0, err
	}
	lo, hi := uint64(1), top
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		ok, err := some(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo, nil
}

func (s *Sync) seqReqs() <-chan *pubReq {
	if s.data == nil {
		return nil
	}
	return s.data.seqReqs
}

func (s *Sync) commitReqs() <-chan *pubReq {
	if s.data == nil {
		return nil
	}
	return s.data.commits
}

// askReserve asks the persister to extend the reservation if next comes
// near it (core's ReserveAhead rule) and no write is in flight.
func (d *dataLayer) askReserve() {
	if d.asked {
		return
	}
	mark, ok := ReserveAhead(d.next, d.mark, 0)
	if !ok {
		return
	}
	d.asked = true
	d.persist.reserve(&reserveResult{boot: d.boot, mark: mark})
}

// dataWake is Run's channel for the data layer's events (nil without one,
// which a select never picks).
func (s *Sync) dataWake() <-chan struct{} {
	if s.data == nil {
		return nil
	}
	return s.data.wake
}

// onDataEvents runs on Run: fetch results, reservations, a drained
// delivery queue.
func (s *Sync) onDataEvents() {
	d := s.data
	// What is taken below is all that has been put before the wake-up
	// was sent (every sender puts, then notifies): so a pending wake-up is
	// spent here, before the takes, not by a later turn of Run's select
	// that would find nothing. Mostly it is the fetch worker's own, sent
	// by a result on Run just before this call.
	select {
	case <-d.wake:
	default:
	}
	for _, r := range d.reserves.take() {
		d.asked = false
		if r.err != nil {
			for _, w := range d.waiting {
				w.err = fmt.Errorf("svs: reserve sequence numbers: %w", r.err)
				w.reply <- struct{}{}
			}
			d.waiting = nil
			continue
		}
		d.mark = max(d.mark, r.mark)
		waiting := d.waiting
		d.waiting = nil
		for _, w := range waiting {
			s.assignSeq(w)
		}
		d.askReserve()
	}
	now := s.now()
	for _, r := range d.results.take() {
		s.fetchDone(now, r)
	}
	if d.full.Load() && d.deliv.in.len() <= d.cfg.DeliveryQueue/2 {
		d.full.Store(false)
		for k, w := range d.wants {
			if w.handed < w.known {
				d.dirty[k] = struct{}{}
			}
		}
	}
	s.pump(now)
	s.flush()
	d.storeStats()
}

// onFetchTimer runs on Run when the fetch scheduler's deadline passed.
func (s *Sync) onFetchTimer() {
	d := s.data
	d.farmed = -1
	now := s.now()
	s.fetchReady(d.fetcher.Tick(now))
	s.pump(now)
	s.flush()
	d.storeStats()
}

// dataUpdates feeds the engine's updates (other members' new sequence
// numbers) to the fetch scheduler, on Run.
func (s *Sync) dataUpdates(ups []core.Update) {
	d := s.data
	now := s.now()
	news := d.news
	d.news = newsStamp{}
	for _, u := range ups {
		if u.Node == s.self {
			continue // our own earlier incarnation: we hold it already
		}
		k := core.Key{Node: u.Node, Boot: u.Boot}
		w := d.wants[k]
		if w == nil {
			w = &prodWant{handed: u.Low - 1}
			d.wants[k] = w
		}
		if news.timed {
			w.stamps.add(max(u.Low, w.known+1), u.High, news.ms)
		}
		w.known = max(w.known, u.High)
		d.dirty[k] = struct{}{}
		if w.handed < w.known {
			// Owed from now, even if pump holds the numbers back: the
			// vector that holds them is saved lowered (progress).
			d.progress.owe(k, w.handed+1, w.known)
		}
	}
	s.pump(now)
	s.flush()
	d.storeStats()
}

// prodWant is what Run knows of one producer's numbers: known from sync,
// handed to the Fetcher (and InOrder) so far.
type prodWant struct {
	known, handed uint64
	// free: the producer had give-ups since its last success, so the
	// rest is handed at once, for the Fetcher's stall rule to end it in
	// one report (a peer announcing 10^12 costs a counter).
	free bool
	// stamps: when the numbers not yet released were announced.
	stamps announceStamps
}

// pump hands each dirty producer's known numbers to the Fetcher, at most
// 4·Window beyond the first one not yet released, and none while the
// delivery queue is full: memory then stays bounded by the producers times
// that, whatever a producer announced or a slow OnMessage left waiting.
// A run the producer said it holds none of is handed whole (its gap is
// released at once). Handing may release more (gaps), which marks the
// producer dirty again: it loops until none is.
func (s *Sync) pump(now time.Duration) {
	d := s.data
	for len(d.dirty) > 0 {
		for k := range d.dirty {
			delete(d.dirty, k)
			w := d.wants[k]
			if w == nil {
				continue
			}
			if w.handed >= w.known {
				if _, owed := d.order.Next(k.Node, k.Boot); !owed {
					// All released: forget the producer (a later update
					// starts it again from its Low).
					delete(d.wants, k)
					delete(d.wanted, k)
					delete(d.skip, k)
					d.order.Forget(k.Node, k.Boot)
				}
				continue
			}
			if d.full.Load() {
				d.ctr.heldWants.Add(1)
				continue
			}
			target := w.known
			if !w.free {
				front := w.handed + 1
				if next, ok := d.order.Next(k.Node, k.Boot); ok {
					front = next
				}
				target = min(target, front-1+4*uint64(d.cfg.Fetch.Window))
				if sk := d.skip[k]; sk.holds(w.handed + 1) {
					target = max(target, min(w.known, sk.through))
				}
			}
			if target <= w.handed {
				continue
			}
			low := w.handed + 1
			w.handed = target
			s.want(now, k, low, target)
		}
	}
}

func (s *Sync) want(now time.Duration, k core.Key, low, high uint64) {
	d := s.data
	d.progress.owe(k, low, high)
	d.wanted[k] = max(d.wanted[k], high)
	d.order.Want(k.Node, k.Boot, low, high)
	if sk, ok := d.skip[k]; ok && sk.from <= high && low <= sk.through {
		// The producer said it holds none of these: one gap now; the
		// Fetcher's attempts for them are skipped (fetchReady).
		g := core.GiveUp{Node: k.Node, Boot: k.Boot, Low: max(low, sk.from), High: min(high, sk.through)}
		d.ctr.unavailable.Add(g.Count())
		s.release(d.order.GaveUp(g))
	}
	s.fetchReady(d.fetcher.Want(now, k.Node, k.Boot, low, high))
}

// fetchReady carries out a FetchReady: attempts to the worker, give-ups
// to the in-order release, the timer. An attempt for a number its producer
// said it holds none of (skip) is not sent: it succeeds at once (its gap
// was released with the producer's answer), which may start more.
func (s *Sync) fetchReady(rd core.FetchReady) {
	d := s.data
	for {
		var skipped []core.Fetch
		for i := range rd.Start {
			f := rd.Start[i]
			if d.skip[core.Key{Node: f.Node, Boot: f.Boot}].holds(f.Seq) {
				skipped = append(skipped, f)
				continue
			}
			d.worker.begin(f)
		}
		for _, g := range rd.GiveUps {
			if w := d.wants[core.Key{Node: g.Node, Boot: g.Boot}]; w != nil {
				w.free = true
			}
			s.release(d.order.GaveUp(g))
		}
		if len(skipped) == 0 {
			break
		}
		now := s.now()
		rd = core.FetchReady{}
		for _, f := range skipped {
			r := d.fetcher.Succeeded(now, f)
			rd.Start = append(rd.Start, r.Start...)
			rd.GiveUps = append(rd.GiveUps, r.GiveUps...)
		}
	}
	d.worker.rearm()
	if dl := d.fetcher.Deadline(); dl != core.NoDeadline && (d.farmed < 0 || dl < d.farmed) {
		d.farmed = dl
		s.alarm.want(s.origin.Add(dl))
	}
}

// fetchDone takes an attempt's outcome from the worker.
func (s *Sync) fetchDone(now time.Duration, r fetchResult) {
	d := s.data
	switch {
	case r.err == nil:
		d.ctr.fetched.Add(1)
		if w := d.wants[core.Key{Node: r.f.Node, Boot: r.f.Boot}]; w != nil {
			w.free = false
		}
		s.fetchReady(d.fetcher.Succeeded(now, r.f))
		pub := r.pub
		d.persist.storeFetched(&pub)
		m := &Message{Node: r.node, Boot: r.f.Boot, Seq: r.f.Seq,
			Name: wire.PublicationName(r.node, d.names.group, r.f.Boot, r.f.Seq), Payload: r.payload}
		for _, sub := range d.subs.snapshot() {
			if !sub.opts.InOrder {
				sub.offer(*m)
			}
		}
		rel, err := d.order.Arrived(r.f.Node, r.f.Boot, r.f.Seq, m)
		if err != nil {
			s.log.Debug("svs: publication not released in order", "err", err)
		}
		s.release(rel)
	case errors.Is(r.err, errUnavailable):
		// The gap is released first, then the scheduler told: what it
		// starts next within the run is skipped (fetchReady).
		k := core.Key{Node: r.f.Node, Boot: r.f.Boot}
		if d.skip[k].holds(r.f.Seq) {
			// Within a run already released as a gap.
			s.fetchReady(d.fetcher.Succeeded(now, r.f))
			return
		}
		low, high := r.f.Seq, r.f.Seq
		if ue, ok := r.err.(unavailableError); ok && ue.through > 0 {
			d.skip[k] = run(ue)
			// The run's part that was wanted; InOrder starts a gap at
			// the first number still owed.
			low, high = max(ue.from, 1), min(ue.through, max(d.wanted[k], r.f.Seq))
		}
		d.ctr.unavailable.Add(high - low + 1)
		g := core.GiveUp{Node: r.f.Node, Boot: r.f.Boot, Low: low, High: high, Attempts: r.f.Attempt}
		s.release(d.order.GaveUp(g))
		s.fetchReady(d.fetcher.Succeeded(now, r.f))
		for _, f := range d.worker.drop(k, d.skip[k]) {
			s.fetchReady(d.fetcher.Succeeded(now, f))
		}
	default:
		d.ctr.fetchFailures.Add(1)
		if r.kind == core.FetchInvalid {
			d.ctr.badData.Add(1)
			s.log.Debug("svs: bad publication data", "node", r.node, "boot", r.f.Boot, "seq", r.f.Seq, "err", r.err)
		}
		s.fetchReady(d.fetcher.Failed(now, r.f, r.kind))
	}
}

// release hands what the in-order layer released to the delivery
// goroutine and to in-order subscriptions. A gap with no give-up reason
// is a publication its producer no longer holds (fetchDone).
func (s *Sync) release(rel []core.Release[*Message]) {
	d := s.data
	for _, it := range rel {
		k := core.Key{Node: it.Node, Boot: it.Boot}
		d.dirty[k] = struct{}{}
		if it.Gap != nil {
			node, _ := wire.CoreToName(it.Node)
			why := it.Gap.Reason.String()
			if it.Gap.Reason == 0 {
				why = "unavailable"
			}
			d.ctr.missed.Add(it.Gap.Count())
			if w := d.wants[k]; w != nil {
				w.stamps.drop(it.Gap.High)
			}
			if n := len(d.outbox); n > 0 {
				// One report for adjacent gaps of one reason (a run
				// released in parts within one event).
				if last := d.outbox[n-1].missed; last != nil && d.outbox[n-1].key == k &&
					last.Reason == why && last.High+1 == it.Gap.Low {
					last.High = it.Gap.High
					continue
				}
			}
			m := &Missed{Node: node, Boot: it.Boot, Low: it.Gap.Low, High: it.Gap.High,
				Reason: why, Attempts: it.Gap.Attempts, Last: it.Gap.Last}
			d.outbox = append(d.outbox, deliverItem{key: k, missed: m})
			continue
		}
		d.ctr.delivered.Add(1)
		s.observeDelivered(k, it.Seq)
		for _, sub := range d.subs.snapshot() {
			if sub.opts.InOrder {
				sub.offer(*it.Value)
			}
		}
		d.outbox = append(d.outbox, deliverItem{key: k, msg: it.Value})
	}
}

// flush hands what this event released to the delivery goroutine, at the
// end of the event, and notes whether its queue is now full.
func (s *Sync) flush() {
	d := s.data
	for i, it := range d.outbox {
		d.deliv.in.put(it)
		d.outbox[i] = deliverItem{}
	}
	d.outbox = d.outbox[:0]
	if d.deliv.in.len() > d.cfg.DeliveryQueue {
		// The flag first, then the queue again: the delivery goroutine
		// wakes Run only if it sees the flag after taking the queue
		// (delivery.run), so a queue it took before the flag was set
		// must be seen gone here.
		d.full.Store(true)
		if d.deliv.in.len() <= d.cfg.DeliveryQueue/2 {
			d.full.Store(false)
		}
	}
}

func (d *dataLayer) storeStats() {
	st := d.fetcher.Stats()
	d.fstatsMu.Lock()
	d.fstats = st
	d.fstatsMu.Unlock()
}
