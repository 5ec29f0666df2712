// Package ping measures Interest/Data exchanges through a forwarder: a
// producer that answers every Interest under a prefix, and a consumer that
// expresses unique names one at a time (round trip) or with a window
// (throughput). Benchmarks and the bench command share it.
package ping

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/named-data/ndnd/std/utils"
)

// Serve answers every Interest under prefix with content, DigestSha256-signed.
// It does not route prefix: the caller does.
func Serve(e ndn.Engine, prefix enc.Name, content []byte) error {
	sg := signer.NewSha256Signer()
	return e.AttachHandler(prefix, func(args ndn.InterestHandlerArgs) {
		data, err := e.Spec().MakeData(args.Interest.Name(), &ndn.DataConfig{}, enc.Wire{content}, sg)
		if err != nil {
			return
		}
		_ = args.Reply(data.Wire)
	})
}

// ErrFailed is returned when an exchange ends without Data.
var ErrFailed = errors.New("ping: exchange failed")

// Consumer expresses Interests for unique names under a prefix.
type Consumer struct {
	e      ndn.Engine
	prefix enc.Name
	seq    uint64
}

// NewConsumer returns a consumer on e for names prefix/<run>/seq=<n>.
func NewConsumer(e ndn.Engine, prefix enc.Name, run string) *Consumer {
	return &Consumer{e: e, prefix: prefix.Append(enc.NewGenericComponent(run))}
}

func (c *Consumer) express(done func(error)) error {
	c.seq++
	name := c.prefix.Append(enc.NewSequenceNumComponent(c.seq))
	intr, err := c.e.Spec().MakeInterest(name, &ndn.InterestConfig{
		Lifetime: optional.Some(4 * time.Second),
		Nonce:    utils.ConvertNonce(c.e.Timer().Nonce()),
	}, nil, nil)
	if err != nil {
		return err
	}
	return c.e.Express(intr, func(a ndn.ExpressCallbackArgs) {
		if a.Result != ndn.InterestResultData {
			done(fmt.Errorf("%w: %s: %s", ErrFailed, name, a.Result))
			return
		}
		done(nil)
	})
}

// RoundTrips makes n exchanges one after another, with gap idle time before
// each, and returns each one's round trip.
func (c *Consumer) RoundTrips(n int, gap time.Duration) ([]time.Duration, error) {
	rtts := make([]time.Duration, 0, n)
	ch := make(chan error, 1)
	for range n {
		if gap > 0 {
			time.Sleep(gap) // the idle gap is what is measured, not a wait
		}
		t0 := time.Now()
		if err := c.express(func(err error) { ch <- err }); err != nil {
			return rtts, err
		}
		if err := <-ch; err != nil {
			return rtts, err
		}
		rtts = append(rtts, time.Since(t0))
	}
	return rtts, nil
}

// Pipeline makes n exchanges with at most window outstanding and returns
// how long they took.
func (c *Consumer) Pipeline(n, window int) (time.Duration, error) {
	slots := make(chan struct{}, window)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	t0 := time.Now()
	for range n {
		slots <- struct{}{}
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		wg.Add(1)
		err := c.express(func(err error) {
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
			<-slots
			wg.Done()
		})
		if err != nil {
			wg.Done()
			return 0, err
		}
	}
	wg.Wait()
	return time.Since(t0), firstErr
}

// Stats summarises durations.
type Stats struct {
	N                int
	Median, P90, P99 time.Duration
	Min, Max, Mean   time.Duration
}

// Summarize returns the order statistics of ds.
func Summarize(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return Stats{N: len(s), Median: q(0.5), P90: q(0.9), P99: q(0.99), Min: s[0], Max: s[len(s)-1], Mean: sum / time.Duration(len(s))}
}
