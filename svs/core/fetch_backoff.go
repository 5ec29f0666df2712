package core

import (
	"math"
	"time"
)

// BackoffCap returns the exponential ceiling of the retry delay after
// attempt number attempt (1 for the first attempt): base·2^(attempt−1),
// never above ceiling. It is base for attempt ≤ 1 (bounded by ceiling),
// and 0 when base or ceiling is not positive. It never overflows.
func BackoffCap(base, ceiling time.Duration, attempt int) time.Duration {
	if base <= 0 || ceiling <= 0 {
		return 0
	}
	c := min(base, ceiling)
	for i := 1; i < attempt && c < ceiling; i++ {
		if c > ceiling/2 {
			return ceiling
		}
		c *= 2
	}
	return c
}

// FullJitter returns the delay before retrying after attempt number
// attempt: u·BackoffCap(base, ceiling, attempt), rounded down to the
// nanosecond, for a uniform draw u in [0, 1) ("full jitter"). The delay
// therefore lies in [0, BackoffCap) (0 only when the cap is 0). u outside
// [0, 1), and NaN, are clamped as in Jitter.
//
// Full jitter spreads the retries of many fetchers that failed together
// (one producer gone, one link down) over the whole interval, so they do
// not come back in step; its mean is half the cap. It is pure; the Fetcher
// draws u from its FetchConfig.Rand.
func FullJitter(base, ceiling time.Duration, attempt int, u float64) time.Duration {
	c := BackoffCap(base, ceiling, attempt)
	if c == 0 {
		return 0
	}
	d := time.Duration(math.Floor(float64(c) * clampUnit(u)))
	// float64 has 53 bits: for a cap near MaxInt64 the product can round
	// up to the cap itself; keep the half-open bound.
	return min(max(d, 0), c-1)
}
