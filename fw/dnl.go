package fw

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/named-data/ndnd/fw/core"
	ndnfw "github.com/named-data/ndnd/fw/fw"
	"github.com/named-data/ndnd/fw/table"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/named-data/ndnd/std/types/priority_queue"
)

// The Dead Nonce List drain.
//
// ndnd v1.5.3 remembers the name and nonce of every Interest it forwarded
// in each forwarding thread's Dead Nonce List for 6 s, and drains expired
// entries on a 100 ms ticker, at most 100 per tick: 1,000 entries a second
// per thread. A thread that forwards more Interests than that a second grows
// its list for as long as the load lasts, and a Go map never gives back the
// memory of deleted entries: at 15,000 Interests/s for one minute the list
// holds about 840,000 entries (tens of MB) and takes a quarter of an hour to
// drain. The drain is fixed here by speeding up the ticker while the load
// needs it, and slowing it back down to ndnd's 100 ms when idle so an idle
// node does not wake up more often than ndnd would.
//
// The ticker is an exported field of ndnd's DeadNonceList, but the list is
// an unexported field of fw.Thread: it is read once per thread, before the
// thread starts, through reflect and unsafe. The field's type is checked;
// if a future ndnd changes it, the drain is simply not tuned (and a test
// fails).

const (
	dnlEvictPerTick = 100                    // ndnd's per-tick eviction cap
	dnlSlowTick     = 100 * time.Millisecond // ndnd's own period
	dnlFastestTick  = time.Millisecond
	dnlHeadroom     = 2 // drain this many times faster than entries arrive
)

// dnlOf returns thread's Dead Nonce List, or nil when ndnd's layout is not
// the one this was written for.
func dnlOf(t *ndnfw.Thread) *table.DeadNonceList {
	v := reflect.ValueOf(t).Elem().FieldByName("deadNonceList")
	if !v.IsValid() || v.Type() != reflect.TypeFor[*table.DeadNonceList]() {
		return nil
	}
	return *(**table.DeadNonceList)(unsafe.Pointer(v.UnsafeAddr()))
}

// dnlTicker returns the ticker of thread's Dead Nonce List, or nil when
// ndnd's layout is not the one this was written for.
func dnlTicker(t *ndnfw.Thread) *time.Ticker {
	if dnl := dnlOf(t); dnl != nil {
		return dnl.Ticker
	}
	return nil
}

// The Dead Nonce List compaction.
//
// Even drained, the list keeps the memory of its busiest moment: its map
// (and the slice under its expiration queue) never shrink. After a burst of
// a million Interests that is about 10 MB per node, for good. compact
// rebuilds both, with the entries still live, and lets the old ones go.
// The list belongs to its forwarding thread and has no lock, so compact
// must run on that thread: Forwarder.CompactDeadNonceLists gets it there
// by sending the thread an Interest for a face whose OnFrame callback, run
// by the thread, calls it.

type deadNonces = priority_queue.Queue[uint64, int64]

// dnlParts are the unexported insides of a Dead Nonce List.
type dnlParts struct {
	list  *map[uint64]bool
	queue *deadNonces
}

// dnlPartsOf finds the list's map and queue, or reports false when ndnd's
// layout is not the one this was written for.
func dnlPartsOf(d *table.DeadNonceList) (dnlParts, bool) {
	if d == nil {
		return dnlParts{}, false
	}
	v := reflect.ValueOf(d).Elem()
	l, q := v.FieldByName("list"), v.FieldByName("expirationQueue")
	if !l.IsValid() || l.Type() != reflect.TypeFor[map[uint64]bool]() ||
		!q.IsValid() || q.Type() != reflect.TypeFor[deadNonces]() {
		return dnlParts{}, false
	}
	return dnlParts{
		list:  (*map[uint64]bool)(unsafe.Pointer(l.UnsafeAddr())),
		queue: (*deadNonces)(unsafe.Pointer(q.UnsafeAddr())),
	}, true
}

