package svs

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// minRetrySpacing is the least time between two asks of one segment:
// ndnd's multicast strategy (fw/fw/multicast.go, MulticastSuppressionTime)
// drops a retransmission within 500 ms of the last Interest it forwarded
// under the same name, so an earlier retry would be lost on the way.
const minRetrySpacing = 600 * time.Millisecond

// maxPartialBytes bounds, per member, the segments kept from failed
// attempts of publications not yet fetched whole (raw packets, as
// stored): 16 MiB, sixteen 1 MiB publications. Beyond it the oldest
// partial is dropped, and its next attempt starts over.
const maxPartialBytes = 16 << 20

// fetchWorker carries out the attempts the core.Fetcher starts, on Run's
// goroutine: it expresses the segment Interests of each attempt, matches
// the Data that come back (handed over by the face's goroutine through
// its mailbox), validates and reassembles them, and hands each attempt's
// outcome back as a fetchResult. What an attempt is, when to retry it and
// when to give up is the Fetcher's (pure, scripted in svs/svstest); the
// worker only retries a segment within an attempt
// (DataConfig.SegmentRetries) so that one lost packet of a 1 MiB
// publication does not cost the whole attempt, and keeps the segments a
// failed attempt received (partials) so that the next attempt of the same
// publication asks only for the missing ones: under 20 % loss an attempt
// of 132 segments almost never completes from scratch. It ran on a goroutine of
// its own at first: one hand-off more per fetched Data, and about 20 %
// more publish-to-delivered time at 20 members.
//
// Bounds: at most Fetch.MaxOutstanding attempts (the Fetcher's cap), each
// with at most SegmentWindow segment Interests out and MaxPayloadSize
// bytes; the partials of failed attempts, at most maxPartialBytes.
type fetchWorker struct {
	cfg       *DataConfig
	names     *dataNames
	validator wire.Validator
	send      func(si segInterest) error // bare face or engine (Sync.dataSend)
	nonces    *rand.Rand
	results   func(fetchResult)   // to Run's data events
	fetched   func(time.Duration) // Observer.FetchDuration, or nil
	ignored   *atomic.Uint64      // Stats.Ignored: Data that cannot be read
	refused   *atomic.Uint64      // DataStats.Refused: Data the Validator refused

	in   *mailbox[workerEvent]
	jobs map[string]*fetchJob // by base name (TlvStr)

	// stop ends the waiters of Data held for their Validator; waiting
	// counts those waiters (at most maxWaiting).
	stop    <-chan struct{}
	waiting atomic.Int32

	// partials are failed attempts' jobs kept for their segments, by base
	// name; partialBytes the sum of their bytes, kept counts keeps (a
	// partial's keptAt orders them for eviction).
	partials     map[string]*fetchJob
	partialBytes int
	kept         uint64

	alarm *alarm    // Run's, shared with the engine and the scheduler
	armed time.Time // the earliest deadline asked of the alarm; zero: none

	// producers remembers, per producer fetched from, its name decoded
	// and its latest publication's last segment number: a new fetch of
	// the producer asks that many segments at once, with the first
	// (guess), instead of one round trip for the first segment and then
	// the rest. At most maxProducers; beyond, it starts over.
	producers map[core.Name]*producerInfo
}

type producerInfo struct {
	name enc.Name // wire.CoreToName of the key, done once
	last uint64
}

// maxProducers bounds fetchWorker.producers.
const maxProducers = 4096

// producer returns what is remembered of node, decoding its name the
// first time.
func (w *fetchWorker) producer(node core.Name) (*producerInfo, error) {
	if p, ok := w.producers[node]; ok {
		return p, nil
	}
	name, err := wire.CoreToName(node)
	if err != nil {
		return nil, err
	}
	if w.producers == nil || len(w.producers) >= maxProducers {
		w.producers = map[core.Name]*producerInfo{}
	}
	p := &producerInfo{name: name}
	w.producers[node] = p
	return p, nil
}

