package core_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// A driver feeds the Fetcher the engine's Updates, starts what it asks
// for, reports each attempt's end, and releases publications in order
// through an InOrder. Here producer /b announces 1..3; attempt 1 of seq 2
// is lost and retried.
func ExampleFetcher() {
	cfg := core.DefaultFetchConfig()
	cfg.Window = 2
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	f, err := core.NewFetcher(cfg, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	in := core.NewInOrder[string](cfg.Window)
	b := core.Name("\x08\x01b")
	const boot = 1700000000

	var now time.Duration
	deliver := func(rs []core.Release[string]) {
		for _, r := range rs {
			fmt.Printf("deliver seq=%d %q\n", r.Seq, r.Value)
		}
	}
	show := func(rd core.FetchReady) {
		for _, st := range rd.Start {
			fmt.Printf("start seq=%d attempt=%d\n", st.Seq, st.Attempt)
		}
	}

	// An Update {/b, boot, 1, 3} from the engine.
	in.Want(b, boot, 1, 3)
	rd := f.Want(now, b, boot, 1, 3)
	show(rd) // the window admits 1 and 2

	// Seq 2 answers first: it waits in the InOrder for seq 1.
	now += 20 * time.Millisecond
	show(f.Succeeded(now, rd.Start[1]))
	out, _ := in.Arrived(b, boot, 2, "two")
	deliver(out)

	// Seq 1's Interest was lost: the Fetcher times it out at its deadline
	// and retries it after a backoff.
	now = f.Deadline()
	rd = f.Tick(now)
	for len(rd.Start) == 0 {
		now = rd.Deadline
		rd = f.Tick(now)
	}
	show(rd)
	now += 20 * time.Millisecond
	show(f.Succeeded(now, rd.Start[0])) // frees the window for 3
	out, _ = in.Arrived(b, boot, 1, "one")
	deliver(out)
	fmt.Println(f.Stats().Retried, "retry")
	// Output:
	// start seq=1 attempt=1
	// start seq=2 attempt=1
	// start seq=1 attempt=2
	// start seq=3 attempt=1
	// deliver seq=1 "one"
	// deliver seq=2 "two"
	// 1 retry
}
