package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ndnsvs/ndnsvs-node/svs"
)

type reqKind uint8

const (
	reqReserve reqKind = iota
	reqOwn
	reqFetched
	reqVector
	reqPrune
	reqRelease
)

// request is one write waiting for the committer.
type request struct {
	kind      reqKind
	boot, seq uint64
	pubs      []svs.Publication
	vec       []byte

	refused error      // this request's own refusal, set by the committer
	done    chan error // answered once, after the commit
}

// maxRecord keeps a record well inside bbolt's value limit, so a Put
// never fails after the batch was checked.
const maxRecord = bolt.MaxValueSize / 2

// write hands r to the committer and waits for its commit.
func (s *Store) write(r *request) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	r.done = make(chan error, 1)
	s.reqs <- r
	return <-r.done
}

// commitLoop is the committer: one transaction per batch of whatever
// queued while the previous commit flushed. Close stops it only when no
// write is in flight, so nothing is left in reqs.
func (s *Store) commitLoop() {
	defer close(s.done)
	batch := make([]*request, 0, s.opts.MaxBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	prev, last := 0, time.Duration(0) // writes and duration of the previous commit
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		case <-s.stop:
			return
		}
		held := s.drain(&batch, batch[0].size())
		// Writers answered by the previous commit come back within
		// microseconds; committing at once would take only those that
		// queued during the flush, and the writers would settle into two
		// cohorts committing in turns at half the batch. When the previous
		// commit carried more than one write (there are concurrent
		// writers), wait an eighth of a commit at most for the rest. A
		// lone writer never waits.
		if prev > 1 && len(batch) < prev && len(batch) < s.opts.MaxBatch && held < maxBatchBytes {
			linger.Reset(min(last/8, maxLinger))
		wait:
			for len(batch) < prev && len(batch) < s.opts.MaxBatch && held < maxBatchBytes {
				select {
				case r := <-s.reqs:
					batch = append(batch, r)
					held = s.drain(&batch, held+r.size())
				case <-linger.C:
					break wait
				}
			}
			linger.Stop()
		}
		start := time.Now()
		err := s.commit(batch)
		last = time.Since(start)
		prev = len(batch)
		s.commitNanos.Add(int64(last))
		s.writes.Add(uint64(len(batch)))
		if err != nil {
			s.failed.Add(1)
		} else {
			s.commits.Add(1)
		}
		for i, r := range batch {
			if err != nil {
				r.done <- err
			} else {
				r.done <- r.refused
			}
			batch[i] = nil
		}
	}
}

// maxLinger bounds the wait for more writers before a commit.
const maxLinger = time.Millisecond

// maxBatchBytes bounds the publication bytes of one transaction (bbolt
// holds a transaction's dirty pages in memory until it commits): a batch
// stops taking requests once it has this much, though one request alone
// may be larger.
const maxBatchBytes = 64 << 20

// drain adds to batch what is queued, without waiting, while the batch
// has room; held is what the batch holds so far, and it returns the new
// total.
func (s *Store) drain(batch *[]*request, held int) int {
	for len(*batch) < s.opts.MaxBatch && held < maxBatchBytes {
		select {
		case r := <-s.reqs:
			*batch = append(*batch, r)
			held += r.size()
		default:
			return held
		}
	}
	return held
}

// size is what a request adds to a transaction, roughly.
func (r *request) size() int {
	n := len(r.vec)
	for _, p := range r.pubs {
		n += p.Size()
	}
	return n
}

func (s *Store) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// txState is what one commit reads once and writes back once.
type txState struct {
	tx                       *bolt.Tx
	meta, own, fetched, ord  *bolt.Bucket
	boot, reserved           uint64
	ownCount, ownBytes       uint64
	fetchedCount, fetchedBts uint64
	now                      time.Time
}