// segInterest is a segment Interest for the face or the engine to send.
type segInterest struct {
	base        enc.Name // the publication's name, without the segment
	key         string   // base.TlvStr(): its components, encoded
	seg         uint64
	canBePrefix bool
	nonce       uint32
	lifetime    time.Duration
}

// name is the Interest's name.
func (si segInterest) name() enc.Name {
	return append(si.base[:len(si.base):len(si.base)], enc.NewSegmentComponent(si.seg))
}

// workerEvent is one input of the worker: an attempt to start, a frame
// from the face (Data or Nack), or an engine's Express outcome.
type workerEvent struct {
	start  *core.Fetch
	data   []byte // a Data packet (owned)
	nacked enc.Name
	// timedOut is an engine's timeout of the segment Interest named.
	timedOut enc.Name
}

// fetchJob is one attempt in progress.
type fetchJob struct {
	f        core.Fetch
	node     enc.Name
	base     enc.Name // /<prefix>/<node>/t=<boot>/seq=<n>/v=0
	key      string
	last     int64 // -1 until a segment told
	next     uint64
	got      int
	segs     [][]byte // raw packets, as stored
	contents enc.Wire
	bytes    int    // of segs
	keptAt   uint64 // when kept as a partial (fetchWorker.kept)
	out      map[uint64]*segAsk
	start    time.Time // for Observer.FetchDuration
	progress time.Time // the last segment received
}

type segAsk struct {
	deadline time.Time
	tries    int
	since    time.Time // the first ask of this round of tries
}

// fetchResult is an attempt's outcome, for Run.
type fetchResult struct {
	f       core.Fetch
	node    enc.Name
	pub     Publication // Segments set on success
	payload enc.Wire    // the segments' Content, aliasing pub.Segments
	err     error
	kind    core.FetchError // 0 on success
}

// events carries out what waits in the worker's mailbox, on Run.
func (w *fetchWorker) events() {
	for _, ev := range w.in.take() {
		w.handle(ev)
	}
	w.rearm()
}

// fire runs on Run when the worker's deadline came (Sync.onAlarm).
func (w *fetchWorker) fire() {
	w.armed = time.Time{}
	w.expire(time.Now())
	w.rearm()
}

func (w *fetchWorker) handle(ev workerEvent) {
	switch {
	case ev.start != nil:
		w.begin(*ev.start)
	case ev.data != nil:
		w.onData(ev.data)
	case ev.nacked != nil:
		if j, seg, ok := w.lookup(ev.nacked); ok && j.out[seg] != nil {
			w.finish(j, fetchResult{err: errors.New("svs: fetch Interest nacked"), kind: core.FetchNack})
		}
	case ev.timedOut != nil:
		// The engine's timeout cannot tell which of the Interests sent
		// under this name it is for: the previous try's came just after
		// the worker's own deadline had asked again, expired the new
		// ask at once, and the next try, within 500 ms of the last, was
		// dropped by the multicast strategy (minRetrySpacing): a whole
		// window spent its tries in two seconds (internal/publab). The
		// ask's own deadline decides.
		w.expire(time.Now())
	}
}

func (w *fetchWorker) begin(f core.Fetch) {
	p, err := w.producer(f.Node)
	if err != nil {
		w.results(fetchResult{f: f, err: err, kind: core.FetchOther})
		return
	}
	node := p.name
	base := w.names.shared(node, f.Boot, f.Seq)
	key := base.TlvStr()
	if old, ok := w.jobs[key]; ok {
		// A retry of an attempt still running here (the Fetcher timed
		// it out first): continue the old one under the new attempt.
		old.f = f
		return
	}
	if j := w.resume(key); j != nil {
		// A retry of an attempt that failed here: ask only for the
		// segments it did not get.
		j.f, j.node, j.base = f, node, base
		j.out, j.next, j.start = map[uint64]*segAsk{}, 0, time.Now()
		w.jobs[key] = j
		w.fill(j)
		return
	}
	j := &fetchJob{f: f, node: node, base: base, key: key, last: -1, out: map[uint64]*segAsk{}, start: time.Now()}
	w.jobs[key] = j
	w.ask(j, 0, 0, time.Time{})
	w.guess(j, p.last)
}

