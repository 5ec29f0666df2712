package svs

import (
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// DataConfig turns on a member's publication layer (Config.Data): payloads
// with Publish, stored, served and fetched; Messages to OnMessage and
// to subscriptions (Subscribe). docs/svs-driver.md, "Publications", tells
// how the pieces run; docs/decisions.md why they are so.
//
// Callbacks run on the member's delivery goroutine, one at a time, in
// order, never on Run's: they may call Publish, PublishSeq and Close.
// A slow callback holds back further deliveries (DeliveryQueue bounds what
// waits; beyond it the member stops fetching ahead), not sync. Run waits
// for a callback in progress when it returns.
type DataConfig struct {
	// Storage keeps the member's reservation, its own publications, what
	// it fetched and its vector (see Storage). nil means a MemoryStorage
	// with DefaultMemoryRetention for both classes. The Sync does not close
	// it.
	Storage Storage

	// Prefix is the shared layer's prefix: publications are fetched and
	// served as /<Prefix>/<node>/t=<boot>/seq=<n>/v=0/seg=<i>. nil means
	// the group prefix, which the member already registers (and the node
	// routes with the multicast strategy, to the LAN too). Set it to the
	// group of an ndnd SvsALO whose sync group is /<Prefix>/svs to read its
	// publications (docs/interop.md).
	Prefix enc.Name

	// RegisterOwn routes /<Prefix>/<node>, the member's own publications
	// in the shared layer, to it. It should route them to the member
	// alone: a route that inherits the group's routes (NFD's ChildInherit
	// on /<group>) sends every fetch of this member's publications to
	// every member on the forwarder and to the LAN, as Sync Interests go
	// (at 20 members on one forwarder, 19 Interests per fetch where one
	// does, each read by a member that discards it). With an in-process
	// forwarder: func(p enc.Name) error { return fwd.AddCaptureRoute(p,
	// face.FaceID(), 0, fw.OriginApp) }. nil means Config.Register (or
	// the engine's registration, which cannot set Capture).
	RegisterOwn func(prefix enc.Name) error

	// Fetch tunes the fetch scheduler (core.FetchConfig: window per
	// producer, cap on outstanding fetches, attempts, backoff, give-up).
	// Zero fields take core's defaults, except AttemptTimeout: it bounds
	// one whole attempt (every segment), 30 s by default; an unanswered
	// segment ends its attempt sooner. Rand is the Sync's.
	Fetch core.FetchConfig

	// SegmentLifetime is the Interest lifetime of one segment; a segment
	// not answered within it (or within 600 ms, if longer: ndnd's
	// multicast strategy drops a retransmission within 500 ms of the last
	// one it forwarded) is asked again, up to SegmentRetries times within
	// an attempt. 0 means 1 s.
	SegmentLifetime time.Duration
	// SegmentRetries is how many times one segment is asked again within
	// a round of tries. A segment that spends them starts a new round if
	// any segment of the publication arrived since its first ask; the
	// attempt fails after a round with none (or at the attempt's time
	// bound). 0 means 3; negative means none.
	SegmentRetries int
	// SegmentWindow is how many segments of one publication are asked for
	// at once. 0 means 16.
	SegmentWindow int

	// OnMessage receives every fetched publication of every other member,
	// each producer's in sequence order, at least once: a member restarted
	// with the same Storage fetches again what was not yet delivered.
	// Optional.
	OnMessage func(Message)
	// OnMissed is told of publications that will not be delivered (given
	// up by the fetch scheduler, or no longer held by their producer).
	// Optional.
	OnMissed func(Missed)
	// DeliveryQueue bounds the publications released but not yet handed
	// to OnMessage; while it is full no more numbers go to the fetch
	// scheduler (those already given, at most 4·Fetch.Window per producer
	// ahead of the release, still land). 0 means 256.
	DeliveryQueue int
	// ServeQueue bounds the Interests for publications waiting for the
	// server goroutine; beyond it they are dropped and counted. 0 means
	// 1024.
	ServeQueue int
}

// defaultAttemptTimeout is the default bound on one whole fetch attempt.
const defaultAttemptTimeout = 30 * time.Second

// DefaultMemoryRetention bounds each class (own, fetched) of the
// MemoryStorage a member makes when DataConfig.Storage is nil.
var DefaultMemoryRetention = Retention{MaxCount: 100_000, MaxBytes: 256 << 20}

// dataDefaults fills in the zero fields and checks the rest.
func (d *DataConfig) withDefaults(seed func() uint64) (DataConfig, error) {
	c := *d
	def := core.DefaultFetchConfig()
	f := &c.Fetch
	if f.Window == 0 {
		f.Window = def.Window
	}
	if f.MaxOutstanding == 0 {
		f.MaxOutstanding = def.MaxOutstanding
	}
	if f.AttemptTimeout == 0 {
		// The worker ends an attempt itself when one segment goes
		// unanswered SegmentRetries+1 times; this bounds a whole attempt,
		// which for a large publication on a lossy link takes longer than
		// one Interest lifetime.
		f.AttemptTimeout = defaultAttemptTimeout
	}
	if f.MaxAttempts == 0 {
		f.MaxAttempts = def.MaxAttempts
	}
	if f.GiveUpAfter == 0 {
		f.GiveUpAfter = def.GiveUpAfter
	}
	if f.BackoffBase == 0 {
		f.BackoffBase = def.BackoffBase
	}
	if f.BackoffMax == 0 {
		f.BackoffMax = max(def.BackoffMax, f.BackoffBase)
	}
	if f.StallAfter == 0 {
		f.StallAfter = def.StallAfter
	}
	if f.SupersededBacklog == 0 {
		f.SupersededBacklog = def.SupersededBacklog
	}
	if f.MaxProducers == 0 {
		f.MaxProducers = def.MaxProducers
	}
	if c.SegmentLifetime == 0 {
		c.SegmentLifetime = time.Second
	}
	if c.SegmentRetries == 0 {
		c.SegmentRetries = 3
	}
	if c.SegmentRetries < 0 {
		c.SegmentRetries = 0
	}
	if c.SegmentWindow == 0 {
		c.SegmentWindow = 16
	}
	if c.DeliveryQueue == 0 {
		c.DeliveryQueue = 256
	}
	if c.ServeQueue == 0 {
		c.ServeQueue = 1024
	}
	switch {
	case c.SegmentLifetime < 0:
		return c, fmt.Errorf("%w: negative Data.SegmentLifetime", ErrInvalidConfig)
	case c.SegmentWindow < 0:
		return c, fmt.Errorf("%w: negative Data.SegmentWindow", ErrInvalidConfig)
	case c.DeliveryQueue < 0:
		return c, fmt.Errorf("%w: negative Data.DeliveryQueue", ErrInvalidConfig)
	case c.ServeQueue < 0:
		return c, fmt.Errorf("%w: negative Data.ServeQueue", ErrInvalidConfig)
	}
	f.Rand = newRandFrom(seed)
	if err := f.Validate(); err != nil {
		return c, fmt.Errorf("%w: Data.Fetch: %w", ErrInvalidConfig, err)
	}
	return c, nil
}

// nameSize is the encoded size of a Name TLV of n.
func nameSize(n enc.Name) int {
	return n.EncodingLength() + 4
}
