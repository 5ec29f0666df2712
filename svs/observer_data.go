package svs

import (
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// newsStamp is the SignatureTime (Unix milliseconds) of the received
// vector that brought the updates Run is carrying out, if it had one.
type newsStamp struct {
	ms    uint64
	timed bool
}

// announceStampsCap bounds the announcements remembered per producer.
// A producer announcing one publication per Sync Interest faster than
// they are fetched fills it; the publications announced meanwhile are
// counted untimed rather than given another one's time, which would
// bias the histogram either way.
const announceStampsCap = 16

// announceStamp says that numbers from..through were announced at ms.
type announceStamp struct {
	from, through uint64
	ms            uint64
}

// announceStamps is a ring of one producer's timed announcements not yet
// released, in sequence order (announcements only raise a producer's
// numbers). It lives in prodWant: no allocation of its own.
type announceStamps struct {
	head, n int
	s       [announceStampsCap]announceStamp
}

// add remembers that from..through were announced at ms; a full ring
// leaves them untimed.
func (a *announceStamps) add(from, through, ms uint64) {
	if a.n == len(a.s) || from > through {
		return
	}
	a.s[(a.head+a.n)%len(a.s)] = announceStamp{from: from, through: through, ms: ms}
	a.n++
}

// drop forgets the announcements of numbers up to through (released).
func (a *announceStamps) drop(through uint64) {
	for a.n > 0 && a.s[a.head].through <= through {
		a.head = (a.head + 1) % len(a.s)
		a.n--
	}
}

// take returns when seq was announced, if that is known, and forgets the
// announcements below it: the release is in order.
func (a *announceStamps) take(seq uint64) (uint64, bool) {
	if seq > 0 {
		a.drop(seq - 1)
	}
	if a.n > 0 && a.s[a.head].from <= seq {
		return a.s[a.head].ms, true
	}
	return 0, false
}

// observeDelivered runs on Run for publication seq of k released in order:
// it measures the delivery latency from its announcement.
func (s *Sync) observeDelivered(k core.Key, seq uint64) {
	d := s.data
	var ms uint64
	var ok bool
	if w := d.wants[k]; w != nil {
		ms, ok = w.stamps.take(seq)
	}
	if !ok {
		d.ctr.deliveredUntimed.Add(1)
		return
	}
	lat := time.Duration(time.Now().UnixNano() - int64(min(ms, maxUnixMilli))*int64(time.Millisecond))
	if lat < 0 {
		d.ctr.deliveredNegative.Add(1)
	}
	if s.observer.DeliveryLatency != nil {
		s.observer.DeliveryLatency(lat)
	}
}