// commit applies a batch in one transaction. A request that is refused
// (a duplicate, a sequence number not reserved) changes nothing and gets
// its error; the others commit. An error of the transaction itself goes
// to every request of the batch: nothing of it was committed.
func (s *Store) commit(batch []*request) error {
	err := guard(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			t := &txState{tx: tx, now: s.now(),
				meta: tx.Bucket(bucketMeta), own: tx.Bucket(bucketOwn),
				fetched: tx.Bucket(bucketFetched), ord: tx.Bucket(bucketOrder)}
			// Own keys and insertion numbers only grow: fill pages
			// instead of splitting them in half.
			t.own.FillPercent, t.ord.FillPercent = 0.95, 0.95
			t.boot, t.reserved = getUint(t.meta, keyBoot), getUint(t.meta, keyReserved)
			t.ownCount, t.ownBytes = getUint(t.meta, keyOwnCount), getUint(t.meta, keyOwnBytes)
			t.fetchedCount, t.fetchedBts = getUint(t.meta, keyFetchedCount), getUint(t.meta, keyFetchedBytes)
			pruneOwn, pruneFetched := false, false
			for _, r := range batch {
				var err error
				r.refused, err = t.apply(r)
				if err != nil {
					return err
				}
				pruneOwn = pruneOwn || r.kind == reqOwn || r.kind == reqPrune
				pruneFetched = pruneFetched || r.kind == reqFetched || r.kind == reqPrune
			}
			if pruneOwn {
				if err := t.pruneOwn(s.opts.Own); err != nil {
					return err
				}
			}
			if pruneFetched {
				if err := t.pruneFetched(s.opts.Fetched); err != nil {
					return err
				}
			}
			for _, kv := range []struct {
				k []byte
				v uint64
			}{{keyBoot, t.boot}, {keyReserved, t.reserved}, {keyOwnCount, t.ownCount},
				{keyOwnBytes, t.ownBytes}, {keyFetchedCount, t.fetchedCount}, {keyFetchedBytes, t.fetchedBts}} {
				if getUint(t.meta, kv.k) != kv.v {
					if err := putUint(t.meta, kv.k, kv.v); err != nil {
						return err
					}
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("boltstore: commit: %w", corruptIfPanic(s.path, err))
	}
	return nil
}

// apply checks a request and, if it is accepted, writes it. refused is the
// request's own error (nothing of it was written); err fails the batch.
func (t *txState) apply(r *request) (refused, err error) {
	switch r.kind {
	case reqReserve:
		same, err := svs.CheckReserve(t.boot, t.reserved, r.boot, r.seq)
		if err != nil || same {
			return err, nil
		}
		t.boot, t.reserved = r.boot, r.seq
	case reqRelease:
		t.release(r.boot, r.seq)
	case reqVector:
		return nil, t.meta.Put(keyVector, r.vec)
	case reqOwn:
		return t.putOwn(r.pubs)
	case reqFetched:
		return t.putFetched(r.pubs)
	}
	return nil, nil
}

// release lowers the reservation of boot to seq or to the highest own
// publication of boot stored, whichever is higher (svs.Storage.Release).
func (t *txState) release(boot, seq uint64) {
	if boot != t.boot || seq >= t.reserved {
		return
	}
	// The last own key at or below (boot, reserved): own keys sort by
	// boot, then seq.
	c := t.own.Cursor()
	top := ownKey(boot, t.reserved)
	k, _ := c.Seek(top)
	switch {
	case k == nil:
		k, _ = c.Last()
	case !bytes.Equal(k, top):
		k, _ = c.Prev()
	}
	if len(k) == 16 && binary.BigEndian.Uint64(k) == boot {
		seq = max(seq, binary.BigEndian.Uint64(k[8:]))
	}
	t.reserved = min(t.reserved, seq)
}

func (t *txState) putOwn(pubs []svs.Publication) (refused, err error) {
	skip := make([]bool, len(pubs))
	for i, p := range pubs {
		if !svs.Covered(t.boot, t.reserved, p.Boot, p.Seq) {
			return fmt.Errorf("%w: (boot %d, seq %d) is above the reservation (boot %d, seq %d)",
				svs.ErrNotReserved, p.Boot, p.Seq, t.boot, t.reserved), nil
		}
		if p.Size() > maxRecord {
			return fmt.Errorf("%w: %d bytes is over %d", svs.ErrInvalidPublication, p.Size(), maxRecord), nil
		}
		old := t.own.Get(ownKey(p.Boot, p.Seq))
		if old != nil {
			if !sameRecord(old, p.Segments) {
				return fmt.Errorf("%w: (boot %d, seq %d) is stored with other content",
					svs.ErrDuplicate, p.Boot, p.Seq), nil
			}
			skip[i] = true
		}
		for _, q := range pubs[:i] {
			if q.Boot == p.Boot && q.Seq == p.Seq {
				if !bytesEqual(q.Segments, p.Segments) {
					return fmt.Errorf("%w: (boot %d, seq %d) twice in one batch with other content",
						svs.ErrDuplicate, p.Boot, p.Seq), nil
				}
				skip[i] = true // the earlier copy is written
			}
		}
	}
	for i, p := range pubs {
		if skip[i] {
			continue
		}
		if err := t.own.Put(ownKey(p.Boot, p.Seq), encodeRecord(p, t.now)); err != nil {
			return nil, err
		}
		t.ownCount++
		t.ownBytes += uint64(p.Size())
	}
	return nil, nil
}

func (t *txState) putFetched(pubs []svs.Publication) (refused, err error) {
	for _, p := range pubs {
		if p.Size() > maxRecord {
			return fmt.Errorf("%w: %d bytes is over %d", svs.ErrInvalidPublication, p.Size(), maxRecord), nil
		}
	}
	for _, p := range pubs {
		k := fetchedKey(p.Node, p.Boot, p.Seq)
		if t.fetched.Get(k) != nil {
			continue // the first copy stays
		}
		if err := t.fetched.Put(k, encodeRecord(p, t.now)); err != nil {
			return nil, err
		}
		n, err := t.ord.NextSequence()
		if err != nil {
			return nil, err
		}
		if err := t.ord.Put(binary.BigEndian.AppendUint64(nil, n), k); err != nil {
			return nil, err
		}
		t.fetchedCount++
		t.fetchedBts += uint64(p.Size())
	}
	return nil, nil
}

// pruneOwn removes own publications, lowest (boot, seq) first, while r
// says so.
func (t *txState) pruneOwn(r svs.Retention) error {
	if r.Unbounded() {
		return nil
	}
	c := t.own.Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		stored, err := recordStored(v)
		if err != nil {
			return err
		}
		if r.Keep(int(t.ownCount), int64(t.ownBytes), stored, t.now, t.ownCount <= 1) {
			return nil
		}
		size, err := recordSize(v)
		if err != nil {
			return err
		}
		if err := t.own.Delete(bytes.Clone(k)); err != nil {
			return err
		}
		t.ownCount, t.ownBytes = sub(t.ownCount, 1), sub(t.ownBytes, uint64(size))
	}
	return nil
}

// pruneFetched removes fetched publications in the order they were
// stored, while r says so.
func (t *txState) pruneFetched(r svs.Retention) error {
	if r.Unbounded() {
		return nil
	}
	c := t.ord.Cursor()
	for n, fk := c.First(); n != nil; n, fk = c.First() {
		n, fk = bytes.Clone(n), bytes.Clone(fk)
		v := t.fetched.Get(fk)
		if v != nil {
			stored, err := recordStored(v)
			if err != nil {
				return err
			}
			if r.Keep(int(t.fetchedCount), int64(t.fetchedBts), stored, t.now, t.fetchedCount <= 1) {
				return nil
			}
			size, err := recordSize(v)
			if err != nil {
				return err
			}
			if err := t.fetched.Delete(fk); err != nil {
				return err
			}
			t.fetchedCount, t.fetchedBts = sub(t.fetchedCount, 1), sub(t.fetchedBts, uint64(size))
		}
		if err := t.ord.Delete(n); err != nil {
			return err
		}
	}
	return nil
}

// sub is a - b, or 0 below it: counters that disagree with the records
// (which CheckOnOpen reports) must not wrap around and read as huge.
func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

func bytesEqual(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
