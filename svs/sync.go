package svs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// maxPooledBuf is the largest receive buffer kept for reuse; a rare larger
// Sync Interest gets a buffer of its own that the garbage collector takes.
const maxPooledBuf = 9000

// Sync is one member of an SVS v3 sync group, running a core.Engine on an
// ndn.Engine. Create it with New and run it with Run on a goroutine of its
// own; Run owns the protocol engine, and every other method is safe for
// concurrent use from any goroutine.
type Sync struct {
	e      ndn.Engine // nil for a Sync on a bare face
	face   ndn.Face   // the face of e, or the bare face of NewOnFace
	codec  *wire.Codec
	prefix enc.Name // /<group>/v=3
	route  enc.Name // /<group>: what Register routes (see Config.Register)
	self   core.Name
	boot   uint64
	maxMem int
	log    *slog.Logger

	onUpdate   func(Update)
	onPersist  func(*core.Vector)
	observer   Observer
	maxVec     int // the engine's MaxVectorBytes, for Status
	register   func(enc.Name) error
	unregister bool

	// Owned by the Run goroutine.
	warnPartial, warnRefused, warnSelf warner
	eng                                *core.Engine
	origin                             time.Time
	nonces                             *rand.Rand
	alarm                              *alarm        // Run's one timer (alarm.go)
	armed                              time.Duration // the engine's deadline on the alarm; -1: none
	confirm                            confirmer
	out                                sendScratch
	in                                 core.Vector // each received vector is decoded into it: the engine keeps none
	pend                               pending     // Sync Interests waiting for their Validator (sync_pending.go)
	warnOlderSelf                      warner

	inbox chan []byte   // raw Sync Interests, handler → Run
	free  chan []byte   // spent buffers, Run → handler
	reqs  chan *request // Publish and SetSeq → Run
	pool  sync.Pool     // of *request; per Sync, as a channel belongs to its synctest bubble
	up    chan struct{} // face came up → Run announces

	faceDown atomic.Bool // between the face's OnDown and OnUp (face_state.go)

	// dataFramesKept: the bare face's Data frames may be kept uncopied
	// (fw.Face.DataFramesKept). Set by openFace, before any frame.
	dataFramesKept bool

	mu      sync.Mutex // guards state and ran
	state   runState
	ran     bool
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when Run has returned, or by Close before Run

	snapshot atomic.Pointer[core.Vector] // the last persisted vector, read-only
	ctr      counters
	phase    atomic.Uint32 // the engine's core.Phase after the last event, for Status
	heard    lastHeard     // when each pair was last raised, for Members (observer.go)

	// data is the publication layer (Config.Data), nil without one
	// (data_layer.go).
	data *dataLayer

	// hook, if set (tests only), is called on the Run goroutine after each
	// received packet has been processed.
	hook func()
}

type runState uint8

const (
	stateNew runState = iota
	stateRunning
	stateDone // Run returned or Close was called
)

// request is a publication handed to Run. seq 0 means PublishSeq.
type request struct {
	seq   uint64
	reply chan result
}

type result struct {
	seq uint64
	err error
}

// sendScratch is reused by every send. The packet buffer itself is not:
// an ndn.Face may keep it after Send returns (ndnd's DummyFace does).
type sendScratch struct {
	interest ndn.EncodedInterest
	cfg      ndn.InterestConfig
	wire     [1]enc.Buffer
	name     enc.Name
	size     int // the last packet's size, to allocate the next one once
}

// expressIgnore is the Express callback of Sync Interests: no reply is
// expected ([Spec §4.3] Sync Interests are not acknowledged), and the
// timeout is no event.
func expressIgnore(ndn.ExpressCallbackArgs) {}

// New checks cfg and returns a member of cfg.Group on e. It sends and
// registers nothing: Run does. e must be started before Run; the Sync never
// stops it. New fails with an error wrapping ErrInvalidConfig (or the
// codec's or engine's error) on a bad configuration.
func New(e ndn.Engine, cfg Config) (*Sync, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: nil engine", ErrInvalidConfig)
	}
	s, err := newSync(cfg)
	if err != nil {
		return nil, err
	}
	s.e, s.face = e, e.Face()
	if s.register == nil {
		s.register, s.unregister = e.RegisterRoute, true
	}
	return s, nil
}

