package boltstore_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/boltstore"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// dataOf is what a member stores for one publication: the signed Data
// packet of its v3 name /<node>/<group>/t=<boot>/seq=<n> carrying payload
// (DigestSha256, the cheapest signature: an ECDSA one adds about 40 bytes).
func dataOf(tb testing.TB, boot, seq uint64, payload []byte) []byte {
	tb.Helper()
	node, _ := enc.NameFromStr("/ndn/site/node-01")
	group, _ := enc.NameFromStr("/ndn/svs/chat")
	d, err := spec.Spec{}.MakeData(wire.PublicationName(node, group, boot, seq),
		&ndn.DataConfig{Freshness: optional.Some(10 * time.Second)},
		enc.Wire{payload}, signer.NewSha256Signer())
	if err != nil {
		tb.Fatal(err)
	}
	return d.Wire.Join()
}

// sequencer hands out sequence numbers the way a member's Publish does:
// from memory, under a reservation extended in the background half a step
// before it runs out (svs.ReserveAhead), so a publisher waits for a
// reservation write only if publishing outruns it.
type sequencer struct {
	st   svs.Storage
	boot uint64
	step uint64 // 0: svs.DefaultReserveStep

	mu        sync.Mutex
	cond      *sync.Cond
	next      uint64 // last handed out
	mark      uint64 // reserved
	reserving bool
	err       error
}

func newSequencer(st svs.Storage, boot, step uint64) *sequencer {
	q := &sequencer{st: st, boot: boot, step: step}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *sequencer) take() (uint64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.err != nil {
			return 0, q.err
		}
		n := q.next + 1
		if mark, need := svs.ReserveAhead(n, q.mark, q.step); need && !q.reserving {
			q.reserving = true
			go q.reserve(mark)
		}
		if n <= q.mark {
			q.next = n
			return n, nil
		}
		q.cond.Wait()
	}
}

func (q *sequencer) reserve(mark uint64) {
	err := q.st.Reserve(q.boot, mark)
	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		q.err = err
	} else {
		q.mark = mark
	}
	q.reserving = false
	q.cond.Broadcast()
}

// BenchmarkPublish stores b.N publications of a 100 B payload, each as
// its signed Data, from publishers goroutines that each wait for their
// publication to be durable before the next (what Publish does). It
// reports publications per second, and the growth of the file per
// publication (bbolt's pages: run with -benchtime=50000x or more for a
// figure the file's first pages do not dominate).
func BenchmarkPublish(b *testing.B) {
	for _, publishers := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("publishers=%d", publishers), func(b *testing.B) {
			benchPublish(b, publishers, boltstore.Options{})
		})
	}
	// With retention on, in steady state the file stops growing: pages
	// freed at the old end are reused at the new one.
	b.Run("publishers=64/retention=10000", func(b *testing.B) {
		benchPublish(b, 64, boltstore.Options{StorageConfig: svs.StorageConfig{Own: svs.Retention{MaxCount: 10_000}}})
	})
	// Without fsync: what the store costs besides the disk.
	b.Run("publishers=64/nosync", func(b *testing.B) { benchPublish(b, 64, boltstore.Options{NoSync: true}) })
}

func benchPublish(b *testing.B, publishers int, opts boltstore.Options) {
	path := filepath.Join(b.TempDir(), "store.db")
	st, err := boltstore.Open(path, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const boot = 1_780_000_000
	payload := make([]byte, 100)
	sample := dataOf(b, boot, 1, payload)
	q := newSequencer(st, boot, 0)
	// Packets are made before the timer: signing is the publisher's cost,
	// not the store's.
	packets := make([][]byte, b.N)
	for i := range packets {
		packets[i] = dataOf(b, boot, uint64(i+1), payload)
	}
	before, err := st.Size()
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	b.ResetTimer()
	start := time.Now()
	for range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				seq, err := q.take()
				if err == nil {
					err = st.PutOwn(svs.Publication{Boot: boot, Seq: seq, Segments: [][]byte{packets[seq-1]}})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	after, err := st.Size()
	if err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pub/s")
	b.ReportMetric(float64(after-before)/float64(b.N), "disk-B/pub")
	b.ReportMetric(float64(len(sample)), "data-B/pub")
	b.ReportMetric(float64(fi.Size()), "file-B")
	stats := st.Stats()
	b.ReportMetric(float64(stats.Writes)/float64(max(stats.Commits, 1)), "writes/commit")
	b.ReportMetric(float64(stats.CommitTime.Microseconds())/float64(max(stats.Commits, 1)), "µs/commit")
}
