package core

import (
	"math"
	"time"
)

// Jitter spreads base uniformly over [base·(1−jitter), base·(1+jitter)]:
// it returns base·(1 − jitter + 2·jitter·u) for u in [0, 1), rounded to the
// nanosecond. u outside [0, 1) is clamped and a jitter outside [0, 1) is
// clamped too, so the result is never negative.
// [Spec §4.1] PeriodicTimeout is 30 s ±10 % uniform: Jitter(30s, 0.1, u).
//
// Jitter is pure; the engine draws u from its Config.Rand.
func Jitter(base time.Duration, jitter, u float64) time.Duration {
	if base <= 0 {
		return 0
	}
	u = clampUnit(u)
	jitter = clampUnit(jitter)
	f := 1 - jitter + 2*jitter*u
	return time.Duration(math.Round(float64(base) * f))
}

// SuppressionTimeout returns c·(1 − e^((v − c)/(c/f))), the suppression delay
// for a uniform draw v in [0, c). It is 0 for v = c and approaches
// c·(1 − e^(−f)) as v goes to 0, so the delay always lies in [0, c] (c only by rounding). v is
// clamped into [0, c]; c ≤ 0 or f ≤ 0 (or NaN) yield 0.
// [Spec §4.1] SuppressionTimeout = c·(1 − e^((v − c)/(c/f))), c =
// SuppressionPeriod, v = random(0, c), f = 10.
//
// The curve is skewed towards c: with c = 200 ms and f = 10,
// P(T ≤ t) = −ln(1 − t/c)/f, so only 2.88 % of draws fire within 50 ms and
// the median is c·(1 − e^(−f/2)) ≈ 198.65 ms. Few members fire early, which
// maximises suppression. It is computed with math.Expm1, because
// 1 − e^x loses precision for x near 0 (v near c).
func SuppressionTimeout(c time.Duration, f float64, v time.Duration) time.Duration {
	if c <= 0 || !(f > 0) || math.IsInf(f, 1) {
		return 0
	}
	v = min(max(v, 0), c)
	x := f * float64(v-c) / float64(c) // in [−f, 0]
	t := -float64(c) * math.Expm1(x)
	return min(max(time.Duration(math.Round(t)), 0), c)
}

func clampUnit(u float64) float64 {
	if !(u >= 0) { // also catches NaN
		return 0
	}
	if u >= 1 {
		return math.Nextafter(1, 0)
	}
	return u
}