// NewOnFace checks cfg and returns a member of cfg.Group that runs on a
// bare face, with no ndn.Engine: Run opens the face, reads every frame it
// delivers (Interests, Data, Nacks, NDNLPv2 LpPackets) and keeps the Sync
// Interests of the group, sends its own with face.Send, and closes the face
// when it returns. The face must not be open yet, and must be the member's
// own: no other application may use it. The Sync owns the face from then
// on: Close before Run closes it too. cfg.Register is required (a bare
// face cannot send the forwarder's prefix-registration command), and
// should route the group to the face.
//
// On an in-process face of this module's forwarder (fw.Face), received
// Sync Interests go from the forwarding thread straight into the member's
// inbox: one goroutine hand-off per packet instead of three through an
// ndn.Engine, and no second parse.
func NewOnFace(face ndn.Face, cfg Config) (*Sync, error) {
	if face == nil {
		return nil, fmt.Errorf("%w: nil face", ErrInvalidConfig)
	}
	if cfg.Register == nil {
		return nil, fmt.Errorf("%w: NewOnFace needs Register: a bare face cannot register a prefix", ErrInvalidConfig)
	}
	s, err := newSync(cfg)
	if err != nil {
		return nil, err
	}
	s.face = face
	if ds, ok := face.(dataSender); ok && s.data != nil {
		s.data.server.sendData = ds.SendData // before the face is open: read by dataFrame
		s.data.server.inline = neverWaits(s.data.store)
	}
	return s, nil
}

