package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	// maxWait 0: a token now or none.
	b := &bucket{rate: 2, burst: 3, tokens: 3, last: now, now: func() time.Time { return now }}
	take := func() bool {
		wait, ok := b.reserve()
		if ok && wait != 0 {
			t.Fatalf("reserve asked to wait %v with maxWait 0", wait)
		}
		return ok
	}
	for i := range 3 {
		if !take() {
			t.Fatalf("take %d of a burst of 3 refused", i+1)
		}
	}
	if take() {
		t.Fatal("a fourth take at once allowed")
	}
	now = now.Add(499 * time.Millisecond) // 0.998 of a token at 2/s
	if take() {
		t.Fatal("allowed before a whole token came back")
	}
	now = now.Add(2 * time.Millisecond)
	if !take() || take() {
		t.Fatal("not exactly one take after half a second at 2/s")
	}
	now = now.Add(time.Hour) // refills to the burst, no more
	n := 0
	for take() {
		n++
	}
	if n != 3 {
		t.Errorf("%d takes after an hour, want the burst, 3", n)
	}
}

// Over the rate, a request may take the next token up to maxWait ahead;
// one whose turn is further is refused after maxWait; with maxWaiting
// requests waiting, one is refused at once.
func TestBucketReservesAhead(t *testing.T) {
	now := time.Unix(1000, 0)
	b := &bucket{rate: 2, burst: 1, tokens: 1, last: now, now: func() time.Time { return now }, maxWait: time.Second, maxWaiting: 3}
	for i, want := range []struct {
		wait  time.Duration
		serve bool
	}{
		{0, true},                      // the burst
		{500 * time.Millisecond, true}, // the next token, half a second ahead
		{time.Second, true},            // the one after, a second ahead: maxWait
		{time.Second, false},           // 1.5 s ahead: refused after maxWait
		{0, false},                     // three wait: refused at once
	} {
		wait, serve := b.reserve()
		if wait != want.wait || serve != want.serve {
			t.Fatalf("reserve %d = %v, %v; want %v, %v", i+1, wait, serve, want.wait, want.serve)
		}
	}
	// The waits end; a second later the two tokens taken ahead are paid
	// back and the bucket is empty: the next turn is half a second away.
	for range 3 {
		b.done()
	}
	now = now.Add(time.Second)
	if wait, serve := b.reserve(); !serve || wait != 500*time.Millisecond {
		t.Fatalf("after the waits: %v, %v; want served in half a second", wait, serve)
	}
}

// A request whose turn comes soon waits for it and is served; one whose
// turn is further is refused after the longest wait; one whose client goes
// away while it waits frees its place.
func TestRateLimitWaitsForTurn(t *testing.T) {
	served := 0
	h := RateLimit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }), 20, 1)
	start := time.Now()
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("code %d, want 200 after a wait", rec.Code)
		}
	}
	// 3 at 20 a second with a burst of 1: the 2nd and 3rd wait 50 ms each.
	if el := time.Since(start); served != 3 || el < 90*time.Millisecond {
		t.Errorf("served %d in %v, want 3 in at least 100 ms", served, el)
	}

	// A turn further than maxWait: refused, after maxWait.
	b := &bucket{rate: 1, burst: 1, tokens: 1, last: time.Now(), now: time.Now, maxWait: 50 * time.Millisecond, maxWaiting: 4}
	h = b.limit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }))
	served = 0
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/metrics", nil)) // the burst
	start = time.Now()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if el := time.Since(start); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || el < 45*time.Millisecond || served != 1 {
		t.Errorf("over maxWait: %d, Retry-After %q, after %v, served %d; want 503 after 50 ms, the burst served only",
			rec.Code, rec.Header().Get("Retry-After"), el, served)
	}

	// Requests whose clients left while they waited: not served, and no
	// longer counted as waiting.
	b = &bucket{rate: 10, burst: 1, tokens: 1, last: time.Now(), now: time.Now, maxWait: time.Second, maxWaiting: 4}
	h = b.limit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }))
	served = 0
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/metrics", nil)) // the burst
	for range 4 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(ctx))
	}
	b.mu.Lock()
	waiting := b.waiting
	b.mu.Unlock()
	if served != 1 || waiting != 0 {
		t.Errorf("served %d, %d waiting; want the burst only, none waiting", served, waiting)
	}
}

// Over the rate, a scrape gets 503 and Retry-After without reaching the
// handler.
func TestRateLimit(t *testing.T) {
	served := 0
	// No waiting: the refusals come at once (they wait otherwise, see
	// TestRateLimitWaitsForTurn).
	b := &bucket{rate: 0.5, burst: 2, tokens: 2, last: time.Now(), now: time.Now}
	h := b.limit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }))
	codes := map[int]int{}
	var retry string
	for range 5 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		codes[rec.Code]++
		if rec.Code == http.StatusServiceUnavailable {
			retry = rec.Header().Get("Retry-After")
		}
	}
	if served != 2 || codes[http.StatusOK] != 2 || codes[http.StatusServiceUnavailable] != 3 || retry != "2" {
		t.Errorf("served %d, codes %v, Retry-After %q", served, codes, retry)
	}
}
