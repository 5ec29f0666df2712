package core

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Default protocol parameters of [Spec §4.1] and the bootstrap-time rule of
// [Spec §3].
const (
	DefaultPeriodicTimeout   = 30 * time.Second
	DefaultPeriodicJitter    = 0.1
	DefaultSuppressionPeriod = 200 * time.Millisecond
	DefaultSuppressionFactor = 10.0
	DefaultMaxFutureBoot     = 24 * time.Hour

	// DefaultSupersededGrace is how long a superseded incarnation is kept
	// after it last changed (two periodic intervals: its last sequence
	// numbers get one periodic round, and one more if that was lost).
	DefaultSupersededGrace = 2 * DefaultPeriodicTimeout
	// DefaultMaxVectorBytes bounds the StateVector TLV of a Sync Interest:
	// 8800 bytes (the largest NDN packet ndnd and NFD forward) less room
	// for the Interest, the State Vector Data's name and a signature with
	// a key locator. The driver computes the exact room for its group and
	// signer instead.
	DefaultMaxVectorBytes = 8000
	// DefaultMaxMembers bounds the node names the vector holds.
	DefaultMaxMembers = 1024
	// DefaultAdmitBurst and DefaultAdmitRate bound how fast new node names
	// enter the vector: a bucket of 256 names refilled at 32 per second.
	DefaultAdmitBurst = 256
	DefaultAdmitRate  = 32.0
)

// ErrInvalidConfig is wrapped by every error of Config.Validate and New.
var ErrInvalidConfig = errors.New("core: invalid config")

// Config configures an Engine. The engine copies what it needs in New; the
// caller may reuse the Config afterwards, except Rand, which the engine
// owns from then on (it is not safe for concurrent use).
type Config struct {
	// Self is this member's node name (TLV-VALUE of an NDN Name). Required.
	Self Name

	// Boot is this member's bootstrap time in seconds since the Unix epoch.
	// [Spec §3] A member SHOULD persist it and reuse it when it rejoins, and
	// MUST take the current time if it lost it. Required: 0 is rejected so
	// that a forgotten field does not silently mean 1970.
	Boot uint64

	// PeriodicTimeout is the mean interval of periodic Sync Interests in
	// Steady state. Shorter means faster repair of silent losses and more
	// traffic; the whole group sends about one Sync Interest per interval,
	// not one per member. Default 30 s. Must be positive.
	PeriodicTimeout time.Duration

	// PeriodicJitter spreads the periodic timer uniformly over
	// PeriodicTimeout·(1 ± PeriodicJitter), so that members do not fire
	// together. Default 0.1. Must be in [0, 1).
	PeriodicJitter float64

	// SuppressionPeriod (c) bounds the suppression delay: a member that sees
	// an outdated vector waits SuppressionTimeout(c, f, v) < c before it
	// answers, and stays silent if someone else answered first. It is also
	// the "recently updated" window of [Spec §4.5]. Longer means fewer
	// duplicate answers on big or slow groups and slower repair. Default
	// 200 ms (ndn-svs C++ uses 500 ms, NDNts 2200 ms). Must be positive.
	SuppressionPeriod time.Duration

	// SuppressionFactor (f) is the decay factor of the suppression curve:
	// larger pushes more of the delays towards c. Default 10. Must be
	// positive and finite.
	SuppressionFactor float64

	// MaxFutureBoot is how far ahead of the caller's wall clock a received
	// bootstrap time may be; a vector with any bootstrap time beyond it is
	// ignored whole. Default 24 h. Must be at least one second.
	MaxFutureBoot time.Duration

	// SupersededGrace is how long an incarnation superseded by a newer
	// bootstrap time of the same node is kept in the vector after it last
	// changed (or was superseded, if later): long enough for its last
	// sequence numbers to reach every member, after which it is pruned
	// (docs/engine.md, "Superseded incarnations"). Longer keeps the tail of
	// a crashed incarnation repairable for longer; the vector still never
	// holds more than two incarnations of another node. 0 prunes at once.
	// Default 60 s. Must not be negative.
	SupersededGrace time.Duration

	// MaxVectorBytes bounds the size of the StateVector TLV the engine asks
	// to send. A larger state is sent in part: the own entry first, then
	// what a suppression answer must carry, then the most recently updated
	// pairs, then the rest in turns (docs/engine.md, "Vectors over the
	// bound"). It is also the size from which a received vector may be
	// partial: from 7/8 of it, pairs it lacks do not make it outdated.
	// Larger carries more per Sync Interest but must stay under what the
	// network forwards in one packet (8800 bytes for NDN). Default 8000.
	// Must be at least MinVectorBytes (32).
	MaxVectorBytes int

	// MaxMembers bounds the distinct node names in the vector (this member
	// not counted). A new name beyond it is admitted only by evicting the
	// oldest name that never changed since it was first heard, and is
	// refused otherwise (docs/decisions.md, "A flood of fake names").
	// Default 1024. Must be positive.
	MaxMembers int

	// AdmitBurst and AdmitRate are a token bucket for new node names: at
	// most AdmitBurst at once, refilled at AdmitRate per second. Names
	// over it are refused (not stored, no Update) and counted; they are
	// admitted from a later vector. A member joining a large group learns
	// it at this pace. Defaults 256 and 32/s. Both must be positive.
	AdmitBurst int
	AdmitRate  float64

	// Rand is the engine's only source of randomness (timer jitter and
	// suppression delays). Seed it to replay a run exactly. Required.
	Rand *rand.Rand

	// InitialState is the state vector persisted by a previous run (the last
	// Ready.Persist), or nil. It is copied. If it holds (Self, Boot), the
	// next publication continues from that sequence number.
	InitialState *Vector
}