// newSync builds what New and NewOnFace share.
func newSync(cfg Config) (*Sync, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	codec, err := wire.NewCodec(cfg.Group, cfg.Signer, wire.Options{
		Validator:  cfg.Validator,
		MaxEntries: cfg.MaxEntries,
		Lifetime:   wire.DefaultLifetime,
	})
	if err != nil {
		return nil, fmt.Errorf("svs: %w", err)
	}
	r := cfg.Rand
	if r == nil {
		r = newRand()
	}
	// Nonces come from a generator of their own, seeded from Rand before
	// the engine takes Rand over.
	nonces := rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
	// The publication layer resumes the boot and vector kept in its
	// Storage, so it comes before the engine.
	var data *dataLayer
	if cfg.Data != nil {
		if data, err = prepareData(&cfg, r.Uint64); err != nil {
			return nil, err
		}
	}

	origin := time.Now()
	boot := cfg.Boot
	if boot == 0 {
		boot = uint64(origin.Unix())
	}
	ccfg := core.DefaultConfig()
	ccfg.Self = wire.NameToCore(cfg.Node)
	ccfg.Boot = boot
	if cfg.PeriodicTimeout > 0 {
		ccfg.PeriodicTimeout = cfg.PeriodicTimeout
	}
	if cfg.SuppressionPeriod > 0 {
		ccfg.SuppressionPeriod = cfg.SuppressionPeriod
	}
	ccfg.SupersededGrace = 2 * ccfg.PeriodicTimeout
	if cfg.SupersededGrace > 0 {
		ccfg.SupersededGrace = cfg.SupersededGrace
	}
	if cfg.MaxMembers > 0 {
		ccfg.MaxMembers = cfg.MaxMembers
	}
	room, err := vectorRoom(codec, cfg.MaxSyncInterestSize)
	if err != nil {
		return nil, err
	}
	// The codec also refuses to encode more than MaxEntries pairs. A pair
	// takes at least 8 bytes (a SeqNoEntry with one-byte integers), so a
	// vector of at most 8·MaxEntries bytes never has more.
	maxEntries := cfg.MaxEntries
	if maxEntries == 0 {
		maxEntries = wire.DefaultMaxEntries
	}
	ccfg.MaxVectorBytes = min(room, 8*maxEntries)
	if ccfg.MaxVectorBytes < core.MinVectorBytes {
		return nil, fmt.Errorf("%w: MaxEntries %d is under %d", ErrInvalidConfig, maxEntries, core.MinVectorBytes/8)
	}
	ccfg.Rand = r
	ccfg.InitialState = cfg.InitialState
	eng, err := core.New(ccfg, 0)
	if err != nil {
		return nil, fmt.Errorf("svs: %w", err)
	}

	inbox := cfg.InboxSize
	if inbox == 0 {
		inbox = DefaultInboxSize
	}
	s := &Sync{
		codec:     codec,
		prefix:    codec.SyncPrefix(),
		route:     codec.Group(),
		self:      ccfg.Self,
		boot:      boot,
		maxMem:    ccfg.MaxMembers,
		log:       cfg.Logger,
		onUpdate:  cfg.OnUpdate,
		onPersist: cfg.OnPersist,
		observer:  cfg.Observer,
		maxVec:    ccfg.MaxVectorBytes,
		register:  cfg.Register,
		eng:       eng,
		origin:    origin,
		nonces:    nonces,
		alarm:     newAlarm(),
		armed:     -1,
		inbox:     make(chan []byte, inbox),
		free:      make(chan []byte, inbox),
		reqs:      make(chan *request),
		up:        make(chan struct{}, 1),
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
		data:      data,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if data != nil {
		s.buildData()
	}
	s.snapshot.Store(eng.State())
	s.ctr.setEngine(eng.Stats())

	o := &s.out
	o.cfg = ndn.InterestConfig{Lifetime: optional.Some(wire.DefaultLifetime)}
	o.interest.Config = &o.cfg
	o.name = make(enc.Name, len(s.prefix), len(s.prefix)+1)
	copy(o.name, s.prefix)
	return s, nil
}

// vectorRoom returns the largest StateVector TLV that keeps a Sync
// Interest of codec within maxSize bytes (0: DefaultMaxSyncInterestSize).
// It measures the Interest around an empty vector, then allows for the
// four length fields around the vector (Interest, ApplicationParameters,
// Data, Content) growing from one byte to three, and for a signature
// longer than the one just made (ECDSA's varies by a few bytes).
func vectorRoom(codec *wire.Codec, maxSize int) (int, error) {
	if maxSize == 0 {
		maxSize = DefaultMaxSyncInterestSize
	}
	empty, err := codec.EncodeSyncInterest(&core.Vector{}, 0)
	if err != nil {
		return 0, fmt.Errorf("svs: %w", err)
	}
	const emptyVector = 2 // c9 00
	const lengthGrowth, signatureSlack = 4 * 2, 16
	room := maxSize - (len(empty) - emptyVector) - lengthGrowth - signatureSlack
	if room < minSyncInterestRoom {
		return 0, fmt.Errorf("%w: MaxSyncInterestSize %d leaves %d bytes for the state vector, under %d", ErrInvalidConfig, maxSize, room, minSyncInterestRoom)
	}
	return room, nil
}

// SyncPrefix returns /<group>/v=3: the prefix Sync Interests are sent
// under ([Spec §2]), and the one the Interest handler is attached to. The
// result is a copy. What is registered is RoutePrefix.
func (s *Sync) SyncPrefix() enc.Name { return s.prefix.Clone() }

// RoutePrefix returns /<group>: the prefix Run registers (or hands to
// Config.Register) to receive Sync Interests; see Config.Register for why
// it is not SyncPrefix. The result is a copy.
func (s *Sync) RoutePrefix() enc.Name { return s.route.Clone() }

// Node returns this member's node name as a core.Name.
func (s *Sync) Node() core.Name { return s.self }

// Boot returns this member's bootstrap time (seconds since the Unix epoch).
func (s *Sync) Boot() uint64 { return s.boot }

// State returns a copy of the member's current state vector.
func (s *Sync) State() *core.Vector { return s.snapshot.Load().Clone() }

// Seq returns this member's own latest sequence number (0 before the first
// publication).
func (s *Sync) Seq() uint64 { return s.snapshot.Load().Get(s.self, s.boot) }

// Stats returns the member's counters.
func (s *Sync) Stats() Stats { return s.ctr.snapshot() }

// Done is closed once Run has returned (or at Close if Run never ran).
func (s *Sync) Done() <-chan struct{} { return s.done }

// Close stops the member: Run returns nil soon after. Close does not wait
// for that (it may be called from a callback); wait on Done. It is safe to
// call more than once and always returns nil.
func (s *Sync) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateNew:
		s.state = stateDone
		close(s.closing)
		close(s.done)
		if s.e == nil {
			_ = s.face.Close() // NewOnFace gave the face to the Sync
		}
		if s.data != nil {
			// No Run will close the subscriptions. (Their locks never
			// wait for s.mu.)
			for _, sub := range s.data.subs.snapshot() {
				sub.Close()
			}
		}
	case stateRunning:
		s.state = stateDone
		close(s.closing)
	}
	return nil
}

