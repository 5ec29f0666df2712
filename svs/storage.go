package svs

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// Storage is what a member keeps across restarts: its bootstrap time and a
// reservation of sequence numbers, its own publications, the publications
// it fetched from others, and its last state vector. The library declares
// it; MemoryStorage keeps it in memory, svs/boltstore on disk, and
// svs/storagetest is the conformance suite every implementation passes.
// The shape follows etcd raft's Storage: a small interface the protocol
// side reads and writes, the durable details left to the implementation.
// See docs/storage.md.
//
// # Durability
//
// Every write (Reserve, Release, PutOwn, PutFetched, SaveVector, Prune) is durable
// when it returns nil: a crash of the process (SIGKILL) or of the machine
// afterwards loses none of it. A write that returns an error changed
// nothing (a batch is applied in whole or not at all), and nothing
// committed earlier is lost by it, a full disk included.
//
// # Threading
//
// All methods are safe for concurrent use. Writes block until their data
// is on disk (milliseconds; more on a slow or busy disk), so they must
// never be called from the goroutine that runs Sync.Run or from a
// forwarder's or engine's packet goroutine: a member calls them from the
// goroutine of its Publish caller (which waits for durability anyway) and
// from a persister goroutine of its own (vector saves, reservations ahead
// of need, periodic Prune). Implementations group concurrent writes into
// one commit, so N publishers waiting at once cost about one disk flush,
// not N. Reads never wait for a flush in the provided implementations,
// but may wait briefly for a lock; serve Interests from them on a
// goroutine that may block for a moment.
//
// The interface is synchronous on purpose: the return of a write is the
// durability point a Publish needs to report, errors come back to the
// caller that caused them, and the group commit lives in the one place
// that sees every writer (the implementation). An asynchronous interface
// (futures or callbacks) would move the same queue into every caller and
// every implementation.
//
// # Ownership
//
// A publication's segments are immutable once written, as etcd raft's
// entries are: a write may keep the segment slices it is given, so the
// caller must not modify them afterwards, and a read may return the
// store's own, which the caller must not modify. A memory store that
// copied on every read copied a whole 64 KiB publication for each segment
// Interest it answered: a fifth of the CPU at 20 members
// (ndnsvs-bench pub, 64 KiB). Other values (State, the vector) are
// copied.
//
// # Errors
//
// Errors wrap the sentinels below; after Close every method returns
// ErrStorageClosed (Close itself returns nil a second time). An
// implementation's own failures (I/O, a corrupt or locked file) wrap its
// own sentinels.
type Storage interface {
	// State returns what earlier runs committed: the bootstrap time and
	// reservation of the last Reserve and the last saved vector. A new
	// store returns the zero State.
	State() (State, error)

	// Reserve records that sequence numbers up to seq of incarnation boot
	// may be handed out. A member resuming after a crash continues above
	// the mark with the same boot, so it never reuses a (boot, seq)
	// without a write per publication (docs/storage.md, "Reservation").
	// (boot, seq) must not be below the current (State.Boot,
	// State.Reserved), compared boot first: ErrReservationBackwards. A
	// larger boot starts a new incarnation. Reserving what is already
	// reserved is a no-op.
	Reserve(boot, seq uint64) error

	// Release lowers the reservation of incarnation boot to seq, or to
	// the highest own publication of boot stored, whichever is higher: a
	// member that stops cleanly says that no number above what it
	// announced was handed out, so that a restart on the same store
	// continues right after it, with no gap (docs/storage.md,
	// "Reservation"). Checking the stored publications and lowering the
	// mark are one step, so that a PutOwn racing with it is either
	// covered by what stays reserved or refused (ErrNotReserved). If boot
	// is not State.Boot, or seq is not below State.Reserved, nothing
	// changes. The next Reserve goes on from the lowered mark.
	Release(boot, seq uint64) error

	// PutOwn stores publications of this member, keyed by (Boot, Seq);
	// Node is ignored. Each must be covered by the reservation ((Boot,
	// Seq) at most (State.Boot, State.Reserved)): ErrNotReserved.
	// Storing a (Boot, Seq) again with the same segments is a no-op (a
	// retry); with different ones it is ErrDuplicate, since a reused
	// sequence number is the one thing a member must never publish. The
	// batch is all or nothing.
	PutOwn(pubs ...Publication) error
	// Own returns the stored publication (boot, seq) of this member, or
	// ErrNotFound.
	Own(boot, seq uint64) (Publication, error)
	// OwnRange returns this member's stored publications of incarnation
	// boot with lo ≤ seq ≤ hi in order, skipping the ones not stored,
	// stopping before the total Size would pass maxBytes but returning at
	// least one if any is stored (as raft's Entries). maxBytes 0 means no
	// limit.
	OwnRange(boot, lo, hi uint64, maxBytes int) ([]Publication, error)

	// PutFetched stores publications of other members, keyed by (Node,
	// Boot, Seq). A key already stored keeps what it holds (the first
	// copy of a signed Data wins). The batch is all or nothing.
	PutFetched(pubs ...Publication) error
	// Fetched returns the stored publication (node, boot, seq) of another
	// member, or ErrNotFound.
	Fetched(node core.Name, boot, seq uint64) (Publication, error)
	// FetchedRange is OwnRange for another member's incarnation.
	FetchedRange(node core.Name, boot, lo, hi uint64, maxBytes int) ([]Publication, error)

	// SaveVector replaces the stored state vector (its encoding is the
	// caller's: wire.EncodeStateVector).
	SaveVector(v []byte) error

	// Prune applies the retention policy now. Writes apply it too, so Prune
	// only matters for MaxAge in a store that is not written to: a member
	// calls it from its persister every minute or so.
	Prune() error

	// Close releases the store. Writes in progress finish first. It returns
	// nil when called again.
	Close() error
}

