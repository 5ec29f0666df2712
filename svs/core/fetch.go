package core

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Default fetch parameters (docs/engine.md, "Fetching").
const (
	// DefaultFetchWindow is how many consecutive sequence numbers of one
	// producer may be in progress at once.
	DefaultFetchWindow = 8
	// DefaultMaxOutstanding caps the fetches on the network at once, over
	// every producer.
	DefaultMaxOutstanding = 64
	// DefaultAttemptTimeout is how long one attempt may take before the
	// Fetcher counts it as timed out: the 4 s Interest lifetime of ndnd
	// and NFD.
	DefaultAttemptTimeout = 4 * time.Second
	// DefaultMaxAttempts is how many attempts a sequence number gets.
	DefaultMaxAttempts = 5
	// DefaultGiveUpAfter bounds the time from a sequence number's first
	// attempt to the start of its last one.
	DefaultGiveUpAfter = time.Minute
	// DefaultBackoffBase and DefaultBackoffMax shape the retry delays:
	// FullJitter(200 ms, 10 s, attempt, u).
	DefaultBackoffBase = 200 * time.Millisecond
	DefaultBackoffMax  = 10 * time.Second
	// DefaultStallAfter is how many sequence numbers of one producer given
	// up in a row, with no success between them, stall it.
	DefaultStallAfter = 4
	// DefaultSupersededBacklog is how many sequence numbers not yet
	// started a superseded incarnation keeps.
	DefaultSupersededBacklog = 64
	// DefaultMaxProducers bounds the (node, boot) pairs the Fetcher holds.
	DefaultMaxProducers = 4096
)

// NoDeadline is FetchReady.Deadline when nothing in the Fetcher is timed:
// no attempt is on the network and no retry waits for its time (a due
// retry held back by MaxOutstanding waits for a result, not for time).
const NoDeadline = time.Duration(math.MaxInt64)

// ErrInvalidFetchConfig is wrapped by every error of FetchConfig.Validate
// and NewFetcher.
var ErrInvalidFetchConfig = errors.New("core: invalid fetch config")

// FetchConfig configures a Fetcher. NewFetcher copies it; Rand belongs to
// the Fetcher from then on.
type FetchConfig struct {
	// Window is how many consecutive sequence numbers of one producer
	// (node, boot) may be in progress (on the network or waiting for a
	// retry) at once: a sequence number s is started only if s is less
	// than the lowest one in progress plus Window. So at most Window
	// fetches per producer are outstanding, one slow publication holds
	// back at most Window−1 later ones, and an in-order reader buffers at
	// most Window−1. Larger fetches a backlog faster from a producer that
	// answers. Default 8. Must be positive.
	Window int

	// MaxOutstanding caps the fetches on the network at once, over every
	// producer; producers take turns for it. Default 64. Must be positive.
	MaxOutstanding int

	// AttemptTimeout is how long the Fetcher waits for the result of one
	// attempt before counting it as timed out (FetchTimeout). The driver
	// sets it as the Interest lifetime and may report the timeout itself
	// earlier. Default 4 s. Must be positive.
	AttemptTimeout time.Duration

	// MaxAttempts is how many attempts a sequence number gets before it is
	// given up (GaveUpAttempts). Default 5. Must be positive.
	MaxAttempts int

	// GiveUpAfter bounds the time from a sequence number's first attempt
	// to the start of its last: a retry that would start later is not
	// made, the number is given up (GaveUpDeadline). 0 means no bound (only
	// MaxAttempts). Default 1 min. Must not be negative.
	GiveUpAfter time.Duration

	// BackoffBase and BackoffMax shape the delay before a retry:
	// FullJitter(BackoffBase, BackoffMax, attempt, u), uniform in
	// [0, min(BackoffMax, BackoffBase·2^(attempt−1))). Defaults 200 ms and
	// 10 s. BackoffBase must be positive and BackoffMax at least
	// BackoffBase.
	BackoffBase time.Duration
	BackoffMax  time.Duration

	// StallAfter is how many sequence numbers of one producer given up in
	// a row, with no success between them, stall the producer: everything
	// of it not yet started is given up at once (GaveUpStalled), and until
	// one fetch from it succeeds it gets one sequence number in progress at
	// a time, each newly announced range being given up in turn when that
	// probe fails. So a producer that never answers, or a peer announcing
	// sequence number 10^12, costs at most (Window+StallAfter−1)·MaxAttempts
	// attempts and one report for the rest, not one per sequence number.
	// Default 4. Must be positive.
	StallAfter int

	// SupersededBacklog is how many sequence numbers not yet started an
	// incarnation keeps once a newer boot of its node is wanted; the
	// higher ones are given up (GaveUpSuperseded). Those in progress always
	// finish. A member restarted with its store serves its old
	// publications, so the lowest missing ones are still fetched; one that
	// lost its store never answers, and the stall rule ends those. Default
	// 64. 0 gives up everything not yet started.
	SupersededBacklog uint64

	// MaxProducers bounds the (node, boot) pairs held. A pair with nothing
	// to fetch is forgotten first (the oldest first) when room is needed;
	// when every pair held has work, a Want for a new one is given up at
	// once (GaveUpOverload). Default 4096 (the sync engine holds at most
	// two incarnations of each of its 1024 members). Must be positive.
	MaxProducers int

	// Rand is the Fetcher's only source of randomness (retry jitter).
	// Required.
	Rand *rand.Rand
}

