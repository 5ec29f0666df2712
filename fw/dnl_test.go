package fw

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	ndnfw "github.com/named-data/ndnd/fw/fw"
	"github.com/named-data/ndnd/fw/table"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
)

func TestDeadNonceListTickerIsReachable(t *testing.T) {
	for i, th := range ndnfw.Threads {
		if dnlTicker(th) == nil {
			t.Errorf("thread %d: dead nonce list ticker not found: ndnd's layout changed, the drain is not tuned", i)
		}
	}
}

func TestDeadNonceListPeriod(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want time.Duration
	}{
		{0, 100 * time.Millisecond},
		{10, 100 * time.Millisecond},    // ndnd's own pace suffices
		{500, 100 * time.Millisecond},   // 1,000/s capacity, 2x headroom
		{1000, 50 * time.Millisecond},   // 2,000/s
		{10000, 5 * time.Millisecond},   // 20,000/s
		{1000000, 1 * time.Millisecond}, // capped: 100,000/s
		{-1, 100 * time.Millisecond},
	} {
		if got := dnlPeriod(tc.rate); got != tc.want {
			t.Errorf("dnlPeriod(%v) = %v, want %v", tc.rate, got, tc.want)
		}
		// The drain keeps up: capacity at the chosen period covers the rate
		// (up to the 1 ms floor).
		if got := dnlPeriod(tc.rate); got > time.Millisecond && tc.rate > 0 {
			capacity := float64(dnlEvictPerTick) * float64(time.Second) / float64(got)
			if capacity < tc.rate {
				t.Errorf("rate %v: period %v drains only %v/s", tc.rate, got, capacity)
			}
		}
	}
}

// A compacted Dead Nonce List keeps what it held: an Interest that comes
// back with a name and nonce the forwarder already forwarded is still
// dropped as a loop after CompactDeadNonceLists, and the count of entries
// kept covers at least those of this test.
// dnlRuns numbers the runs of TestCompactDeadNonceListsKeepsEntries in this
// process: the Dead Nonce List remembers every earlier run's Interests, so
// each run needs names of its own (go test -count=N).
var dnlRuns atomic.Int64

func TestCompactDeadNonceListsKeepsEntries(t *testing.T) {
	prefix := mustName(t, fmt.Sprintf("/test/dnl/run-%d", dnlRuns.Add(1)))
	prod, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	sg := signer.NewSha256Signer()
	var seen atomic.Int64
	prod.OnFrame(func(frame []byte) {
		seen.Add(1)
		i, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(frame))
		if err != nil {
			return
		}
		if d, err := (spec.Spec{}).MakeData(i.Name(), &ndn.DataConfig{}, nil, sg); err == nil {
			_ = prod.Send(d.Wire)
		}
	})
	prod.OnError(func(error) {})
	if err := prod.Open(); err != nil {
		t.Fatal(err)
	}
	if err := testFwd.AddRoute(prefix, prod.FaceID(), 0, OriginApp); err != nil {
		t.Fatal(err)
	}
	cons, _ := newEngine(t)
	const n = 200
	wires := make([]enc.Wire, n)
	for k := range n {
		intr, err := cons.Spec().MakeInterest(prefix.Append(enc.NewSequenceNumComponent(uint64(k))), &ndn.InterestConfig{
			Lifetime: optionalDur(time.Second),
			Nonce:    optional.Some(0xd0d0_0000 + uint32(k)),
		}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		wires[k] = intr.Wire
		ch := make(chan ndn.InterestResult, 1)
		if err := cons.Express(intr, func(a ndn.ExpressCallbackArgs) { ch <- a.Result }); err != nil {
			t.Fatal(err)
		}
		if r := <-ch; r != ndn.InterestResultData {
			t.Fatalf("exchange %d: %v", k, r)
		}
	}
	if seen.Load() != n {
		t.Fatalf("producer saw %d Interests, want %d", seen.Load(), n)
	}
	replay := func(when string) {
		t.Helper()
		before := seen.Load()
		for _, w := range wires {
			if err := cons.Face().Send(w); err != nil {
				t.Fatal(err)
			}
		}
		// A marker with a fresh nonce behind them. The forwarding threads
		// do not keep order with each other, so a replay forwarded by
		// mistake could in principle reach the producer after the marker
		// and go unseen; with 200 of them, some would not.
		if _, err := fetch(t, cons, prefix.Append(enc.NewGenericComponent("marker-"+when))); err != nil {
			t.Fatal(err)
		}
		if got := seen.Load() - before; got != 1 {
			t.Errorf("%s: the producer saw %d Interests, want only the marker: replays were not caught as loops", when, got)
		}
	}
	replay("before compaction")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kept, err := testFwd.CompactDeadNonceLists(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kept < n {
		t.Errorf("kept %d entries, want at least the %d of this test", kept, n)
	}
	replay("after compaction")
}

// compact keeps exactly the live entries, with their expiry times, in
// expiry order, in a new map and queue, and drops the expired ones.
func TestDeadNonceListCompact(t *testing.T) {
	d := table.NewDeadNonceList()
	defer d.Ticker.Stop()
	p, ok := dnlPartsOf(d)
	if !ok {
		t.Fatal("dead nonce list layout not recognised")
	}
	now := time.Now().UnixNano()
	want := map[uint64]int64{}
	for k := range uint64(1000) {
		expiry := now + int64(k%37-10)*int64(time.Second) // some in the past
		p.queue.Push(k, expiry)
		(*p.list)[k] = true
		if expiry >= now {
			want[k] = expiry
		}
	}
	oldList := *p.list
	if kept := p.compact(now); kept != len(want) {
		t.Fatalf("kept %d, want %d", kept, len(want))
	}
	if len(*p.list) != len(want) || len(oldList) != 1000 {
		t.Fatalf("new map has %d entries (want %d); the old one was modified to %d", len(*p.list), len(want), len(oldList))
	}
	last := int64(0)
	for p.queue.Len() > 0 {
		expiry := p.queue.PeekPriority()
		h := p.queue.Pop()
		if want[h] != expiry || !(*p.list)[h] {
			t.Fatalf("entry %d: expiry %d, want %d; in map %v", h, expiry, want[h], (*p.list)[h])
		}
		if expiry < last {
			t.Fatalf("queue out of expiry order: %d after %d", expiry, last)
		}
		last = expiry
		delete(want, h)
	}
	if len(want) != 0 {
		t.Fatalf("%d live entries lost", len(want))
	}
}

// Compacting again and again opens no more faces and leaves no goroutines
// behind after the first time.
func TestCompactDeadNonceListsReusesItsFaces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := testFwd.CompactDeadNonceLists(ctx); err != nil {
		t.Fatal(err)
	}
	faces, goroutines := len(testFwd.Faces()), runtime.NumGoroutine()
	for range 10 {
		if _, err := testFwd.CompactDeadNonceLists(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(testFwd.Faces()); n > faces { // fewer: an earlier test's connection closing
		t.Errorf("%d faces after 10 more compactions, %d before", n, faces)
	}
	if n := runtime.NumGoroutine(); n > goroutines+2 {
		t.Errorf("%d goroutines after 10 more compactions, %d before", n, goroutines)
	}
}
