package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Bounds of the waits (RateLimit): a request over the rate waits for its
// turn for at most rateMaxWait, or is refused after rateMaxWait; at most
// rateMaxWaiting requests wait at once, and any other is refused at once.
const (
	rateMaxWait    = time.Second
	rateMaxWaiting = 64
)

// RateLimit serves h at most perSecond times a second on average, with
// bursts of up to burst. A scrape of a node with hundreds of faces takes
// milliseconds of CPU: without a bound on the rate, a client that scrapes
// in a loop (a misconfigured Prometheus, a script) would take that CPU
// from the sync group members. Prometheus scrapes a target once per scrape
// interval (15 s by default) from each server, far below any sensible
// bound.
//
// A request over the rate waits: for its turn, if that comes within
// rateMaxWait, and is then served; else for rateMaxWait, and is then
// answered 503 with a Retry-After, before anything is gathered. Only when
// rateMaxWaiting requests wait already is one refused at once. Refusing
// at once always would not be enough: a refusal is cheap, but a client
// looping on refusals makes thousands a second (8 looping clients: about
// 12,000 a second, which took three times the CPU the group members use,
// and a fifth more publish-to-learn latency at 20 members in
// BenchmarkStatusStorm). Made to wait, a looping client asks about once a
// second per connection. A waiting request costs a goroutine and a
// connection, no CPU.
func RateLimit(h http.Handler, perSecond float64, burst int) http.Handler {
	b := &bucket{rate: perSecond, burst: float64(burst), tokens: float64(burst), now: time.Now, maxWait: rateMaxWait, maxWaiting: rateMaxWaiting}
	b.last = b.now()
	return b.limit(h)
}

// limit serves h through b.
func (b *bucket) limit(h http.Handler) http.Handler {
	retry := strconv.Itoa(max(1, int(1/b.rate+0.5)))
	refusal := "scraped too often: at most " + strconv.FormatFloat(b.rate, 'g', -1, 64) + " a second"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wait, serve := b.reserve()
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.Context().Done():
				// The client went away; a turn it had is spent.
				t.Stop()
				b.done()
				return
			}
			b.done()
		}
		if !serve {
			w.Header().Set("Retry-After", retry)
			http.Error(w, refusal, http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bucket is a token bucket: rate tokens a second, up to burst. A request
// may take a token up to maxWait ahead (tokens below zero); at most
// maxWaiting requests wait, for their turn or to be refused.
type bucket struct {
	mu         sync.Mutex
	rate       float64
	burst      float64
	tokens     float64
	last       time.Time
	now        func() time.Time
	maxWait    time.Duration
	maxWaiting int
	waiting    int
}

// reserve decides about a request: serve it now (0, true); serve it after
// wait (wait, true), its token taken ahead; refuse it after wait
// (maxWait, false); or refuse it now (0, false), when maxWaiting requests
// wait already. After a wait the caller calls done.
func (b *bucket) reserve() (wait time.Duration, serve bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	b.tokens = min(b.burst, b.tokens+t.Sub(b.last).Seconds()*b.rate)
	b.last = t
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	if b.waiting >= b.maxWaiting {
		return 0, false
	}
	wait = time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	if wait > b.maxWait {
		wait, serve = b.maxWait, false
	} else {
		b.tokens--
		serve = true
	}
	if wait > 0 {
		b.waiting++
	}
	return wait, serve
}

// done ends a wait that reserve asked for.
func (b *bucket) done() {
	b.mu.Lock()
	b.waiting--
	b.mu.Unlock()
}