// PublishSeq raises this member's sequence number by one and returns it; the
// Sync Interest carrying it is expressed at once, right after PublishSeq is
// answered (so it may not have left when PublishSeq returns; a failure to send
// is counted in Stats.SendErrors, not returned). While the face is down
// (after its OnDown, before its next OnUp) it returns ErrFaceDown.
// It hands the request to the Run goroutine and waits for it: before Run
// starts it blocks until Run does, ctx ends (ctx's error) or the Sync is
// closed (ErrClosed). Once Run has taken the request the publication
// happens and PublishSeq returns its result whatever ctx does. Must not be
// called from OnUpdate or OnPersist. With Config.Data it is Publish of an
// empty payload.
func (s *Sync) PublishSeq(ctx context.Context) (uint64, error) {
	if s.data != nil {
		p, err := s.Publish(ctx, nil)
		return p.Seq, err
	}
	return s.request(ctx, 0)
}

// SetSeq raises this member's sequence number to seq (for applications
// that number their own publications) and sends a Sync Interest at once.
// seq must be above Seq, or the error wraps core.ErrSeqNotIncreasing.
// Otherwise as PublishSeq.
func (s *Sync) SetSeq(ctx context.Context, seq uint64) error {
	if seq == 0 {
		return fmt.Errorf("svs: %w: 0", core.ErrSeqNotIncreasing)
	}
	if s.data != nil {
		return ErrDataOwnsSeq
	}
	_, err := s.request(ctx, seq)
	return err
}

func (s *Sync) request(ctx context.Context, seq uint64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r, _ := s.pool.Get().(*request)
	if r == nil {
		r = &request{reply: make(chan result, 1)}
	}
	r.seq = seq
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		s.pool.Put(r)
		return 0, ctx.Err()
	case <-s.closing:
		s.pool.Put(r)
		return 0, ErrClosed
	case <-s.done:
		s.pool.Put(r)
		return 0, ErrClosed
	}
	res := <-r.reply
	s.pool.Put(r)
	return res.seq, res.err
}

// Run runs the member until ctx ends (it returns ctx's error) or Close is
// called (it returns nil). It attaches the Interest handler on SyncPrefix,
// calls Config.Register, announces the member's state vector, and then owns
// the protocol engine: one goroutine, one select over received Sync
// Interests, publication requests, one timer set to the next of its
// deadlines, and ctx. OnUpdate and OnPersist run on this goroutine.
// Run can be called once; a second call returns ErrRunning, a call after
// Close ErrClosed. On return the handler is detached (and, with the default
// Register, the route unregistered).
func (s *Sync) Run(ctx context.Context) (err error) {
	s.mu.Lock()
	switch {
	case s.ran:
		s.mu.Unlock()
		return ErrRunning
	case s.state == stateDone:
		s.mu.Unlock()
		return ErrClosed
	}
	s.state, s.ran = stateRunning, true
	s.mu.Unlock()
	defer close(s.done)
	defer s.Close() // later Publish calls fail fast with ErrClosed

	if s.e != nil {
		if err := s.e.AttachHandler(s.prefix, s.onInterest); err != nil {
			return fmt.Errorf("svs: attach handler on %s: %w", s.prefix, err)
		}
		defer func() { _ = s.e.DetachHandler(s.prefix) }()
	} else {
		if err := s.openFace(); err != nil {
			_ = s.face.Close()
			return err
		}
		defer func() { _ = s.face.Close() }()
	}
	if err := s.register(s.route.Clone()); err != nil {
		return fmt.Errorf("svs: register %s: %w", s.route, err)
	}
	if s.unregister {
		defer func() {
			if s.e.IsRunning() {
				_ = s.e.UnregisterRoute(s.route.Clone())
			}
		}()
	}
	defer s.watchFace()()

	defer s.alarm.stop()
	if s.data != nil {
		stop, err := s.runData(ctx)
		defer stop()
		if err != nil {
			return err
		}
	}
	// Announce at once, so that the group learns about a new or restarted
	// member (and it about the group) within a round trip; and again,
	// twice at most, while nothing shows that the group heard it.
	s.handle(s.eng.Announce(s.now()), nil, result{}, SentAnnounce)
	s.startConfirm()

	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closing:
			return nil
		case pkt := <-s.inbox:
			s.receive(pkt)
			if cap(pkt) <= maxPooledBuf {
				select {
				case s.free <- pkt:
				default:
				}
			}
			if s.hook != nil {
				s.hook()
			}
		case r := <-s.reqs:
			s.publish(r)
		case <-s.alarm.c():
			s.onAlarm()
		case <-s.up:
			s.faceUp()
			s.startConfirm()
		case <-s.pendingWake():
			s.recheck()
		case <-s.dataWake():
			s.onDataEvents()
		case <-s.workerWake():
			s.data.worker.events()
			s.onDataEvents()
		case r := <-s.seqReqs():
			s.assignSeq(r)
		case r := <-s.commitReqs():
			s.commitSeq(r)
		}
	}
}

