package svs

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// Message is one publication of another member, fetched and checked.
type Message struct {
	// Node is the producer's name; Boot and Seq its incarnation and
	// sequence number.
	Node      enc.Name
	Boot, Seq uint64
	// Name is the publication's SVS v3 name,
	// /<node>/<group>/t=<boot>/seq=<seq>.
	Name enc.Name
	// Payload is the publication's payload as it came, one piece per
	// segment (the Content of each Data, in order; one empty piece for an
	// empty payload), as ndnd's SvsPub.Content: nothing is copied. The
	// pieces alias the fetched Data, which the member stores and serves
	// and, on the node's in-process faces, the other members of the
	// process share: they are read-only, for every receiver of the
	// Message (OnMessage and each subscription). Write them out as they
	// are (net.Buffers, hash.Hash) or take a copy of your own with Bytes.
	Payload enc.Wire
}

// Bytes returns the payload in one new slice, the caller's to keep and
// modify.
func (m Message) Bytes() []byte { return slices.Concat(m.Payload...) }

// Size is the payload's length in bytes.
func (m Message) Size() int { return int(m.Payload.Length()) }

// Missed reports publications Low through High of (Node, Boot) that will
// not be delivered, in their place in the producer's order.
type Missed struct {
	Node      enc.Name
	Boot      uint64
	Low, High uint64
	// Reason is why: the fetch scheduler's give-up reason (attempts,
	// deadline, stalled, superseded, overload), or "unavailable" when the
	// producer answered that it no longer holds them.
	Reason string
	// Attempts and Last are the attempts made and the last one's error
	// (core.FetchError), when known.
	Attempts int
	Last     core.FetchError
}

// SubscribeOptions configures a Subscription.
type SubscribeOptions struct {
	// Buffer is the channel's capacity: a Message that finds it full is
	// dropped and counted (Subscription.Dropped, DataStats.SubDropped),
	// never waited for. 0 means 256.
	Buffer int
	// InOrder delivers each producer's publications in sequence order
	// (a slow one holds back at most the fetch window behind it). Without
	// it Messages come as they are fetched.
	InOrder bool
	// Producer, if set, keeps only the publications of producers whose
	// name starts with it.
	Producer enc.Name
}

// Subscription receives Messages on C until Close. C is closed by Close
// (or when the Sync's Run returns).
type Subscription struct {
	C <-chan Message

	c       chan Message
	opts    SubscribeOptions
	dropped atomic.Uint64
	total   *atomic.Uint64
	mu      sync.Mutex
	closed  bool
	remove  func(*Subscription)
}

// Dropped returns how many Messages found the channel full.
func (sub *Subscription) Dropped() uint64 { return sub.dropped.Load() }

// Close stops the subscription and closes C. It is safe to call more than
// once and from any goroutine.
func (sub *Subscription) Close() {
	sub.mu.Lock()
	if sub.closed {
		sub.mu.Unlock()
		return
	}
	sub.closed = true
	close(sub.c)
	sub.mu.Unlock()
	sub.remove(sub)
}

// offer hands m to the subscriber without blocking.
func (sub *Subscription) offer(m Message) {
	if sub.opts.Producer != nil && !sub.opts.Producer.IsPrefix(m.Node) {
		return
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed {
		return
	}
	select {
	case sub.c <- m:
	default:
		sub.dropped.Add(1)
		sub.total.Add(1)
	}
}

// subscriptions is the set a Sync delivers to; Run reads a snapshot.
type subscriptions struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*Subscription]
}

func (ss *subscriptions) add(sub *Subscription) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var l []*Subscription
	if p := ss.list.Load(); p != nil {
		l = append(l, *p...)
	}
	l = append(l, sub)
	ss.list.Store(&l)
}

func (ss *subscriptions) remove(sub *Subscription) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	p := ss.list.Load()
	if p == nil {
		return
	}
	l := make([]*Subscription, 0, len(*p))
	for _, o := range *p {
		if o != sub {
			l = append(l, o)
		}
	}
	ss.list.Store(&l)
}

func (ss *subscriptions) snapshot() []*Subscription {
	if p := ss.list.Load(); p != nil {
		return *p
	}
	return nil
}

// Subscribe returns a new subscription to the publications of the other
// members. It fails with ErrNoData without Config.Data and ErrClosed once
// the Sync has stopped. A subscriber may call Publish (it runs on its
// own goroutine; the Sync never waits for it).
func (s *Sync) Subscribe(opts SubscribeOptions) (*Subscription, error) {
	if s.data == nil {
		return nil, ErrNoData
	}
	if opts.Buffer < 0 {
		return nil, fmt.Errorf("%w: negative Buffer", ErrInvalidConfig)
	}
	if opts.Buffer == 0 {
		opts.Buffer = 256
	}
	select {
	case <-s.done:
		return nil, ErrClosed
	default:
	}
	c := make(chan Message, opts.Buffer)
	sub := &Subscription{C: c, c: c, opts: opts, total: &s.data.ctr.subDropped, remove: s.data.subs.remove}
	s.data.subs.add(sub)
	return sub, nil
}

// delivery calls OnMessage and OnMissed on a goroutine of its own, in the
// order Run released the items, so that a callback may publish (Run never
// waits for it). What waits is bounded by DeliveryQueue: Run stops
// starting fetches while the queue is over it (the fetches in progress,
// at most Fetch.MaxOutstanding, still land), and is woken when it drained
// to half. Only then: a wake-up after every delivery, when Run waits for
// none, was a third of Run's wake-ups at 20 members.
type delivery struct {
	onMessage func(Message)
	onMissed  func(Missed)
	progress  *progress
	persist   *persister
	limit     int
	in        *mailbox[deliverItem]
	drained   func()       // wakes Run
	full      *atomic.Bool // set by Run while it waits for drained
}

type deliverItem struct {
	key    core.Key
	msg    *Message
	missed *Missed
}

func (d *delivery) run(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-d.in.wake:
			for _, it := range d.in.take() {
				select {
				case <-done:
					return
				default:
				}
				d.deliver(it)
			}
			if d.full.Load() {
				d.drained()
			}
		}
	}
}

func (d *delivery) deliver(it deliverItem) {
	switch {
	case it.msg != nil:
		if d.onMessage != nil {
			d.onMessage(*it.msg)
		}
		d.progress.advance(it.key, it.msg.Seq)
	case it.missed != nil:
		if d.onMissed != nil {
			d.onMissed(*it.missed)
		}
		d.progress.advance(it.key, it.missed.High)
	}
	d.persist.moved()
}
