package svs

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// DefaultInboxSize is the number of received Sync Interests that may wait
// for the driver before further ones are dropped (and counted).
const DefaultInboxSize = 256

// Config configures one member of a sync group. New copies it; the caller
// may reuse it afterwards, except Rand, which the Sync owns from then on.
//
// The callbacks OnUpdate and OnPersist run on the goroutine that runs Run,
// one at a time, in order, with no lock and no engine state held. They must
// not call Publish, SetSeq or Run of the same Sync (that would deadlock);
// they may call State, Seq, Stats, SyncPrefix and Close. A slow callback
// slows the whole member down: while it runs, no Sync Interest is processed
// or sent and received ones queue up in the inbox (InboxSize), beyond which
// they are dropped.
type Config struct {
	// Group is the sync group prefix. Sync Interests are named
	// /<Group>/v=3/<digest>. Required.
	Group enc.Name
	// Node is this member's node name, the key of its entry in the state
	// vector. Required.
	Node enc.Name
	// Boot is this member's bootstrap time in seconds since the Unix
	// epoch. [Spec §3] Persist it with the state vector and pass it back
	// after a restart; 0 means the current time (a new incarnation whose
	// sequence numbers start again at 1).
	Boot uint64

	// PeriodicTimeout is the mean interval of periodic Sync Interests in a
	// quiet group (jittered ±10 %). The whole group sends about one per
	// interval, not one per member. 0 means 30 s.
	PeriodicTimeout time.Duration
	// SuppressionPeriod bounds how long a member that heard an outdated
	// vector waits before it answers, and is the "recently updated"
	// window. 0 means 200 ms.
	SuppressionPeriod time.Duration

	// Signer signs the State Vector Data of outgoing Sync Interests. nil
	// means DigestSha256 (what ndnd uses without a trust configuration).
	// It is called from the Run goroutine.
	Signer ndn.Signer
	// Validator checks the State Vector Data of received Sync Interests;
	// rejected ones are dropped and counted in Stats.Invalid. nil means
	// wire.AcceptAll. It is called from the Run goroutine and must not
	// block (no certificate fetching).
	Validator wire.Validator
	// MaxEntries bounds the (node, boot) pairs of a vector in both
	// directions; a larger received vector is dropped as malformed.
	// 0 means wire.DefaultMaxEntries.
	MaxEntries int

	// InitialState is the vector last handed to OnPersist by a previous
	// run, or nil. It is copied. With the same Boot, publishing continues
	// from the sequence number it holds for Node.
	InitialState *core.Vector

	// OnUpdate is told about sequence numbers of other members (or of
	// this member's earlier incarnations) that are new to this member, in
	// the order they were learned. Optional. See the type comment for its
	// threading rules.
	OnUpdate func(Update)
	// OnPersist receives the state vector each time it changes (own
	// publications and learned updates). Store it with Boot to resume
	// after a restart. The vector is shared with State's snapshot: treat
	// it as read-only; it may be retained. Optional.
	OnPersist func(*core.Vector)

	// Register is how Sync Interests get routed to this member: it is
	// called once from Run, before anything is sent, with SyncPrefix
	// (/<Group>/v=3). nil means the engine's RegisterRoute (and
	// UnregisterRoute when Run returns). With an in-process forwarder,
	// pass a function that adds the route directly (fw.AddRoute).
	Register func(prefix enc.Name) error

	// Logger receives debug logs (dropped packets) and warnings (send
	// failures). nil discards them.
	Logger *slog.Logger
	// Rand seeds timer jitter, suppression delays and Interest nonces; a
	// seeded Rand makes the protocol's choices replayable. nil means a
	// generator seeded from crypto/rand. It is owned by the Sync after New.
	Rand *rand.Rand
	// InboxSize is how many received Sync Interests may wait for the Run
	// goroutine; beyond it they are dropped and counted in
	// Stats.InboxDropped. 0 means DefaultInboxSize.
	InboxSize int
}

// Update tells the application that sequence numbers Low through High
// (inclusive, 1 ≤ Low ≤ High) of member Node's incarnation Boot exist. Node
// is the TLV-VALUE of the member's name; wire.CoreToName turns it into an
// enc.Name, and wire.PublicationName(node, group, Boot, seq) gives the SVS
// v3 name of each publication.
type Update struct {
	Node core.Name
	Boot uint64
	Low  uint64
	High uint64
}

// Errors returned by this package. Configuration problems wrap
// ErrInvalidConfig.
var (
	ErrInvalidConfig = errors.New("svs: invalid config")
	// ErrClosed: the Sync was closed, or its Run has returned.
	ErrClosed = errors.New("svs: sync stopped")
	// ErrRunning: Run was called a second time.
	ErrRunning = errors.New("svs: Run already called")
)

func (c *Config) check() error {
	switch {
	case len(c.Group) == 0:
		return fmt.Errorf("%w: empty Group", ErrInvalidConfig)
	case len(c.Node) == 0:
		return fmt.Errorf("%w: empty Node", ErrInvalidConfig)
	case c.PeriodicTimeout < 0:
		return fmt.Errorf("%w: negative PeriodicTimeout", ErrInvalidConfig)
	case c.SuppressionPeriod < 0:
		return fmt.Errorf("%w: negative SuppressionPeriod", ErrInvalidConfig)
	case c.InboxSize < 0:
		return fmt.Errorf("%w: negative InboxSize", ErrInvalidConfig)
	case c.MaxEntries < 0:
		return fmt.Errorf("%w: negative MaxEntries", ErrInvalidConfig)
	}
	if _, err := wire.CoreToName(wire.NameToCore(c.Node)); err != nil {
		return fmt.Errorf("%w: Node: %w", ErrInvalidConfig, err)
	}
	if _, err := wire.CoreToName(wire.NameToCore(c.Group)); err != nil {
		return fmt.Errorf("%w: Group: %w", ErrInvalidConfig, err)
	}
	return nil
}

// newRand returns a generator seeded from crypto/rand.
func newRand() *rand.Rand {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails (Go ≥ 1.24 crashes instead)
	return rand.New(rand.NewChaCha8(seed))
}
