package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimit serves h at most perSecond times a second on average, with
// bursts of up to burst; a request over the rate is answered 503 with a
// Retry-After at once, before anything is gathered. A scrape of a node
// with hundreds of faces takes milliseconds of CPU: without a bound on the
// rate, a client that scrapes in a loop (a misconfigured Prometheus, a
// script) would take that CPU from the sync group members. Prometheus
// scrapes a target once per scrape interval (15 s by default) from each
// server, far below any sensible bound.
func RateLimit(h http.Handler, perSecond float64, burst int) http.Handler {
	b := &bucket{rate: perSecond, burst: float64(burst), tokens: float64(burst), now: time.Now}
	b.last = b.now()
	retry := strconv.Itoa(max(1, int(1/perSecond+0.5)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !b.take() {
			w.Header().Set("Retry-After", retry)
			http.Error(w, "scraped too often: at most "+strconv.FormatFloat(perSecond, 'g', -1, 64)+" a second", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bucket is a token bucket: rate tokens a second, up to burst.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func (b *bucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	b.tokens = min(b.burst, b.tokens+t.Sub(b.last).Seconds()*b.rate)
	b.last = t
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
