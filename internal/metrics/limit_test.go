package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	b := &bucket{rate: 2, burst: 3, tokens: 3, last: now, now: func() time.Time { return now }}
	for i := range 3 {
		if !b.take() {
			t.Fatalf("take %d of a burst of 3 refused", i+1)
		}
	}
	if b.take() {
		t.Fatal("a fourth take at once allowed")
	}
	now = now.Add(499 * time.Millisecond) // 0.998 of a token at 2/s
	if b.take() {
		t.Fatal("allowed before a whole token came back")
	}
	now = now.Add(2 * time.Millisecond)
	if !b.take() || b.take() {
		t.Fatal("not exactly one take after half a second at 2/s")
	}
	now = now.Add(time.Hour) // refills to the burst, no more
	n := 0
	for b.take() {
		n++
	}
	if n != 3 {
		t.Errorf("%d takes after an hour, want the burst, 3", n)
	}
}

// Over the rate, a scrape gets 503 and Retry-After without reaching the
// handler.
func TestRateLimit(t *testing.T) {
	served := 0
	h := RateLimit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }), 0.5, 2)
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
