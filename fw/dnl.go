package fw

import (
	"reflect"
	"slices"
	"time"
	"unsafe"

	ndnfw "github.com/named-data/ndnd/fw/fw"
	"github.com/named-data/ndnd/fw/table"
)

// The Dead Nonce List drain.
//
// ndnd v1.5.3 remembers the name and nonce of every Interest it forwarded
// in each forwarding thread's Dead Nonce List for 6 s, and drains expired
// entries on a 100 ms ticker, at most 100 per tick: 1,000 entries a second
// per thread. A thread that forwards more Interests than that a second grows
// its list for as long as the load lasts, and a Go map never gives back the
// memory of deleted entries: at 15,000 Interests/s for one minute the list
// holds about 840,000 entries (tens of MB) and takes a quarter of an hour to
// drain. The drain is fixed here by speeding up the ticker while the load
// needs it, and slowing it back down to ndnd's 100 ms when idle so an idle
// node does not wake up more often than ndnd would.
//
// The ticker is an exported field of ndnd's DeadNonceList, but the list is
// an unexported field of fw.Thread: it is read once per thread, before the
// thread starts, through reflect and unsafe. The field's type is checked;
// if a future ndnd changes it, the drain is simply not tuned (and a test
// fails).

const (
	dnlEvictPerTick = 100                    // ndnd's per-tick eviction cap
	dnlSlowTick     = 100 * time.Millisecond // ndnd's own period
	dnlFastestTick  = time.Millisecond
	dnlHeadroom     = 2 // drain this many times faster than entries arrive
)

// dnlTicker returns the ticker of thread's Dead Nonce List, or nil when
// ndnd's layout is not the one this was written for.
func dnlTicker(t *ndnfw.Thread) *time.Ticker {
	v := reflect.ValueOf(t).Elem().FieldByName("deadNonceList")
	if !v.IsValid() || v.Type() != reflect.TypeFor[*table.DeadNonceList]() {
		return nil
	}
	dnl := *(**table.DeadNonceList)(unsafe.Pointer(v.UnsafeAddr()))
	if dnl == nil {
		return nil
	}
	return dnl.Ticker
}

// dnlPeriod is the ticker period that drains entries arriving at rate per
// second with headroom, between 1 ms and ndnd's 100 ms.
func dnlPeriod(rate float64) time.Duration {
	if rate <= 0 {
		return dnlSlowTick
	}
	d := time.Duration(float64(time.Second) * dnlEvictPerTick / (rate * dnlHeadroom))
	return min(max(d, dnlFastestTick), dnlSlowTick)
}

// drainDeadNonces adjusts each thread's drain once a second, until stop is
// closed. Entries expire lifetime after they were inserted, so the drain
// must keep up with the busiest second of the last lifetime (plus margin),
// not just the last one: when a burst ends, its entries are still to go.
// Every forwarded Interest inserts at most one entry.
func drainDeadNonces(threads []*ndnfw.Thread, tickers []*time.Ticker, lifetime time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	every := time.NewTicker(time.Second)
	defer every.Stop()
	window := int(lifetime/time.Second) + 2
	rates := make([][]uint64, len(threads)) // per thread, the last window seconds
	last := make([]uint64, len(threads))
	period := make([]time.Duration, len(threads))
	for i, t := range threads {
		rates[i] = make([]uint64, window)
		last[i] = t.Counters().NOutInterests
		period[i] = dnlSlowTick
	}
	for sec := 0; ; sec++ {
		select {
		case <-stop:
			return
		case <-every.C:
		}
		for i, t := range threads {
			if tickers[i] == nil {
				continue
			}
			n := t.Counters().NOutInterests
			rates[i][sec%window] = n - last[i]
			last[i] = n
			p := dnlPeriod(float64(slices.Max(rates[i])))
			if p != period[i] {
				tickers[i].Reset(p)
				period[i] = p
			}
		}
	}
}
