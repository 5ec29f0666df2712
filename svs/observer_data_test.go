package svs

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

func TestAnnounceStamps(t *testing.T) {
	var a announceStamps
	a.add(1, 3, 100)
	a.add(4, 4, 200)
	a.add(6, 9, 300) // 5 was announced untimed
	for _, c := range []struct {
		seq   uint64
		ms    uint64
		timed bool
	}{
		{1, 100, true}, {3, 100, true}, {4, 200, true}, {5, 0, false}, {7, 300, true}, {9, 300, true}, {10, 0, false},
	} {
		ms, ok := a.take(c.seq)
		if ms != c.ms || ok != c.timed {
			t.Errorf("take(%d) = %d, %v; want %d, %v", c.seq, ms, ok, c.ms, c.timed)
		}
	}
	if a.n != 0 {
		t.Errorf("%d stamps left after the last number released", a.n)
	}

	// A full ring leaves what is announced next untimed, and makes room
	// again as numbers are released; a gap released drops its stamps.
	var b announceStamps
	for i := range uint64(announceStampsCap + 1) {
		b.add(i+1, i+1, 10*(i+1))
	}
	if _, ok := b.take(announceStampsCap + 1); ok {
		t.Errorf("seq %d timed though the ring was full when it was announced", announceStampsCap+1)
	}
	b.add(20, 21, 7)
	b.drop(20)
	if ms, ok := b.take(21); !ok || ms != 7 {
		t.Errorf("take(21) after a gap through 20 = %d, %v; want 7, true", ms, ok)
	}
	n := b.n
	b.add(5, 4, 1) // empty run: ignored
	if b.n != n {
		t.Errorf("an empty run was remembered")
	}
}

// TestDeliveryObserverAllocatesNothing: the delivery latency hook costs a
// clock read and no allocation.
func TestDeliveryObserverAllocatesNothing(t *testing.T) {
	var n int
	k := core.Key{Node: "n", Boot: 1}
	w := &prodWant{}
	s := &Sync{
		data:     &dataLayer{wants: map[core.Key]*prodWant{k: w}},
		observer: Observer{DeliveryLatency: func(time.Duration) { n++ }},
	}
	seq := uint64(0)
	ms := uint64(time.Now().UnixMilli())
	allocs := testing.AllocsPerRun(100, func() {
		seq++
		w.stamps.add(seq, seq, ms)
		s.observeDelivered(k, seq)
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per delivered publication", allocs)
	}
	if st := s.DataStats(); n == 0 || st.DeliveredUntimed != 0 {
		t.Errorf("DeliveryLatency called %d times, %d untimed", n, st.DeliveredUntimed)
	}
}

// TestObserverPublicationHooks: between two members on the forwarder, every
// publication fetched is timed once by FetchDuration and every one
// delivered once by DeliveryLatency (the publisher's Sync Interests carry a
// SignatureTime), with plausible values.
func TestObserverPublicationHooks(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	var mu sync.Mutex
	var fetches, latencies []time.Duration
	obs := Observer{
		FetchDuration: func(d time.Duration) {
			mu.Lock()
			fetches = append(fetches, d)
			mu.Unlock()
		},
		DeliveryLatency: func(d time.Duration) {
			mu.Lock()
			latencies = append(latencies, d)
			mu.Unlock()
		},
	}
	recv := newPubMember(t, group, "/obs/recv", changed, true, func(c *Config) { c.Observer = obs })
	pub := newPubMember(t, group, "/obs/pub", changed, true, nil)
	sizes := []int{10, 0, 3 * SegmentSize, 100, 1}
	for i, size := range sizes {
		publishOK(t, pub, payload(uint64(i), size))
	}
	waitUntil(t, changed, 30*time.Second, func() bool {
		return len(recv.received(pub.key())) == len(sizes)
	}, func() string { return fmt.Sprintf("%+v", recv.s.DataStats()) })
	st := recv.s.DataStats()
	mu.Lock()
	defer mu.Unlock()
	if uint64(len(fetches)) != st.Fetched || st.Fetched != uint64(len(sizes)) {
		t.Errorf("FetchDuration called %d times, Fetched %d, published %d", len(fetches), st.Fetched, len(sizes))
	}
	if st.DeliveredUntimed != 0 || uint64(len(latencies)) != st.Delivered || st.Delivered != uint64(len(sizes)) {
		t.Errorf("DeliveryLatency called %d times, Delivered %d (untimed %d), published %d",
			len(latencies), st.Delivered, st.DeliveredUntimed, len(sizes))
	}
	for _, d := range fetches {
		if d <= 0 || d > 30*time.Second {
			t.Errorf("fetch duration %v", d)
		}
	}
	for _, d := range latencies {
		// One clock: only the SignatureTime's millisecond resolution (and
		// a time written ahead in a burst) can make it slightly negative.
		if d < -5*time.Millisecond || d > 30*time.Second {
			t.Errorf("delivery latency %v", d)
		}
	}
	t.Logf("fetch durations %v, delivery latencies %v", fetches, latencies)
}