// compact replaces the list's map and queue with new ones sized for the
// entries still live at now (Unix nanoseconds), in the same order of
// expiry; expired entries not yet drained are dropped, as the drain would.
// It must run on the list's forwarding thread. It returns the number of
// entries kept.
func (p dnlParts) compact(now int64) int {
	old := *p.queue
	q := priority_queue.New[uint64, int64]()
	list := make(map[uint64]bool)
	for old.Len() > 0 {
		expiry := old.PeekPriority()
		h := old.Pop()
		if expiry < now {
			continue
		}
		q.Push(h, expiry)
		list[h] = true
	}
	*p.queue, *p.list = q, list
	return len(list)
}

// dnlPeriod is the ticker period that drains entries arriving at rate per
// second with headroom, between 1 ms and ndnd's 100 ms.
func dnlPeriod(rate float64) time.Duration {
	if rate <= 0 {
		return dnlSlowTick
	}
	d := time.Duration(float64(time.Second) * dnlEvictPerTick / (rate * dnlHeadroom))
	return min(max(d, dnlFastestTick), dnlSlowTick)
}

// drainDeadNonces adjusts each thread's drain once a second, until stop is
// closed. Entries expire lifetime after they were inserted, so the drain
// must keep up with the busiest second of the last lifetime (plus margin),
// not just the last one: when a burst ends, its entries are still to go.
// Every forwarded Interest inserts at most one entry.
func drainDeadNonces(threads []*ndnfw.Thread, tickers []*time.Ticker, lifetime time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	every := time.NewTicker(time.Second)
	defer every.Stop()
	window := int(lifetime/time.Second) + 2
	rates := make([][]uint64, len(threads)) // per thread, the last window seconds
	last := make([]uint64, len(threads))
	period := make([]time.Duration, len(threads))
	for i, t := range threads {
		rates[i] = make([]uint64, window)
		last[i] = t.Counters().NOutInterests
		period[i] = dnlSlowTick
	}
	for sec := 0; ; sec++ {
		select {
		case <-stop:
			return
		case <-every.C:
		}
		for i, t := range threads {
			if tickers[i] == nil {
				continue
			}
			n := t.Counters().NOutInterests
			rates[i][sec%window] = n - last[i]
			last[i] = n
			p := dnlPeriod(float64(slices.Max(rates[i])))
			if p != period[i] {
				tickers[i].Reset(p)
				period[i] = p
			}
		}
	}
}

// dnlPrefix is where compaction Interests go: /ndnsvs-internal/dnl-compact,
// routed, only while a compaction runs, to the forwarder's own face.
var dnlPrefix = enc.Name{enc.NewGenericComponent("ndnsvs-internal"), enc.NewGenericComponent("dnl-compact")}

// ErrDNLLayout is returned by CompactDeadNonceLists when ndnd's Dead Nonce
// List is not laid out as this package expects (another ndnd version).
var ErrDNLLayout = errors.New("fw: ndnd's dead nonce list has an unexpected layout")

// dnlCompactor holds what CompactDeadNonceLists keeps between calls: the
// two faces (made once: a closed in-process face leaves two ndnd goroutines
// behind) and the request in progress.
type dnlCompactor struct {
	mu      sync.Mutex // one compaction at a time
	in, out *Face
	parts   []dnlParts
	token   uint64
	req     atomic.Pointer[dnlRequest]
}

// dnlRequest is one compaction: its token, which threads have done it, and
// what each kept.
type dnlRequest struct {
	token uint64
	done  []atomic.Bool
	kept  chan int
}

// dnlName returns a compaction Interest name that ndnd hashes to thread:
// /ndnsvs-internal/dnl-compact/seq=<thread>/v=<token>/<salt>, salted
// until it does.
func dnlName(thread int, token uint64) enc.Name {
	for salt := uint64(0); ; salt++ {
		n := dnlPrefix.Append(enc.NewSequenceNumComponent(uint64(thread)), enc.NewVersionComponent(token), enc.NewSequenceNumComponent(salt))
		if ndnfw.HashNameToFwThread(n) == thread {
			return n
		}
	}
}

