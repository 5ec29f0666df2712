package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestJitter(t *testing.T) {
	tests := []struct {
		base   time.Duration
		jitter float64
		u      float64
		want   time.Duration
	}{
		{30 * time.Second, 0.1, 0, 27 * time.Second},
		{30 * time.Second, 0.1, 0.25, 28500 * time.Millisecond},
		{30 * time.Second, 0.1, 0.5, 30 * time.Second},
		{30 * time.Second, 0.1, math.Nextafter(1, 0), 33 * time.Second},
		{30 * time.Second, 0, 0.9, 30 * time.Second},
		{30 * time.Second, 0.1, 1.5, 33 * time.Second},        // u clamped below 1
		{30 * time.Second, 0.1, -1, 27 * time.Second},         // u clamped to 0
		{30 * time.Second, 0.1, math.NaN(), 27 * time.Second}, // NaN u as 0
		{30 * time.Second, 2, 0, 0},                           // jitter clamped below 1: never negative
		{0, 0.1, 0.5, 0},
		{-time.Second, 0.1, 0.5, 0},
	}
	for _, tt := range tests {
		if got := Jitter(tt.base, tt.jitter, tt.u); got != tt.want {
			t.Errorf("Jitter(%v, %v, %v) = %v, want %v", tt.base, tt.jitter, tt.u, got, tt.want)
		}
	}
}

func TestSuppressionTimeout(t *testing.T) {
	const c = 200 * time.Millisecond
	tests := []struct {
		c    time.Duration
		f    float64
		v    time.Duration
		want time.Duration
	}{
		{c, 10, c, 0},
		{c, 10, c / 2, 198652411},                  // c·(1 − e^−5)
		{c, 10, 0, 199990920},                      // c·(1 − e^−10)
		{c, 10, c - time.Millisecond, 9754115},     // c·(1 − e^−0.05)
		{c, 10, c - time.Nanosecond, 10},           // Expm1 keeps precision near v = c
		{c, 10, -time.Second, 199990920},           // v clamped to 0
		{c, 10, 2 * c, 0},                          // v clamped to c
		{c, 1, c / 2, 78693868},                    // c·(1 − e^−0.5)
		{500 * time.Millisecond, 10, 0, 499977300}, // ndn-svs C++ period
		{0, 10, 0, 0},
		{c, 0, 0, 0},
		{c, math.NaN(), 0, 0},
		{c, math.Inf(1), 0, 0},
	}
	for _, tt := range tests {
		if got := SuppressionTimeout(tt.c, tt.f, tt.v); got != tt.want {
			t.Errorf("SuppressionTimeout(%v, %v, %v) = %d, want %d", tt.c, tt.f, tt.v, got, tt.want)
		}
	}
}

// TestSpec_SuppressionTimeoutCurve checks the distribution of the engine's
// suppression delays against the closed form P(T ≤ t) = −ln(1 − t/c)/f of
// [Spec §4.1], with c = 200 ms and f = 10, over a seeded sample.
func TestSpec_SuppressionTimeoutCurve(t *testing.T) {
	const n = 200_000
	e := newTestEngine(t)
	samples := make([]time.Duration, n)
	for i := range samples {
		d := e.suppressionTimeout()
		if d < 0 || d >= DefaultSuppressionPeriod {
			t.Fatalf("sample %v outside [0, c)", d)
		}
		samples[i] = d
	}
	slices.Sort(samples)
	cdf := func(t time.Duration) float64 {
		k, _ := slices.BinarySearch(samples, t+1)
		return float64(k) / n
	}
	for _, tt := range []struct {
		t    time.Duration
		want float64 // −ln(1 − t/c)/f
	}{
		{50 * time.Millisecond, 0.02877},
		{100 * time.Millisecond, 0.06931},
		{150 * time.Millisecond, 0.13863},
		{190 * time.Millisecond, 0.29957},
	} {
		// Binomial standard error is at most 0.0011 here; allow ~4 sigma.
		if got := cdf(tt.t); math.Abs(got-tt.want) > 0.004 {
			t.Errorf("P(T ≤ %v) = %.4f, want %.4f", tt.t, got, tt.want)
		}
	}
	median := samples[n/2]
	if d := median - 198650*time.Microsecond; d < -50*time.Microsecond || d > 50*time.Microsecond {
		t.Errorf("median = %v, want ≈ 198.65ms", median)
	}
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	// Mean = c·(1 − (1 − e^−f)/f) ≈ 180.0 ms.
	if mean := sum / n; mean < 179*time.Millisecond || mean > 181*time.Millisecond {
		t.Errorf("mean = %v, want ≈ 180ms", mean)
	}
}

// TestSpec_PeriodicTimeoutUniformJitter checks that the engine's periodic
// timer is uniform over 30 s ±10 % ([Spec §4.1]): every draw is inside
// [27 s, 33 s] and each of ten equal bins gets about a tenth of the draws.
func TestSpec_PeriodicTimeoutUniformJitter(t *testing.T) {
	const n = 100_000
	e := newTestEngine(t)
	var bins [10]int
	for range n {
		d := e.periodicTimeout()
		if d < 27*time.Second || d > 33*time.Second {
			t.Fatalf("periodic timeout %v outside [27s, 33s]", d)
		}
		bins[min(int((d-27*time.Second)*10/(6*time.Second)), 9)]++
	}
	for i, b := range bins {
		if b < n/10*9/10 || b > n/10*11/10 {
			t.Errorf("bin %d has %d draws, want about %d", i, b, n/10)
		}
	}
}

func TestJitterOfEngineRandIsReplayable(t *testing.T) {
	draw := func() []time.Duration {
		r := rand.New(rand.NewPCG(7, 7))
		var out []time.Duration
		for range 5 {
			out = append(out, Jitter(30*time.Second, 0.1, r.Float64()))
		}
		return out
	}
	if a, b := draw(), draw(); !slices.Equal(a, b) {
		t.Fatalf("same seed, different draws: %v vs %v", a, b)
	}
}