// DefaultConfig returns a Config with the protocol defaults of the
// specification. Self, Boot and Rand are left for the caller to fill in.
func DefaultConfig() Config {
	return Config{
		PeriodicTimeout:   DefaultPeriodicTimeout,
		PeriodicJitter:    DefaultPeriodicJitter,
		SuppressionPeriod: DefaultSuppressionPeriod,
		SuppressionFactor: DefaultSuppressionFactor,
		MaxFutureBoot:     DefaultMaxFutureBoot,
		SupersededGrace:   DefaultSupersededGrace,
		MaxVectorBytes:    DefaultMaxVectorBytes,
		MaxMembers:        DefaultMaxMembers,
		AdmitBurst:        DefaultAdmitBurst,
		AdmitRate:         DefaultAdmitRate,
	}
}

// Validate reports the first problem of c as an error wrapping
// ErrInvalidConfig, or nil.
func (c Config) Validate() error {
	switch {
	case c.Self == "":
		return fmt.Errorf("%w: Self is empty", ErrInvalidConfig)
	case !validName(c.Self):
		return fmt.Errorf("%w: Self is not a well-formed name TLV-VALUE", ErrInvalidConfig)
	case c.Boot == 0:
		return fmt.Errorf("%w: Boot is 0 (use the current Unix time when none was persisted)", ErrInvalidConfig)
	case c.PeriodicTimeout <= 0:
		return fmt.Errorf("%w: PeriodicTimeout %v is not positive", ErrInvalidConfig, c.PeriodicTimeout)
	case !(c.PeriodicJitter >= 0 && c.PeriodicJitter < 1):
		return fmt.Errorf("%w: PeriodicJitter %v is not in [0, 1)", ErrInvalidConfig, c.PeriodicJitter)
	case c.SuppressionPeriod <= 0:
		return fmt.Errorf("%w: SuppressionPeriod %v is not positive", ErrInvalidConfig, c.SuppressionPeriod)
	case !(c.SuppressionFactor > 0) || math.IsInf(c.SuppressionFactor, 1):
		return fmt.Errorf("%w: SuppressionFactor %v is not positive and finite", ErrInvalidConfig, c.SuppressionFactor)
	case c.MaxFutureBoot < time.Second:
		return fmt.Errorf("%w: MaxFutureBoot %v is under one second", ErrInvalidConfig, c.MaxFutureBoot)
	case c.SupersededGrace < 0:
		return fmt.Errorf("%w: SupersededGrace %v is negative", ErrInvalidConfig, c.SupersededGrace)
	case c.MaxVectorBytes < MinVectorBytes:
		return fmt.Errorf("%w: MaxVectorBytes %d is under %d", ErrInvalidConfig, c.MaxVectorBytes, MinVectorBytes)
	case c.MaxMembers <= 0:
		return fmt.Errorf("%w: MaxMembers %d is not positive", ErrInvalidConfig, c.MaxMembers)
	case c.AdmitBurst <= 0:
		return fmt.Errorf("%w: AdmitBurst %d is not positive", ErrInvalidConfig, c.AdmitBurst)
	case !(c.AdmitRate > 0) || math.IsInf(c.AdmitRate, 1):
		return fmt.Errorf("%w: AdmitRate %v is not positive and finite", ErrInvalidConfig, c.AdmitRate)
	case c.Rand == nil:
		return fmt.Errorf("%w: Rand is nil", ErrInvalidConfig)
	}
	return nil
}

// MinVectorBytes is the smallest MaxVectorBytes: room for the own entry
// with a short name.
const MinVectorBytes = 32

// validName reports whether n parses as a sequence of TLV name components
// whose VAR-NUMBERs are in their shortest form (which CompareNames needs).
func validName(n Name) bool {
	s := string(n)
	for len(s) > 0 {
		_, rest, ok := readVarNum(s)
		if !ok {
			return false
		}
		length, rest, ok := readVarNum(rest)
		if !ok || length > uint64(len(rest)) {
			return false
		}
		s = rest[length:]
	}
	return true
}

// readVarNum reads an NDN TLV VAR-NUMBER in its shortest form from the
// front of s.
func readVarNum(s string) (uint64, string, bool) {
	if len(s) == 0 {
		return 0, s, false
	}
	var n int
	var min uint64
	switch first := s[0]; {
	case first < 253:
		return uint64(first), s[1:], true
	case first == 253:
		n, min = 2, 253
	case first == 254:
		n, min = 4, 1<<16
	default:
		n, min = 8, 1<<32
	}
	if len(s) < 1+n {
		return 0, s, false
	}
	var x uint64
	for i := 1; i <= n; i++ {
		x = x<<8 | uint64(s[i])
	}
	return x, s[1+n:], x >= min
}