// onFrame is the compaction face's receiver, run by the forwarding thread
// that holds the Interest: the one its name hashes to, which the name also
// says. Anything but an Interest of the request in progress, for a thread
// that has not done it yet, is ignored.
func (c *dnlCompactor) onFrame(frame []byte) {
	r := c.req.Load()
	if r == nil {
		return
	}
	intr, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(frame))
	if err != nil {
		return
	}
	name := intr.Name()
	if len(name) != len(dnlPrefix)+3 || !dnlPrefix.IsPrefix(name) || name[len(dnlPrefix)+1].NumberVal() != r.token {
		return
	}
	i := int(name[len(dnlPrefix)].NumberVal())
	if i < 0 || i >= len(c.parts) || ndnfw.HashNameToFwThread(name) != i || !r.done[i].CompareAndSwap(false, true) {
		return
	}
	r.kept <- c.parts[i].compact(time.Now().UnixNano()) // buffered for every thread
}

// CompactDeadNonceLists rebuilds every forwarding thread's Dead Nonce List
// with only its live entries, so that the memory a burst grew it to can be
// given back (see "The Dead Nonce List compaction" above). Each thread does
// its own, between two packets. It returns once all have, with the number
// of entries kept, or when ctx ends. Run it when the node has gone quiet
// for longer than the list's lifetime (6 s), when the lists are nearly
// empty and the rebuild costs next to nothing. The first call opens two
// in-process faces that stay for the forwarder's lifetime.
func (f *Forwarder) CompactDeadNonceLists(ctx context.Context) (kept int, err error) {
	if err := f.running(); err != nil {
		return 0, err
	}
	c := &f.dnl
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.in == nil {
		if err := c.open(f); err != nil {
			return 0, err
		}
	}
	c.token++
	r := &dnlRequest{token: c.token, done: make([]atomic.Bool, len(c.parts)), kept: make(chan int, len(c.parts))}
	c.req.Store(r)
	defer c.req.Store(nil)
	if err := f.AddRoute(dnlPrefix, c.in.FaceID(), 0, OriginApp); err != nil {
		return 0, err
	}
	defer f.RemoveRoute(dnlPrefix, c.in.FaceID(), OriginApp)
	nonce := uint32(time.Now().UnixNano())
	for i := range c.parts {
		intr, err := spec.Spec{}.MakeInterest(dnlName(i, r.token), &ndn.InterestConfig{
			Lifetime: optional.Some(100 * time.Millisecond),
			Nonce:    optional.Some(nonce + uint32(i)),
		}, nil, nil)
		if err != nil {
			return 0, err
		}
		if err := c.out.Send(intr.Wire); err != nil {
			return 0, err
		}
	}
	for range c.parts {
		select {
		case n := <-r.kept:
			kept += n
		case <-ctx.Done():
			return kept, ctx.Err()
		}
	}
	return kept, nil
}

// open finds every thread's list and opens the two faces.
func (c *dnlCompactor) open(f *Forwarder) error {
	parts := make([]dnlParts, len(ndnfw.Threads))
	for i, t := range ndnfw.Threads {
		p, ok := dnlPartsOf(dnlOf(t))
		if !ok {
			return ErrDNLLayout
		}
		parts[i] = p
	}
	in, err := f.NewFace()
	if err != nil {
		return err
	}
	out, err := f.NewFace()
	if err != nil {
		_ = in.Close()
		return err
	}
	c.parts = parts
	in.OnFrame(c.onFrame)
	in.OnError(func(error) {})
	out.OnPacket(func([]byte) {})
	out.OnError(func(error) {})
	if err := in.Open(); err != nil {
		return err
	}
	if err := out.Open(); err != nil {
		return err
	}
	c.in, c.out = in, out
	return nil
}

// DeadNonceLifetime is how long ndnd keeps an entry in a Dead Nonce List:
// a node quiet for longer has (nearly) empty lists.
func (f *Forwarder) DeadNonceLifetime() time.Duration {
	return time.Duration(core.C.Tables.DeadNonceList.Lifetime) * time.Millisecond
}
