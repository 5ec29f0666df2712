package fw

import (
	"testing"
	"time"

	ndnfw "github.com/named-data/ndnd/fw/fw"
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