// guess asks, with the first segment of a new attempt, for as many more as
// the producer's latest publication had (last, its last segment number),
// within the window: a publication of 64 KiB then takes one round trip,
// not two. A producer's publications are mostly alike in size; a guess
// too large costs an Interest per segment too many, which the producer
// leaves unanswered (dataServer.serve) and the first Data received
// withdraws (got); one too small, the round trip it would have cost
// anyway.
func (w *fetchWorker) guess(j *fetchJob, last uint64) {
	for seg := uint64(1); seg <= last && len(j.out) < w.cfg.SegmentWindow; seg++ {
		w.ask(j, seg, 0, time.Time{})
		if w.jobs[j.key] != j {
			return // the send failed and finished the job
		}
	}
}

// keep holds the segments of j, whose attempt failed, for its next
// attempt, dropping the oldest partials beyond maxPartialBytes (j itself
// if it alone is over). Nothing is kept after the last attempt the
// Fetcher allows: it gives up.
func (w *fetchWorker) keep(j *fetchJob) {
	if j.got == 0 || j.f.Attempt >= w.cfg.Fetch.MaxAttempts {
		return
	}
	if w.partials == nil {
		w.partials = map[string]*fetchJob{}
	}
	w.kept++
	j.out, j.keptAt = nil, w.kept // no Interest of a partial is awaited
	w.partials[j.key] = j
	w.partialBytes += j.bytes
	for w.partialBytes > maxPartialBytes {
		// A linear scan: partials are few (each holds at least one
		// segment, so at most maxPartialBytes/SegmentSize of them) and
		// evictions rare.
		var oldest *fetchJob
		for _, p := range w.partials {
			if oldest == nil || p.keptAt < oldest.keptAt {
				oldest = p
			}
		}
		w.forget(oldest.key)
	}
}

// resume takes the partial kept under key, or returns nil.
func (w *fetchWorker) resume(key string) *fetchJob {
	j, ok := w.partials[key]
	if !ok {
		return nil
	}
	w.forget(key)
	return j
}

// forget drops the partial under key, if any.
func (w *fetchWorker) forget(key string) {
	if j, ok := w.partials[key]; ok {
		delete(w.partials, key)
		w.partialBytes -= j.bytes
	}
}

// ask expresses segment seg of j (tries counts earlier tries; since is
// when their round began, zero for now).
func (w *fetchWorker) ask(j *fetchJob, seg uint64, tries int, since time.Time) {
	// A first ask goes to the producer alone; asking again (CanBePrefix
	// set) lets members that cached the publication answer too
	// (dataServer.serve): no answer from every cacher to every fetch.
	err := w.send(segInterest{
		base: j.base, key: j.key, seg: seg,
		canBePrefix: tries > 0 || j.f.Attempt > 1,
		nonce:       w.nonces.Uint32(),
		lifetime:    w.cfg.SegmentLifetime,
	})
	if err != nil {
		w.finish(j, fetchResult{err: err, kind: core.FetchOther})
		return
	}
	now := time.Now()
	if since.IsZero() {
		since = now
	}
	j.out[seg] = &segAsk{deadline: now.Add(max(w.cfg.SegmentLifetime, minRetrySpacing)), tries: tries, since: since}
	if seg >= j.next {
		j.next = seg + 1
	}
}

