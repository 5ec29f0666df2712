package svs

import (
	"context"
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"
)

// Published is what Publish reports: the publication's incarnation,
// sequence number and SVS v3 name /<node>/<group>/t=<boot>/seq=<seq>.
type Published struct {
	Boot, Seq uint64
	Name      enc.Name
}

// pubReq is one Publish on its way: first a sequence number from Run,
// then, once stored, its announcement.
type pubReq struct {
	seq   uint64 // the first of n
	n     uint64
	err   error
	reply chan struct{} // one slot; Run answers each stage once
}

// Publish publishes payload (at most MaxPayloadSize bytes; empty is
// allowed) and returns its sequence number and name once it is stored
// (durably, if the Storage is) and announced. It needs Config.Data.
//
// The work is split so that Run never waits for a disk: Run hands out the
// next sequence number (within the durable reservation, so a crash never
// leads to reusing one); the caller's goroutine signs the segments and
// stores them; Run then announces the highest sequence number below which
// every publication is stored, with one Sync Interest, and answers. So
// concurrent publishers share Sync Interests and disk commits, and one
// whose store fails leaves a hole that peers are told about (the member
// answers for it that it holds nothing) instead of blocking the others.
//
// It fails with ErrNoData, ErrPayloadTooLarge, ErrFaceDown (nothing
// published), ErrClosed, ctx's error before a sequence number was handed
// out, or the Storage's error (wrapped; the sequence number is then
// skipped). Once a sequence number was handed out ctx no longer matters.
// It is safe for concurrent use, also from OnMessage, OnMissed and
// subscribers; not from OnUpdate or OnPersist (they run on Run).
func (s *Sync) Publish(ctx context.Context, payload []byte) (Published, error) {
	out, err := s.publishData(ctx, [][]byte{payload})
	if err != nil {
		return Published{}, err
	}
	return out[0], nil
}

// MaxBatch bounds the payloads of one PublishBatch: half a reservation
// step, so that a batch never waits for more than one reservation write.
const MaxBatch = DefaultReserveStep / 2

// PublishBatch publishes payloads (at most MaxBatch) as consecutive
// sequence numbers, stored with one Storage write (one disk commit) and
// announced with one Sync Interest: what a single publisher that cannot
// wait for a commit per publication uses. It succeeds or fails as a
// whole, as Publish; on a store error all its numbers are skipped.
func (s *Sync) PublishBatch(ctx context.Context, payloads [][]byte) ([]Published, error) {
	switch {
	case len(payloads) == 0:
		return nil, nil
	case len(payloads) > MaxBatch:
		return nil, fmt.Errorf("%w: batch of %d, over %d", ErrPayloadTooLarge, len(payloads), MaxBatch)
	}
	return s.publishData(ctx, payloads)
}

func (s *Sync) publishData(ctx context.Context, payloads [][]byte) ([]Published, error) {
	d := s.data
	if d == nil {
		return nil, ErrNoData
	}
	for _, p := range payloads {
		if len(p) > MaxPayloadSize {
			return nil, fmt.Errorf("%w: %d bytes, over %d", ErrPayloadTooLarge, len(p), MaxPayloadSize)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &pubReq{n: uint64(len(payloads)), reply: make(chan struct{}, 1)}
	select {
	case d.seqReqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closing:
		return nil, ErrClosed
	case <-s.done:
		return nil, ErrClosed
	}
	<-r.reply
	if r.err != nil {
		d.ctr.publishErrors.Add(r.n)
		return nil, r.err
	}
	pubs := make([]Publication, len(payloads))
	var err error
	for i, p := range payloads {
		seq := r.seq + uint64(i)
		var segs [][]byte
		if segs, err = encodeSegments(d.names.shared(d.names.self, d.boot, seq), p, d.signer); err != nil {
			break
		}
		pubs[i] = Publication{Boot: d.boot, Seq: seq, Segments: segs}
	}
	if err == nil {
		if err = d.store.PutOwn(pubs...); err != nil {
			d.ctr.storeErrors.Add(1)
			err = fmt.Errorf("svs: store publications %d..%d: %w", r.seq, r.seq+r.n-1, err)
		}
	}
	r.err = err
	// The commit goes to Run even after a failure: the numbers are spent,
	// and later ones wait for them.
	select {
	case d.commits <- r:
	case <-s.done:
		d.ctr.publishErrors.Add(r.n)
		return nil, ErrClosed
	}
	<-r.reply
	if r.err != nil {
		d.ctr.publishErrors.Add(r.n)
		return nil, r.err
	}
	d.ctr.published.Add(r.n)
	out := make([]Published, r.n)
	for i := range out {
		seq := r.seq + uint64(i)
		out[i] = Published{Boot: d.boot, Seq: seq, Name: d.names.perNode(d.boot, seq)}
	}
	return out, nil
}

// assignSeq hands r the next own sequence number, on Run, or keeps it
// waiting for the reservation.
func (s *Sync) assignSeq(r *pubReq) {
	d := s.data
	if s.faceDown.Load() {
		r.err = ErrFaceDown
		r.reply <- struct{}{}
		return
	}
	// The engine may have learned a higher own number from the group
	// (a member that lost its store): never hand out one below it.
	d.next = max(d.next, s.eng.Seq()+1)
	if d.next+r.n-1 > d.mark {
		d.waiting = append(d.waiting, r)
		d.askReserve()
		return
	}
	r.seq = d.next
	d.next += r.n
	d.askReserve()
	r.reply <- struct{}{}
}

// commitSeq takes a stored (or failed) publication on Run and announces
// every number below which all are done.
func (s *Sync) commitSeq(r *pubReq) {
	d := s.data
	d.stored[r.seq] = r
	high := d.announced.Load()
	var done []*pubReq
	for {
		nr, ok := d.stored[high+1]
		if !ok {
			break
		}
		delete(d.stored, high+1)
		high += nr.n
		done = append(done, nr)
	}
	if len(done) == 0 {
		return
	}
	d.announced.Store(high)
	reply := func(err error) {
		for _, nr := range done {
			if nr.err == nil {
				nr.err = err
			}
			nr.reply <- struct{}{}
		}
	}
	if high <= s.eng.Seq() {
		reply(nil) // the engine learned this far already (from the group)
		return
	}
	rd, err := s.eng.SetSeq(s.now(), high)
	if err != nil {
		reply(fmt.Errorf("svs: announce %d: %w", high, err))
		return
	}
	s.carryOut(rd, nil, result{}, func() { reply(nil) }, SentPublication)
}

// failPending answers every publication Run still holds with ErrClosed,
// as Run returns.
func (s *Sync) failPending() {
	d := s.data
	for _, r := range d.waiting {
		r.err = ErrClosed
		r.reply <- struct{}{}
	}
	d.waiting = nil
	for k, r := range d.stored {
		r.err = ErrClosed
		r.reply <- struct{}{}
		delete(d.stored, k)
	}
}