// State is what a Storage holds besides publications.
type State struct {
	// Boot is the bootstrap time of the last reservation, 0 if none.
	Boot uint64
	// Reserved is the highest sequence number of Boot that may have been
	// handed out. A member resuming with Boot publishes from Reserved+1.
	Reserved uint64
	// Vector is the last vector given to SaveVector, nil if none.
	Vector []byte
}

// Publication is one publication as a Storage keeps it: the encoded,
// signed Data packets of its segments, the bytes served for its v3 name
// /<node>/<group>/t=<boot>/seq=<n> (and its segment names). Stored are
// the packets and not the payload so that a member serves its own and
// others' publications byte for byte as they were signed (one signature
// per publication, implicit digests that stay the same, and the only
// possible form for others' Data, which this member cannot sign); the
// application reads a payload back by decoding the segments
// (docs/storage.md, "What is stored").
type Publication struct {
	// Node is the publisher's name (core.Name form) for fetched
	// publications; empty for own ones.
	Node core.Name
	// Boot and Seq are the publisher's bootstrap time and sequence number
	// (Seq ≥ 1).
	Boot, Seq uint64
	// Segments are the encoded Data packets, in segment order; at least
	// one, none empty.
	Segments [][]byte
	// Stored is when the store wrote it, by its clock; set by the store,
	// ignored by Put. MaxAge counts from it.
	Stored time.Time
}

// Size is what a publication counts for Retention.MaxBytes: the bytes of
// its segments.
func (p Publication) Size() int {
	n := 0
	for _, s := range p.Segments {
		n += len(s)
	}
	return n
}

// Check reports why p cannot be stored, as an error wrapping
// ErrInvalidPublication, or nil. fetched says whether it is another
// member's (which needs a Node).
func (p Publication) Check(fetched bool) error {
	switch {
	case fetched && p.Node == "":
		return fmt.Errorf("%w: fetched publication without a node", ErrInvalidPublication)
	case p.Seq == 0:
		return fmt.Errorf("%w: sequence number 0", ErrInvalidPublication)
	case len(p.Segments) == 0:
		return fmt.Errorf("%w: no segments", ErrInvalidPublication)
	}
	for i, s := range p.Segments {
		if len(s) == 0 {
			return fmt.Errorf("%w: segment %d is empty", ErrInvalidPublication, i)
		}
	}
	return nil
}

// Retention bounds one class of stored publications (own or fetched). A
// publication goes when any bound is passed, oldest first (own ones by
// (boot, seq), fetched ones in the order they were stored); the newest
// stays even when it alone passes MaxCount or MaxBytes, so what a Publish
// just reported is always servable. Zero fields mean no bound.
type Retention struct {
	// MaxCount bounds how many publications are kept.
	MaxCount int
	// MaxAge is how long a publication is kept after it was stored.
	MaxAge time.Duration
	// MaxBytes bounds the sum of Publication.Size.
	MaxBytes int64
}

// Unbounded reports whether r keeps everything.
func (r Retention) Unbounded() bool { return r.MaxCount <= 0 && r.MaxAge <= 0 && r.MaxBytes <= 0 }

// Keep reports whether a class holding count publications of bytes bytes
// in all, the oldest stored at oldest, may keep that oldest one at now.
// It is the rule every implementation applies, oldest first, until it
// says yes; newest says whether the oldest is also the newest.
func (r Retention) Keep(count int, bytes int64, oldest, now time.Time, newest bool) bool {
	if r.MaxAge > 0 && now.Sub(oldest) > r.MaxAge {
		return false
	}
	if newest {
		return true
	}
	if r.MaxCount > 0 && count > r.MaxCount {
		return false
	}
	if r.MaxBytes > 0 && bytes > r.MaxBytes {
		return false
	}
	return true
}