// lookup finds the job and segment number of a segment name.
func (w *fetchWorker) lookup(name enc.Name) (*fetchJob, uint64, bool) {
	if len(name) == 0 || name[len(name)-1].Typ != enc.TypeSegmentNameComponent {
		return nil, 0, false
	}
	j, ok := w.jobs[name[:len(name)-1].TlvStr()]
	if !ok {
		return nil, 0, false
	}
	return j, name[len(name)-1].NumberVal(), true
}

func (w *fetchWorker) onData(raw []byte) {
	if w.validator == nil {
		// The common case without ndnd's decoder (rawSegment); what it
		// does not answer goes the long way below.
		if key, seg, sg, ok := rawSegment(raw); ok {
			j, found := w.jobs[string(key)]
			if found && j.out[seg] != nil {
				w.got(j, seg, raw, sg)
			}
			return
		}
	}
	data, covered, err := ndnpkt.Data(raw)
	if err != nil {
		if w.ignored != nil {
			w.ignored.Add(1) // as onFrame counts a frame nobody takes
		}
		return
	}
	j, seg, ok := w.lookup(data.Name())
	if !ok || j.out[seg] == nil {
		return // late, duplicate (a cacher answered too) or not asked for
	}
	sg, err := checkSegment(data, covered, j.base, seg, w.validator)
	if pe, ok := isPending(err); ok {
		w.wait(raw, pe)
		return
	}
	if errors.Is(err, errRefused) {
		w.reject(j, seg)
		return
	}
	switch {
	case errors.Is(err, errUnavailable):
		w.finish(j, fetchResult{err: err})
		return
	case err != nil:
		w.finish(j, fetchResult{err: err, kind: core.FetchInvalid})
		return
	}
	w.got(j, seg, raw, sg)
}

// got takes segment seg of j, read and checked, and completes or goes on
// with the attempt.
func (w *fetchWorker) got(j *fetchJob, seg uint64, raw []byte, sg segment) {
	if j.last < 0 {
		j.last = int64(sg.last)
		j.segs = make([][]byte, sg.last+1)
		j.contents = make(enc.Wire, sg.last+1)
		if p, ok := w.producers[j.f.Node]; ok {
			p.last = sg.last
		}
		for s := range j.out {
			if s > sg.last {
				delete(j.out, s) // guessed too many (guess)
			}
		}
	} else if uint64(j.last) != sg.last {
		w.finish(j, fetchResult{err: ErrBadData, kind: core.FetchInvalid})
		return
	}
	delete(j.out, seg)
	j.progress = time.Now()
	if j.segs[seg] == nil {
		j.segs[seg] = raw
		j.contents[seg] = sg.content
		j.bytes += len(raw)
		j.got++
	}
	if j.got == len(j.segs) {
		if w.fetched != nil {
			w.fetched(time.Since(j.start))
		}
		w.finish(j, fetchResult{
			pub:     Publication{Node: j.f.Node, Boot: j.f.Boot, Seq: j.f.Seq, Segments: j.segs},
			payload: j.contents, // not joined: Message.Payload is read-only
		})
		return
	}
	w.fill(j)
}

// reject drops a segment the Validator refused and asks for it again at
// once, within the attempt (one more of its SegmentRetries). A forged Data
// satisfied the pending Interest in its place, so the producer's real
// answer, if it comes, finds no Interest: it must be asked again. Ending
// the whole attempt instead, as for a Data that does not add up, let an
// attacker who answers first a few times make a publication be given up,
// losing the attempt's good segments each time.
func (w *fetchWorker) reject(j *fetchJob, seg uint64) {
	a := j.out[seg]
	if w.refused != nil {
		w.refused.Add(1)
	}
	if a.tries >= w.cfg.SegmentRetries {
		w.finish(j, fetchResult{err: fmt.Errorf("%w: segment %d refused %d times", ErrBadData, seg, a.tries+1), kind: core.FetchInvalid})
		return
	}
	w.ask(j, seg, a.tries+1, a.since)
}

// maxWaiting bounds the fetched Data waiting for a certificate at once.
const maxWaiting = 64