func (s *Sync) now() time.Duration { return time.Since(s.origin) }

// onInterest is the Interest handler on SyncPrefix. It runs on the ndn
// engine's goroutine and never blocks: it copies the packet into a spare
// buffer (the engine may reuse its own) and hands it to Run, or drops it
// when the inbox is full. Decoding is Run's job.
func (s *Sync) onInterest(args ndn.InterestHandlerArgs) {
	s.enqueue(args.RawInterest)
}

// frameReceiver is a face that can hand frames over on the sender's
// goroutine, with no queue of its own (fw.Face).
type frameReceiver interface {
	OnFrame(func(frame []byte))
}

// openFace sets the callbacks of a bare face and opens it.
func (s *Sync) openFace() error {
	if s.face.IsRunning() {
		return fmt.Errorf("svs: face %s is already open", s.face)
	}
	if fr, ok := s.face.(frameReceiver); ok {
		fr.OnFrame(s.onFrame)
		if k, ok := s.face.(interface{ DataFramesKept() bool }); ok {
			s.dataFramesKept = k.DataFramesKept()
		}
	} else {
		s.face.OnPacket(s.onFrame)
	}
	s.face.OnError(func(err error) {
		s.log.Warn("svs: face failed", "face", s.face.String(), "err", err)
	})
	if err := s.face.Open(); err != nil {
		return fmt.Errorf("svs: open face %s: %w", s.face, err)
	}
	return nil
}

// onFrame receives every frame of a bare face. It never blocks: it copies
// a Sync Interest of the group into a spare buffer and hands it to Run,
// gives what the publication layer serves or fetches to it (dataFrame),
// and drops the rest.
func (s *Sync) onFrame(frame []byte) {
	intr, ok, err := s.codec.SyncInterestOf(frame)
	switch {
	case err != nil:
		// Counted, not logged: this may run on a forwarding thread, which
		// a peer sending garbage must not keep busy writing logs.
		s.ctr.received.Add(1)
		s.ctr.malformed.Add(1)
	case !ok:
		if s.data != nil && s.dataFrame(frame) {
			return
		}
		s.ctr.ignored.Add(1)
	default:
		s.enqueue(enc.Wire{intr})
	}
}

// enqueue copies a received Sync Interest into a spare buffer and hands it
// to Run, or drops it when the inbox is full.
func (s *Sync) enqueue(segs enc.Wire) {
	n := 0
	for _, seg := range segs {
		n += len(seg)
	}
	if n > wire.MaxPacketSize {
		s.ctr.inboxDropped.Add(1)
		return
	}
	var buf []byte
	select {
	case buf = <-s.free:
	default:
	}
	if cap(buf) < n {
		buf = make([]byte, 0, max(n, 512))
	}
	buf = buf[:0]
	for _, seg := range segs {
		buf = append(buf, seg...)
	}
	// Counted before the hand-off, so that Run, which may decode it at
	// once, never counts it malformed or invalid before it is received:
	// Stats keeps Received = Malformed + Invalid + Engine.Received + queued.
	s.ctr.received.Add(1)
	select {
	case s.inbox <- buf:
	default:
		s.ctr.received.Add(^uint64(0))
		s.ctr.inboxDropped.Add(1)
		select {
		case s.free <- buf:
		default:
		}
	}
}

