package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// Errors of this package. Errors returned while the node is away wrap
// ErrDown.
var (
	// ErrDown: the face has no connection to the node right now (it is
	// reconnecting, or was never opened). Nothing was sent.
	ErrDown = errors.New("client: face down")
	// ErrClosed: the face was closed, or gave up reconnecting.
	ErrClosed = errors.New("client: face closed")
	// ErrGaveUp is handed to OnError when Config.MaxAttempts consecutive
	// reconnection attempts failed; the face is closed.
	ErrGaveUp = errors.New("client: gave up reconnecting")
	// ErrTransport: the transport URI cannot be used.
	ErrTransport = errors.New("client: bad transport")
	// ErrOpen: Open was called on a face that is open, or was closed.
	ErrOpen = errors.New("client: face already opened")
)

// State is where a Face is in its life. It only moves forward from
// StateIdle to StateClosed, cycling through Down, Connected and Up in
// between.
type State int32

const (
	// StateIdle: before Open.
	StateIdle State = iota
	// StateDown: no connection; the face is waiting to reconnect (or, in
	// Open with Config.WaitForNode, to connect for the first time). Send
	// returns ErrDown.
	StateDown
	// StateConnected: connected, the routes are being registered again;
	// Send works, OnUp has not been called yet.
	StateConnected
	// StateUp: connected and every route's registration was tried; OnUp
	// has been called for this connection.
	StateUp
	// StateClosed: Close was called (or the face gave up); final.
	StateClosed
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateDown:
		return "down"
	case StateConnected:
		return "connected"
	case StateUp:
		return "up"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// Config configures a Face. The zero value works: every zero field takes
// the default given with it.
type Config struct {
	// Transport is the node's URI: unix:///path/to/nfd.sock, or
	// tcp://host[:port] (tcp4://, tcp6://; the port defaults to 6363).
	// Empty means DefaultTransport().
	Transport string

	// MinBackoff is the wait before the first reconnection attempt after
	// the connection was lost; each failed attempt doubles it, up to
	// MaxBackoff. The actual wait is jittered into [d/2, d), so that the
	// clients of a restarted node do not all dial at once. Lower values
	// reconnect sooner after a quick restart at the cost of more dials
	// while the node is away. Defaults 10 ms and 2 s.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxAttempts is how many consecutive failed reconnection attempts
	// close the face (OnError then receives ErrGaveUp, which stops an
	// ndnd engine). 0 means never give up: an application outlives any
	// number of node restarts.
	MaxAttempts int
	// WaitForNode makes Open wait (with the same backoff) until the node
	// accepts a connection, instead of failing when the first dial does.
	// Open returns when the face is up or Close is called. Default false,
	// as ndnd's faces.
	WaitForNode bool

	// DialTimeout bounds one connection attempt. Default 1 s.
	DialTimeout time.Duration
	// WriteTimeout bounds one Send: a node that stops reading cannot block
	// the application for longer. A Send that times out closes the
	// connection (a partial frame cannot be taken back) and the face
	// reconnects. Default 2 s.
	WriteTimeout time.Duration
	// CommandTimeout bounds one management command (route registration):
	// the command Interest's lifetime, and how long its answer is awaited.
	// Default 1 s.
	CommandTimeout time.Duration
	// RegisterAttempts is how many times each route is tried at each
	// (re)connection before OnRegisterError is told (a node that has just
	// started may not answer management yet). Default 5.
	RegisterAttempts int

	// OnRegisterError is told when a route could not be registered after a
	// (re)connection. It is called on the face's own goroutine, with no
	// lock held, before OnUp; it must not block for long nor call Close's
	// waiters (Done). The route is kept and tried again at the next
	// connection. Optional.
	OnRegisterError func(prefix enc.Name, err error)
	// Logger receives connection changes (info) and registration failures
	// (warn). nil discards them.
	Logger *slog.Logger
	// Seed seeds the backoff jitter; 0 means a random seed.
	Seed uint64
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.MinBackoff, 10*time.Millisecond)
	def(&c.MaxBackoff, 2*time.Second)
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	def(&c.DialTimeout, time.Second)
	def(&c.WriteTimeout, 2*time.Second)
	def(&c.CommandTimeout, time.Second)
	if c.RegisterAttempts <= 0 {
		c.RegisterAttempts = 5
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
	return c
}

// Stats are a Face's counters since New.
type Stats struct {
	// Connects counts connections made (the first included).
	Connects uint64
	// Disconnects counts connections lost (not counting Close).
	Disconnects uint64
	// DialFailures counts failed connection attempts.
	DialFailures uint64
	// FramesIn counts frames handed to OnPacket; Dropped counts frames
	// from the node that were not Interest, Data or LpPacket, which no
	// ndnd engine can take.
	FramesIn, Dropped uint64
	// RegisterFailures counts routes whose registration failed after a
	// (re)connection (each reported to OnRegisterError).
	RegisterFailures uint64
}

// Face is an ndn.Face to a forwarder (a node, NFD, ndnd) over a unix or TCP
// stream socket that survives the forwarder: when the connection is lost it
// calls OnDown, reconnects with jittered exponential backoff, registers
// again every route given to Register, and calls OnUp. It never exits the
// process, never panics on what the node sends (frames are read with
// fw/link's StreamReader, which refuses impossible lengths and ends the
// connection, and the face reconnects), and never calls OnError for a lost
// connection (an ndnd engine would stop): only when it gives up
// (Config.MaxAttempts).
//
// Threading: every method is safe for concurrent use, except OnPacket and
// OnError, which must be called before Open (as ndnd's engine does).
// Frames are delivered to the OnPacket callback on the face's reader
// goroutine, one at a time, in order; the frame is valid only during the
// call. OnUp, OnDown and OnRegisterError run one at a time, in order, on
// the face's connection goroutine, with no lock held; they may call any
// method, but not wait on Done.
type Face struct {
	cfg Config
	ep  endpoint
	log *slog.Logger
	rng *rand.Rand // connection goroutine only (and Open's before it starts)

	onPkt func([]byte)
	onErr func(error)

	mu      sync.Mutex // guards the fields down to routes
	state   State
	cur     *conn // nil unless Connected or Up
	changed chan struct{}
	cbs     []callback
	nextCB  int
	routes  []route

	wmu      sync.Mutex // serialises writes to the connection
	closing  chan struct{}
	done     chan struct{}
	doneOnce sync.Once

	cmds cmdTable

	connects, disconnects, dialFailures atomic.Uint64
	framesIn, dropped, regFailures      atomic.Uint64
}

// conn is one connection to the node.
type conn struct {
	c    net.Conn
	gone chan struct{} // closed when its reader has returned
	err  error         // why the reader returned; read after gone
}

type callback struct {
	id   int
	up   bool
	call func()
}

// New returns a Face to the node at cfg.Transport (DefaultTransport() when
// empty). It does not connect: Open does. It fails with ErrTransport on a
// URI it cannot use.
func New(cfg Config) (*Face, error) {
	cfg = cfg.withDefaults()
	if cfg.Transport == "" {
		cfg.Transport = DefaultTransport()
	}
	ep, err := parseTransport(cfg.Transport)
	if err != nil {
		return nil, err
	}
	return &Face{
		cfg:     cfg,
		ep:      ep,
		log:     cfg.Logger.With("face", ep.String()),
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		changed: make(chan struct{}),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		cmds:    cmdTable{pending: map[uint64]*pendingCmd{}},
	}, nil
}

// String returns the face's log identifier, e.g. "client (unix:///run/nfd/nfd.sock)".
func (f *Face) String() string { return "client (" + f.ep.String() + ")" }

// IsRunning reports whether the face has a connection (StateConnected or
// StateUp): whether Send would try to send.
func (f *Face) IsRunning() bool {
	s := f.State()
	return s == StateConnected || s == StateUp
}

// IsLocal reports whether the node sees this face as local (a unix
// socket): management commands then go to /localhost/nfd, else to
// /localhop/nfd.
func (f *Face) IsLocal() bool { return f.ep.local }

// OnPacket sets the receiver of every frame from the node (Interest, Data
// or LpPacket). Call it before Open. The frame is valid only during the
// call; the callback runs on the reader goroutine and may block (which
// stops reading from the node).
func (f *Face) OnPacket(onPkt func(frame []byte)) { f.onPkt = onPkt }

// OnError sets the callback for the face's end: it is called once, with
// ErrGaveUp, if the face gives up reconnecting (Config.MaxAttempts), never
// for a connection that is lost and retried. Call it before Open.
func (f *Face) OnError(onError func(err error)) { f.onErr = onError }

// OnUp registers a callback called each time the face comes up: at Open
// and after each reconnection, once the routes were registered again. The
// returned function removes it. See the type comment for threading.
func (f *Face) OnUp(onUp func()) (cancel func()) { return f.addCallback(true, onUp) }

// OnDown registers a callback called each time a connection that was up
// is lost; not at Close. The returned function removes it.
func (f *Face) OnDown(onDown func()) (cancel func()) { return f.addCallback(false, onDown) }

func (f *Face) addCallback(up bool, fn func()) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextCB++
	id := f.nextCB
	f.cbs = append(f.cbs, callback{id: id, up: up, call: fn})
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, cb := range f.cbs {
			if cb.id == id {
				f.cbs = append(f.cbs[:i:i], f.cbs[i+1:]...)
				return
			}
		}
	}
}