// DefaultFetchConfig returns a FetchConfig with the defaults above; Rand
// is left for the caller to fill in.
func DefaultFetchConfig() FetchConfig {
	return FetchConfig{
		Window:            DefaultFetchWindow,
		MaxOutstanding:    DefaultMaxOutstanding,
		AttemptTimeout:    DefaultAttemptTimeout,
		MaxAttempts:       DefaultMaxAttempts,
		GiveUpAfter:       DefaultGiveUpAfter,
		BackoffBase:       DefaultBackoffBase,
		BackoffMax:        DefaultBackoffMax,
		StallAfter:        DefaultStallAfter,
		SupersededBacklog: DefaultSupersededBacklog,
		MaxProducers:      DefaultMaxProducers,
	}
}

// Validate reports the first problem of c as an error wrapping
// ErrInvalidFetchConfig, or nil.
func (c FetchConfig) Validate() error {
	switch {
	case c.Window <= 0:
		return fmt.Errorf("%w: Window %d is not positive", ErrInvalidFetchConfig, c.Window)
	case c.MaxOutstanding <= 0:
		return fmt.Errorf("%w: MaxOutstanding %d is not positive", ErrInvalidFetchConfig, c.MaxOutstanding)
	case c.AttemptTimeout <= 0:
		return fmt.Errorf("%w: AttemptTimeout %v is not positive", ErrInvalidFetchConfig, c.AttemptTimeout)
	case c.MaxAttempts <= 0:
		return fmt.Errorf("%w: MaxAttempts %d is not positive", ErrInvalidFetchConfig, c.MaxAttempts)
	case c.GiveUpAfter < 0:
		return fmt.Errorf("%w: GiveUpAfter %v is negative", ErrInvalidFetchConfig, c.GiveUpAfter)
	case c.BackoffBase <= 0:
		return fmt.Errorf("%w: BackoffBase %v is not positive", ErrInvalidFetchConfig, c.BackoffBase)
	case c.BackoffMax < c.BackoffBase:
		return fmt.Errorf("%w: BackoffMax %v is below BackoffBase %v", ErrInvalidFetchConfig, c.BackoffMax, c.BackoffBase)
	case c.StallAfter <= 0:
		return fmt.Errorf("%w: StallAfter %d is not positive", ErrInvalidFetchConfig, c.StallAfter)
	case c.MaxProducers <= 0:
		return fmt.Errorf("%w: MaxProducers %d is not positive", ErrInvalidFetchConfig, c.MaxProducers)
	case c.Rand == nil:
		return fmt.Errorf("%w: Rand is nil", ErrInvalidFetchConfig)
	}
	return nil
}

// FetchError is why one attempt failed, as the driver reports it (or
// FetchTimeout when the Fetcher's own AttemptTimeout expired).
type FetchError uint8

const (
	// FetchTimeout: no answer within the Interest lifetime.
	FetchTimeout FetchError = iota + 1
	// FetchNack: the network answered with a Nack (no route, congestion).
	FetchNack
	// FetchInvalid: a Data came back but failed validation, or its
	// segments did not reassemble.
	FetchInvalid
	// FetchOther: any other failure the driver met (a face down, a store
	// error).
	FetchOther
)