// StorageConfig is what every Storage implementation is opened with.
type StorageConfig struct {
	// Own bounds this member's own publications, Fetched the ones of
	// others. Keep Own at least as long as peers may need to fetch
	// (a member serves only what it keeps).
	Own, Fetched Retention
	// Now is the clock of Publication.Stored and MaxAge; nil means
	// time.Now.
	Now func() time.Time
}

// Check reports a negative bound, as an error wrapping ErrInvalidConfig.
func (c StorageConfig) Check() error {
	for _, r := range []struct {
		name string
		r    Retention
	}{{"Own", c.Own}, {"Fetched", c.Fetched}} {
		if r.r.MaxCount < 0 || r.r.MaxAge < 0 || r.r.MaxBytes < 0 {
			return fmt.Errorf("%w: negative bound in %s retention", ErrInvalidConfig, r.name)
		}
	}
	return nil
}

// Storage errors.
var (
	// ErrStorageClosed: the store was closed.
	ErrStorageClosed = errors.New("svs: storage closed")
	// ErrNotFound: no such publication is stored (never was, or retention
	// removed it).
	ErrNotFound = errors.New("svs: publication not stored")
	// ErrReservationBackwards: a reservation below the current one.
	ErrReservationBackwards = errors.New("svs: reservation would go backwards")
	// ErrNotReserved: an own publication above the reservation.
	ErrNotReserved = errors.New("svs: sequence number not reserved")
	// ErrDuplicate: an own (boot, seq) stored again with other content.
	ErrDuplicate = errors.New("svs: sequence number already used")
	// ErrInvalidPublication: a publication that cannot be stored (see
	// Publication.Check).
	ErrInvalidPublication = errors.New("svs: invalid publication")
)

// CheckReserve reports whether moving a reservation from (curBoot, cur) to
// (boot, seq) is allowed (nil), a no-op (nil, same is true), or backwards.
func CheckReserve(curBoot, cur, boot, seq uint64) (same bool, err error) {
	switch {
	case boot == curBoot && seq == cur:
		return true, nil
	case boot < curBoot || (boot == curBoot && seq < cur):
		return false, fmt.Errorf("%w: (boot %d, seq %d) is below (boot %d, seq %d)",
			ErrReservationBackwards, boot, seq, curBoot, cur)
	}
	return false, nil
}

// Covered reports whether (boot, seq) is within the reservation (resBoot,
// reserved): an earlier incarnation, or this one up to the mark.
func Covered(resBoot, reserved, boot, seq uint64) bool {
	return boot < resBoot || (boot == resBoot && seq <= reserved)
}

// DefaultReserveStep is how many sequence numbers a member reserves at a
// time. Larger means fewer reservation writes and a larger gap of never
// published sequence numbers after a crash (peers asking for them find
// nothing); 1024 is one write per 1024 publications, a fifth of a second
// of publishing at 5,000/s.
const DefaultReserveStep = 1024

// ReserveAhead says when a member should extend its reservation and to
// what: with next the sequence number about to be handed out and mark the
// current reservation, it returns (mark', true) once next is within half a
// step of mark, so the write happens in the background well before
// Publish needs it, and (mark, false) otherwise. A step of 0 means
// DefaultReserveStep. A member whose next passes mark must wait for the
// write before handing next out.
func ReserveAhead(next, mark, step uint64) (uint64, bool) {
	if step == 0 {
		step = DefaultReserveStep
	}
	if next < mark && mark-next >= step/2 {
		return mark, false
	}
	base := max(next, mark)
	if base > math.MaxUint64-step {
		return math.MaxUint64, base != mark
	}
	return base + step, true
}

// NewBoot returns the bootstrap time for a new incarnation started at now,
// given the last bootstrap time this member used (0 if unknown), and how
// long to wait before using it. The boot is the next whole second after
// now (and after last), and the member waits until then: an incarnation
// started without any state at a later moment cannot get the same second,
// because it starts after this one claimed it (docs/storage.md,
// "Bootstrap time"). The wait is under a second unless last is ahead of
// the clock.
func NewBoot(last uint64, now time.Time) (boot uint64, wait time.Duration) {
	sec := now.Unix()
	if sec < 0 {
		sec = 0
	}
	boot = uint64(sec) + 1
	if last >= boot {
		boot = last + 1
		if last == math.MaxUint64 {
			boot = last // no later second exists; nothing better to give
		}
	}
	if boot > math.MaxInt64 {
		return boot, 0
	}
	return boot, time.Unix(int64(boot), 0).Sub(now)
}

func notReserved(boot, seq uint64, st State) error {
	return fmt.Errorf("%w: (boot %d, seq %d) is above the reservation (boot %d, seq %d)",
		ErrNotReserved, boot, seq, st.Boot, st.Reserved)
}

func duplicate(boot, seq uint64) error {
	return fmt.Errorf("%w: (boot %d, seq %d) is stored with other content", ErrDuplicate, boot, seq)
}