// fire calls the OnUp (up) or OnDown callbacks, outside the lock.
func (f *Face) fire(up bool) {
	f.mu.Lock()
	var fns []func()
	for _, cb := range f.cbs {
		if cb.up == up {
			fns = append(fns, cb.call)
		}
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// State returns the face's current state. Safe for concurrent use.
func (f *Face) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// Changed returns a channel that is closed at the face's next state
// change: read State again then. Safe for concurrent use.
func (f *Face) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// WaitState waits until the face is in state s, ctx ends (its error) or
// the face is closed (ErrClosed, unless s is StateClosed).
func (f *Face) WaitState(ctx context.Context, s State) error {
	for {
		f.mu.Lock()
		st, ch := f.state, f.changed
		f.mu.Unlock()
		switch {
		case st == s:
			return nil
		case st == StateClosed:
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// setState changes the state under f.mu (held by the caller).
func (f *Face) setStateLocked(s State) {
	if f.state == s || f.state == StateClosed {
		return
	}
	f.state = s
	close(f.changed)
	f.changed = make(chan struct{})
}

// Stats returns the face's counters. Safe for concurrent use.
func (f *Face) Stats() Stats {
	return Stats{
		Connects:         f.connects.Load(),
		Disconnects:      f.disconnects.Load(),
		DialFailures:     f.dialFailures.Load(),
		FramesIn:         f.framesIn.Load(),
		Dropped:          f.dropped.Load(),
		RegisterFailures: f.regFailures.Load(),
	}
}

// Done is closed once the face is closed and its goroutines have returned.
func (f *Face) Done() <-chan struct{} { return f.done }

// Open is OpenContext with a background context.
func (f *Face) Open() error { return f.OpenContext(context.Background()) }

// OpenContext connects to the node and returns once the first connection
// was made and the routes given to Register before were tried: the face is
// then up and OnUp was called (unless that connection was lost at once; the
// face then reconnects on its own, as it does later). Without
// Config.WaitForNode a failed first dial fails Open (the face stays idle
// and may be opened again); with it, Open waits until the node accepts,
// ctx ends or Close is called. After a successful Open the face reconnects
// on its own until Close, or until ctx ends: ctx is the face's lifetime
// (cancelling it closes the face). OnPacket must have been set. It returns
// ErrOpen if the face was opened before.
func (f *Face) OpenContext(ctx context.Context) error {
	if f.onPkt == nil {
		return fmt.Errorf("client: %s: OnPacket not set before Open", f)
	}
	f.mu.Lock()
	switch f.state {
	case StateIdle:
	case StateClosed:
		f.mu.Unlock()
		return ErrClosed
	default:
		f.mu.Unlock()
		return ErrOpen
	}
	f.setStateLocked(StateDown)
	f.mu.Unlock()

	c, err := f.dial(ctx)
	for attempt := 0; err != nil; attempt++ {
		if f.cfg.WaitForNode && f.sleep(ctx, attempt) {
			c, err = f.dial(ctx)
			continue
		}
		// Not opened: back to idle, unless Close came meanwhile.
		f.mu.Lock()
		closed := f.state == StateClosed
		if !closed {
			f.setStateLocked(StateIdle)
		}
		f.mu.Unlock()
		if closed {
			f.finish()
			return ErrClosed
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("client: open %s: %w", f, err)
	}
	first := make(chan struct{})
	go f.run(ctx, c, first)
	<-first
	if f.State() == StateClosed {
		return ErrClosed
	}
	return nil
}

// finish closes Done once the face's goroutines (if any) have returned.
func (f *Face) finish() { f.doneOnce.Do(func() { close(f.done) }) }

// dial makes one connection attempt, bounded by DialTimeout, ctx and Close.
func (f *Face) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.DialTimeout)
	defer cancel()
	go func() {
		select {
		case <-f.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	var d net.Dialer
	c, err := d.DialContext(ctx, f.ep.network, f.ep.addr)
	if err != nil {
		f.dialFailures.Add(1)
		return nil, err
	}
	return c, nil
}

// sleep waits for the backoff of attempt n; false if the face closed or
// ctx ended meanwhile.
func (f *Face) sleep(ctx context.Context, n int) bool {
	t := time.NewTimer(backoff(n, f.cfg.MinBackoff, f.cfg.MaxBackoff, f.rng.Float64()))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-f.closing:
		return false
	case <-ctx.Done():
		return false
	}
}

// run is the connection goroutine: it owns connecting, registering,
// state changes and the OnUp/OnDown calls. c is Open's connection; first
// is closed once it is up (or the face closed).
func (f *Face) run(ctx context.Context, nc net.Conn, first chan struct{}) {
	var firstOnce sync.Once
	signalFirst := func() { firstOnce.Do(func() { close(first) }) }
	defer func() {
		f.shutdown()
		signalFirst()
		f.finish()
	}()
	for {
		c := f.attach(nc)
		if c == nil {
			_ = nc.Close()
			return // closed meanwhile
		}
		f.registerAll(c)
		wasUp := f.markUp(c)
		if wasUp {
			f.log.Info("client: up", "connects", f.connects.Load())
			f.fire(true)
		}
		signalFirst()

		select {
		case <-c.gone:
		case <-f.closing:
			return
		case <-ctx.Done():
			return
		}
		if !f.detach(c) {
			return // closed meanwhile
		}
		f.disconnects.Add(1)
		f.log.Info("client: down", "err", c.err)
		if wasUp {
			f.fire(false)
		}

		// Reconnect. A connection that was lost goes through the
		// backoff too, so that a node that accepts and at once drops
		// connections is not dialled in a busy loop.
		for attempt := 0; ; attempt++ {
			if f.cfg.MaxAttempts > 0 && attempt >= f.cfg.MaxAttempts {
				f.giveUp()
				return
			}
			if !f.sleep(ctx, attempt) {
				return
			}
			var err error
			if nc, err = f.dial(ctx); err == nil {
				break
			}
			f.log.Debug("client: reconnect failed", "attempt", attempt+1, "err", err)
		}
	}
}

// attach makes nc the current connection and starts its reader; nil if the
// face was closed.
func (f *Face) attach(nc net.Conn) *conn {
	c := &conn{c: nc, gone: make(chan struct{})}
	f.mu.Lock()
	if f.state == StateClosed {
		f.mu.Unlock()
		return nil
	}
	f.cur = c
	f.setStateLocked(StateConnected)
	f.mu.Unlock()
	f.connects.Add(1)
	go f.read(c)
	return c
}

// markUp moves to StateUp if c is still the current connection.
func (f *Face) markUp(c *conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur != c || f.state != StateConnected {
		return false
	}
	select {
	case <-c.gone:
		return false
	default:
	}
	f.setStateLocked(StateUp)
	return true
}

// detach drops the lost connection c; false if the face was closed.
func (f *Face) detach(c *conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == StateClosed {
		return false
	}
	if f.cur == c {
		f.cur = nil
	}
	f.setStateLocked(StateDown)
	return true
}

// giveUp closes the face after MaxAttempts failed reconnections and tells
// OnError.
func (f *Face) giveUp() {
	f.log.Warn("client: gave up reconnecting", "attempts", f.cfg.MaxAttempts)
	f.mu.Lock()
	if f.state == StateClosed {
		f.mu.Unlock()
		return
	}
	f.setStateLocked(StateClosed)
	close(f.closing)
	f.mu.Unlock()
	if f.onErr != nil {
		f.onErr(fmt.Errorf("%w after %d attempts", ErrGaveUp, f.cfg.MaxAttempts))
	}
}

// shutdown closes the current connection and waits for its reader.
func (f *Face) shutdown() {
	f.mu.Lock()
	c := f.cur
	f.cur = nil
	if f.state != StateClosed { // ctx ended: close as Close does
		f.setStateLocked(StateClosed)
		close(f.closing)
	}
	f.mu.Unlock()
	if c != nil {
		_ = c.c.Close()
		<-c.gone
	}
}

// read reads frames from c until it fails, hands them to OnPacket (or to a
// waiting management command), and closes c.
func (f *Face) read(c *conn) {
	defer close(c.gone)
	defer c.c.Close()
	r := link.NewStreamReader(c.c, link.MaxPacketSize)
	for {
		frame, err := r.Next()
		if err != nil {
			c.err = err
			return
		}
		switch frame[0] { // a one-byte TLV-TYPE: FrameSize checked the header
		case link.TypeInterest, link.TypeData, link.TypeLpPacket:
		default:
			f.dropped.Add(1)
			continue
		}
		if f.cmds.waiting() && f.cmds.deliver(frame) {
			continue
		}
		f.framesIn.Add(1)
		f.onPkt(frame)
	}
}

// Close stops the face: the connection is closed, reconnection stops, no
// OnDown is called, and later calls fail with ErrClosed. It does not wait
// for the face's goroutines (it may be called from a callback): wait on
// Done. Safe to call more than once; always returns nil.
func (f *Face) Close() error {
	f.mu.Lock()
	switch f.state {
	case StateClosed:
		f.mu.Unlock()
		return nil
	case StateIdle:
		f.setStateLocked(StateClosed)
		close(f.closing)
		f.mu.Unlock()
		f.finish()
		return nil
	}
	c := f.cur
	f.setStateLocked(StateClosed)
	close(f.closing)
	f.mu.Unlock()
	if c != nil {
		_ = c.c.Close() // wakes the reader; run finishes the rest
	}
	return nil
}

// Send writes one packet to the node. It fails at once with an error
// wrapping ErrDown while there is no connection (ErrClosed after Close),
// and never blocks longer than Config.WriteTimeout: a write that fails or
// times out closes the connection (the face reconnects) and returns an
// error wrapping ErrDown. A nil error means the whole packet was handed to
// the operating system, not that the node received it. Safe for concurrent
// use; packets are written whole, one at a time.
func (f *Face) Send(pkt enc.Wire) error {
	f.mu.Lock()
	c, st := f.cur, f.state
	f.mu.Unlock()
	if c == nil {
		if st == StateClosed {
			return ErrClosed
		}
		return ErrDown
	}
	return f.write(c, pkt)
}

func (f *Face) write(c *conn, pkt enc.Wire) error {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	select {
	case <-c.gone:
		return ErrDown
	default:
	}
	_ = c.c.SetWriteDeadline(time.Now().Add(f.cfg.WriteTimeout))
	var err error
	if len(pkt) == 1 {
		_, err = c.c.Write(pkt[0])
	} else {
		_, err = c.c.Write(pkt.Join())
	}
	if err != nil {
		_ = c.c.Close()
		return fmt.Errorf("%w: send: %w", ErrDown, err)
	}
	return nil
}

var _ ndn.Face = (*Face)(nil)
