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

// DefaultMaxSyncInterestSize is the default bound on the size of a Sync
// Interest: 8800 bytes, the largest NDN packet that ndnd and NFD accept
// (MAX_NDN_PACKET_SIZE). A larger one would be dropped by the forwarder,
// and the member would go silent.
const DefaultMaxSyncInterestSize = 8800

// minSyncInterestRoom is the least room for the state vector that
// MaxSyncInterestSize must leave, after the Interest's own fields.
const minSyncInterestRoom = 64

// WarnInterval is the least time between two warnings of one kind (a
// partial vector sent, new members refused, a newer incarnation of this
// member seen); what happens in between is counted, and the count is in
// the next warning.
const WarnInterval = 30 * time.Second

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

	// MaxSyncInterestSize bounds the size in bytes of every Sync Interest
	// sent. When the whole state vector does not fit, the member still
	// sends: its own entry, what a suppression answer must carry, the most
	// recently updated entries, then the others in turns over successive
	// Sync Interests (docs/engine.md, "Vectors over the bound"). Each such
	// Sync Interest is counted in Stats.Engine.Partial and warned about
	// (at most once per WarnInterval). Smaller means fewer entries per Sync
	// Interest, so a large group needs more periodic rounds to repair a
	// loss or to teach a newcomer everything; larger than 8800 is dropped
	// by ndnd and NFD, and larger than a link's MTU needs NDNLP
	// fragmentation on that link. 0 means DefaultMaxSyncInterestSize
	// (8800). It must leave at least 64 bytes for the vector after the
	// Interest's other fields.
	MaxSyncInterestSize int
	// MaxMembers bounds the node names the state vector holds (this
	// member's not counted); 0 means core.DefaultMaxMembers (1024). New
	// names over it evict names that never changed since they were first
	// heard, or are refused (docs/decisions.md, "A flood of fake names").
	MaxMembers int
	// SupersededGrace is how long an incarnation of a member that
	// restarted with a new bootstrap time stays in the vector after it last
	// changed, before it is pruned; 0 means two PeriodicTimeouts (60 s by
	// default). See docs/engine.md, "Superseded incarnations".
	SupersededGrace time.Duration

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
	// called once from Run, before anything is sent, with RoutePrefix,
	// the group prefix /<Group>. nil means the engine's RegisterRoute of
	// /<Group> (and UnregisterRoute when Run returns). With an in-process
	// forwarder, pass a function that adds the route directly
	// (fw.AddRoute).
	//
	// Why /<Group> and not /<Group>/v=3, which the specification names
	// since 2026-07-17: NDNts registers /<Group> with Capture and without
	// ChildInherit, so a /<Group>/v=3 route anywhere on the forwarder
	// makes a FIB entry that longest-prefix match picks for every Sync
	// Interest and that leaves NDNts's faces out: NDNts then hears nobody
	// (docs/interop.md, TestRegistrationMismatch). A /<Group> route
	// covers /<Group>/v=3/<digest> too, and is inherited (ChildInherit,
	// NFD's default) by the /<Group>/v=3 entries of peers that follow the
	// specification (ndnd after PR #198), so it reaches both.
	Register func(prefix enc.Name) error

	// Observer receives events for metrics (Observer.SyncLatency). Its
	// callbacks run on the Run goroutine. The zero value observes nothing;
	// Stats, Status and Members need no Observer.
	Observer Observer

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

	// Data, if set, gives the member a publication layer: Publish of
	// payloads, stored in a Storage and served; other members'
	// publications fetched, delivered to OnMessage and subscriptions
	// (Subscribe); the boot, reservation and vector resumed from the
	// Storage after a restart. nil keeps the vector alone (Update
	// ranges). See DataConfig. Signer then also signs the publications'
	// Data, and Validator checks the fetched ones; both are called from
	// several goroutines.
	Data *DataConfig
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

// NodeName returns Node as an enc.Name, so that an application never
// decodes a core.Name itself. It is nil only for a name that does not
// parse, which the codec never lets into an Update.
func (u Update) NodeName() enc.Name {
	n, err := wire.CoreToName(u.Node)
	if err != nil {
		return nil
	}
	return n
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
	case c.MaxSyncInterestSize < 0:
		return fmt.Errorf("%w: negative MaxSyncInterestSize", ErrInvalidConfig)
	case c.MaxSyncInterestSize > wire.MaxPacketSize:
		return fmt.Errorf("%w: MaxSyncInterestSize %d is over %d", ErrInvalidConfig, c.MaxSyncInterestSize, wire.MaxPacketSize)
	case c.MaxMembers < 0:
		return fmt.Errorf("%w: negative MaxMembers", ErrInvalidConfig)
	case c.SupersededGrace < 0:
		return fmt.Errorf("%w: negative SupersededGrace", ErrInvalidConfig)
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