// receive decodes one Sync Interest and feeds its vector to the engine.
// Bad packets change nothing but a counter.
func (s *Sync) receive(pkt []byte) {
	sd, err := s.codec.ParseSyncInterestInto(pkt, &s.in)
	if err != nil {
		if pe, ok := isPending(err); ok {
			s.hold(pkt, pe)
			return
		}
		if errors.Is(err, wire.ErrValidation) {
			s.ctr.invalid.Add(1)
		} else {
			s.ctr.malformed.Add(1)
		}
		s.log.Debug("svs: dropped Sync Interest", "err", err)
		return
	}
	t := time.Now()
	rd := s.eng.Receive(t.Sub(s.origin), t.Unix(), sd.Vector)
	if len(rd.Updates) > 0 {
		s.observeNews(pkt, t, rd.Updates)
	}
	// Receive never asks to send ([Spec §4.5]: an outdated vector arms the
	// suppression timer, and the answer, if any, goes at Tick).
	s.handle(rd, nil, result{}, SentPeriodic)
}

func (s *Sync) publish(r *request) {
	if s.refuseDown(r) {
		return
	}
	var res result
	var rd core.Ready
	if r.seq == 0 {
		res.seq, rd, res.err = s.eng.Publish(s.now())
	} else {
		res.seq = r.seq
		rd, res.err = s.eng.SetSeq(s.now(), r.seq)
	}
	if res.err != nil {
		res.err = fmt.Errorf("svs: %w", res.err)
	}
	s.handle(rd, r, res, SentPublication)
}

// handle carries out a Ready: deliver updates, persist, re-arm the timer,
// answer the publication request r (if any) with res, and send, last; a
// send is counted under why.
// Sending last matters for latency: Express hands the packet to the
// forwarder's goroutine, which then runs as soon as this goroutine parks,
// before the woken publisher and after all the bookkeeping.
func (s *Sync) handle(rd core.Ready, r *request, res result, why SendReason) {
	s.carryOut(rd, r, res, nil, why)
}

// carryOut is handle with one more way to answer: reply, if not nil, is
// called where r would be answered.
//
// Updates go to the application before the vector is persisted: a member
// killed between the two resumes from the older vector and is told again
// (at least once), instead of resuming knowing sequence numbers its
// application never heard of.
func (s *Sync) carryOut(rd core.Ready, r *request, res result, reply func(), why SendReason) {
	if rd.Persist != nil {
		s.snapshot.Store(rd.Persist)
	}
	if len(rd.Updates) > 0 {
		if s.onUpdate != nil {
			for _, u := range rd.Updates {
				s.onUpdate(Update(u))
			}
		}
		s.ctr.updates.Add(uint64(len(rd.Updates)))
		if s.data != nil {
			s.dataUpdates(rd.Updates)
		}
	}
	if rd.Persist != nil {
		if s.onPersist != nil {
			s.onPersist(rd.Persist)
		}
		if s.data != nil {
			s.data.persist.saveVector(rd.Persist)
		}
	}
	// Nearly every received vector moves the deadline later (the
	// periodic timer restarts). A later deadline is left to the armed
	// timer: it fires early, Tick does nothing before the deadline, and
	// the timer is re-armed then, once, instead of at every packet.
	if s.armed < 0 || rd.Deadline < s.armed {
		s.armed = rd.Deadline
		s.alarm.want(s.origin.Add(rd.Deadline))
	}
	st := s.eng.Stats()
	s.ctr.setEngine(st)
	s.phase.Store(uint32(s.eng.Phase()))
	s.warn(rd, st)
	if r != nil {
		r.reply <- res
	}
	if reply != nil {
		reply()
	}
	if rd.Send != nil {
		s.send(rd.Send, why)
	}
}

