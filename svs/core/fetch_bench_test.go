package core

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkFetcherEvents measures one Succeeded event (and the start it
// causes) with n producers, each with a long backlog, every answer
// succeeding.
func BenchmarkFetcherEvents(b *testing.B) {
	for _, n := range []int{3, 20, 1000} {
		b.Run(fmt.Sprintf("producers=%d", n), func(b *testing.B) {
			cfg := testFetchConfig(1)
			f, err := NewFetcher(cfg, 0)
			if err != nil {
				b.Fatal(err)
			}
			var queue []Fetch
			for i := range n {
				rd := f.Want(0, nm(fmt.Sprintf("p%04d", i)), 1, 1, 1<<40)
				queue = append(queue, rd.Start...)
			}
			now := time.Duration(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ft := queue[0]
				queue = queue[1:]
				now += time.Microsecond
				rd := f.Succeeded(now, ft)
				queue = append(queue, rd.Start...)
			}
			b.StopTimer()
			if s := f.Stats(); s.Succeeded != uint64(b.N) {
				b.Fatalf("succeeded %d of %d", s.Succeeded, b.N)
			}
		})
	}
}
