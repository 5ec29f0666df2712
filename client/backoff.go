package client

import "time"

// backoff returns the wait before reconnection attempt n (0 for the first
// attempt after the connection was lost): min·2ⁿ capped at max, of which
// the upper half is jittered by u, a uniform number in [0, 1) ("equal
// jitter"): the wait is in [d/2, d). Many clients of one restarted node
// so spread their reconnections, and none waits more than max.
func backoff(n int, min, max time.Duration, u float64) time.Duration {
	if min <= 0 {
		min = time.Millisecond
	}
	if max < min {
		max = min
	}
	d := min
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + time.Duration(u*float64(d-half))
}