// String returns timeout, nack, invalid, other, or none for the zero value.
func (k FetchError) String() string {
	switch k {
	case 0:
		return "none"
	case FetchTimeout:
		return "timeout"
	case FetchNack:
		return "nack"
	case FetchInvalid:
		return "invalid"
	case FetchOther:
		return "other"
	}
	return fmt.Sprintf("FetchError(%d)", uint8(k))
}

// GiveUpReason says why sequence numbers were given up.
type GiveUpReason uint8

const (
	// GaveUpAttempts: MaxAttempts attempts failed.
	GaveUpAttempts GiveUpReason = iota + 1
	// GaveUpDeadline: the next retry would start after GiveUpAfter.
	GaveUpDeadline
	// GaveUpStalled: the producer stalled (StallAfter give-ups in a row);
	// these were never attempted.
	GaveUpStalled
	// GaveUpSuperseded: a newer boot of the node is wanted and these were
	// beyond SupersededBacklog; never attempted.
	GaveUpSuperseded
	// GaveUpOverload: MaxProducers pairs with work were held; never
	// attempted.
	GaveUpOverload
)

// String returns attempts, deadline, stalled, superseded or overload.
func (r GiveUpReason) String() string {
	switch r {
	case GaveUpAttempts:
		return "attempts"
	case GaveUpDeadline:
		return "deadline"
	case GaveUpStalled:
		return "stalled"
	case GaveUpSuperseded:
		return "superseded"
	case GaveUpOverload:
		return "overload"
	}
	return fmt.Sprintf("GiveUpReason(%d)", uint8(r))
}

// Fetch is one attempt to start: fetch publication Seq of (Node, Boot).
// Attempt counts from 1; pass the Fetch back to Succeeded or Failed.
type Fetch struct {
	Node    Name
	Boot    uint64
	Seq     uint64
	Attempt int
}

// GiveUp reports that sequence numbers Low through High (inclusive) of
// (Node, Boot) will not be fetched. Each wanted sequence number is given up
// at most once, and never after it was reported fetched. Attempts is how
// many attempts were made (0 for a range never attempted, which may be
// huge: one report, not one per number) and Last the error of the last
// one (0 if none).
type GiveUp struct {
	Node     Name
	Boot     uint64
	Low      uint64
	High     uint64
	Attempts int
	Last     FetchError
	Reason   GiveUpReason
}

// Count returns the number of sequence numbers the report covers, High −
// Low + 1 (Low is at least 1, so it does not overflow).
func (g GiveUp) Count() uint64 { return g.High - g.Low + 1 }

// FetchReady is the batch of actions one Fetcher event asks for: start the
// fetches in Start (in order), tell the application of GiveUps (in order),
// and call Tick at or after Deadline (NoDeadline: only on other events).
// The caller owns it.
type FetchReady struct {
	Start    []Fetch
	GiveUps  []GiveUp
	Deadline time.Duration
}

// FetchStats are the Fetcher's counters for metrics and tests: cumulative
// counts first, then gauges of what it holds now.
type FetchStats struct {
	// Started counts attempts started (first attempts and retries);
	// Retried the retries among them.
	Started uint64
	Retried uint64
	// Succeeded counts sequence numbers fetched.
	Succeeded uint64
	// Failed counts attempts that failed (reported by Failed, or timed out
	// by AttemptTimeout); TimedOut those the Fetcher timed out itself.
	Failed   uint64
	TimedOut uint64
	// GivenUp counts sequence numbers given up (a range counts its size,
	// saturating); Stalls counts producers that stalled.
	GivenUp uint64
	Stalls  uint64
	// Late counts results for fetches that were not outstanding: a second
	// answer, an answer after a give-up, a stale attempt's failure.
	Late uint64

	// Outstanding is how many attempts are on the network now; Waiting
	// how many sequence numbers wait for a retry; Pending how many wanted
	// ones are not started yet (saturating at the largest uint64); Ranges
	// how many disjoint ranges hold them; Producers how many (node, boot)
	// pairs are held.
	// The Fetcher's memory is proportional to Outstanding + Waiting +
	// Ranges + Producers, never to Pending.
	Outstanding int
	Waiting     int
	Pending     uint64
	Ranges      int
	Producers   int
}