// wait hands raw back to the worker when the certificate its Validator is
// fetching has arrived or failed (pe.Ready). The segment stays asked for:
// if more than maxWaiting wait, or the member stops first, the segment's
// deadline asks again, as for a lost packet.
func (w *fetchWorker) wait(raw []byte, pe *wire.PendingError) {
	if w.waiting.Add(1) > maxWaiting {
		w.waiting.Add(-1)
		return
	}
	go func() {
		defer w.waiting.Add(-1)
		select {
		case <-pe.Ready:
			w.in.put(workerEvent{data: raw})
		case <-w.stop:
		}
	}()
}

// fill asks for the next segments j does not hold, up to SegmentWindow
// out at once.
func (w *fetchWorker) fill(j *fetchJob) {
	for len(j.out) < w.cfg.SegmentWindow && j.last >= 0 && j.next <= uint64(j.last) {
		if j.segs[j.next] != nil {
			j.next++
			continue
		}
		w.ask(j, j.next, 0, time.Time{})
		if w.jobs[j.key] != j {
			return // the send failed and finished the job
		}
	}
}

// expire asks again for the segments whose Interest expired, or fails
// their attempt with FetchTimeout once SegmentRetries are spent with no
// segment of the attempt received since the first of them. An attempt
// that still receives segments goes on (its spent segment starts a new
// round of tries): a lost packet is no sign of a silent producer, and
// under 20 % loss the 132 segments of a 1 MiB publication would
// otherwise spend the retries of one of them every few dozen segments,
// ending every attempt long before its end. The Fetcher's AttemptTimeout
// still bounds the attempt.
func (w *fetchWorker) expire(now time.Time) {
	for _, j := range w.jobs {
		for seg, a := range j.out {
			if a.deadline.After(now) {
				continue
			}
			since := a.since
			if a.tries >= w.cfg.SegmentRetries {
				if !j.progress.After(a.since) {
					w.finish(j, fetchResult{err: errors.New("svs: no answer"), kind: core.FetchTimeout})
					break
				}
				since = now
			}
			w.ask(j, seg, a.tries+1, since)
			if w.jobs[j.key] != j {
				break
			}
		}
	}
}

func (w *fetchWorker) rearm() {
	var next time.Time
	for _, j := range w.jobs {
		for _, a := range j.out {
			if next.IsZero() || a.deadline.Before(next) {
				next = a.deadline
			}
		}
	}
	if next.IsZero() || (!w.armed.IsZero() && !next.Before(w.armed)) {
		return
	}
	w.armed = next
	w.alarm.want(next)
}

func (w *fetchWorker) finish(j *fetchJob, r fetchResult) {
	delete(w.jobs, j.key)
	switch {
	case r.err == nil, errors.Is(r.err, errUnavailable), r.kind == core.FetchInvalid:
		// Fetched whole; or nothing more to fetch; or segments that do
		// not add up, which a retry fetches afresh.
	default:
		w.keep(j)
	}
	r.f, r.node = j.f, j.node
	w.results(r)
}

// drop ends, with no result, the attempts in progress for k's numbers in
// r (a run its producer said it holds none of) and returns them, so that
// Run counts them done at once: an Interest of the run that got no answer
// would otherwise hold a place of the producer's Window until it timed
// out, and what follows the run would wait for it. A late Data for them
// is ignored (no job).
func (w *fetchWorker) drop(k core.Key, r run) []core.Fetch {
	var out []core.Fetch
	for key, j := range w.partials {
		if j.f.Node == k.Node && j.f.Boot == k.Boot && r.holds(j.f.Seq) {
			w.forget(key)
		}
	}
	for key, j := range w.jobs {
		if j.f.Node == k.Node && j.f.Boot == k.Boot && r.holds(j.f.Seq) {
			delete(w.jobs, key)
			out = append(out, j.f)
		}
	}
	return out
}