// send encodes v into a Sync Interest and expresses it with a callback that
// ignores the result. It allocates the packet buffer only (see sendScratch).
func (s *Sync) send(v *core.Vector, why SendReason) {
	o := &s.out
	buf := make([]byte, 0, max(o.size, 256))
	buf, err := s.codec.AppendSyncInterest(buf, v, s.nonces.Uint32())
	if err != nil {
		s.ctr.sendErrors.Add(1)
		s.log.Warn("svs: cannot encode Sync Interest", "err", err)
		return
	}
	// After the codec read the clock: a SignatureTime later than this is
	// surely ahead of it.
	nowMs := time.Now().UnixMilli()
	o.size = len(buf)
	if s.e == nil {
		if err := s.face.Send(enc.Wire{buf}); err != nil {
			s.ctr.sendErrors.Add(1)
			s.log.Warn("svs: cannot send Sync Interest", "err", err)
			return
		}
		s.ctr.sent.Add(1)
		s.observeSent(buf, why, nowMs)
		return
	}
	digest, ok := wire.ParamsDigest(buf)
	if !ok { // cannot happen: the codec wrote it
		s.ctr.sendErrors.Add(1)
		s.log.Warn("svs: encoded Sync Interest has no parameters digest")
		return
	}
	o.name = append(o.name[:len(s.prefix)], enc.Component{Typ: enc.TypeParametersSha256DigestComponent, Val: digest})
	o.wire[0] = buf
	o.interest.Wire = o.wire[:]
	o.interest.FinalName = o.name
	if err := s.e.Express(&o.interest, expressIgnore); err != nil {
		s.ctr.sendErrors.Add(1)
		s.log.Warn("svs: cannot send Sync Interest", "err", err)
		return
	}
	s.ctr.sent.Add(1)
	s.observeSent(buf, why, nowMs)
}

// warner rate-limits one kind of warning: at most one per WarnInterval,
// with the count of what happened since the last one.
type warner struct {
	last  time.Time
	count uint64 // engine counter at the last warning
}

// due reports whether a warning is due now for a counter at n, and the
// increase since the last warning; it records the warning if so.
func (w *warner) due(now time.Time, n uint64) (uint64, bool) {
	if n == w.count || (!w.last.IsZero() && now.Sub(w.last) < WarnInterval) {
		return 0, false
	}
	d := n - w.count
	w.last, w.count = now, n
	return d, true
}

// warn logs, rate-limited, what the engine counts but a quiet log would
// hide: partial vectors (the group outgrew one packet), refused or evicted
// new members (a flood of names, or a group over MaxMembers), and a newer
// incarnation of this member's own name.
func (s *Sync) warn(rd core.Ready, st core.Stats) {
	if rd.Omitted == 0 && st.RefusedMembers == s.warnRefused.count && st.NewerSelf == s.warnSelf.count &&
		st.OlderSelfRaised == s.warnOlderSelf.count {
		return
	}
	now := time.Now()
	if d, ok := s.warnPartial.due(now, st.Partial); ok && rd.Omitted > 0 {
		s.log.Warn("svs: state vector over MaxSyncInterestSize: sent part of it",
			"pairs_sent", rd.Send.Len(), "pairs_omitted", rd.Omitted, "partial_sync_interests", d)
	}
	if d, ok := s.warnRefused.due(now, st.RefusedMembers); ok {
		s.log.Warn("svs: new members refused (admission rate or MaxMembers): a flood of names, or a group too large",
			"refused", d, "evicted_total", st.EvictedMembers, "members_max", s.maxMembers())
	}
	if d, ok := s.warnSelf.due(now, st.NewerSelf); ok {
		node, _ := wire.CoreToName(s.self)
		s.log.Error("svs: a newer incarnation of this member's name is in the group: another process with the same name, or a forgery; members will ignore this one once it stops publishing",
			"node", node, "boot", s.boot, "pairs", d)
	}
	// One raise of an older incarnation can be late news of this node's
	// own last run; a second one is a live process.
	if st.OlderSelfRaised >= 2 {
		if d, ok := s.warnOlderSelf.due(now, st.OlderSelfRaised); ok {
			node, _ := wire.CoreToName(s.self)
			s.log.Error("svs: an older incarnation of this member's name is still publishing: another process with the same name, or a forgery",
				"node", node, "boot", s.boot, "raises", d)
		}
	}
}

func (s *Sync) maxMembers() int { return s.maxMem }
