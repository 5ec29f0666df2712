package fw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/named-data/ndnd/fw/core"
	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/dispatch"
	"github.com/named-data/ndnd/fw/face"
	ndnfw "github.com/named-data/ndnd/fw/fw"
	"github.com/named-data/ndnd/fw/mgmt"
	"github.com/named-data/ndnd/fw/table"
	enc "github.com/named-data/ndnd/std/encoding"
	ndnlog "github.com/named-data/ndnd/std/log"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// claimed is set by the first Start in this process and never cleared: ndnd's
// globals cannot host a second forwarder, even after the first has stopped.
var claimed atomic.Bool

// Forwarder is the process's NDN forwarder. Create it with New, run it with
// Start, stop it with Close. Its methods are safe for concurrent use.
type Forwarder struct {
	cfg Config
	log *slog.Logger

	ready chan struct{}
	done  chan struct{}

	mu        sync.Mutex
	state     state
	listeners []io.Closer
	appFaces  map[*Face]struct{}
	netFaces  []uint64 // multicast and neighbour faces, in creation order
	// mcast are the multicast faces by interface index, mcastRoutes the
	// prefixes routed to each (multicast.go, ifwatch.go).
	mcast       map[int]*mcastFace
	mcastRoutes []enc.Name
	closeErr    error

	stopDrain chan struct{}
	drainDone chan struct{}

	events logEvents // what ndnd only logs, counted

	lim        limiter
	budget     *link.Budget // reassembly memory, shared by every face
	udpSockets []*udpSocket // listeners and neighbours' own sockets
	netCount   atomic.Int64 // network faces open
	mgmt       mgmtState    // the management guard (mgmt_guard.go)

	dnl dnlCompactor // CompactDeadNonceLists
}

type state int

const (
	stateNew state = iota
	stateStarting
	stateRunning
	stateClosed
)

// New checks cfg and returns a forwarder that is not yet started.
func New(cfg Config) (*Forwarder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Forwarder{
		lim: limiter{
			maxOnDemand: int64(cfg.Limits.OnDemandFaces),
			maxStreams:  int64(cfg.Limits.StreamFaces),
		},
		budget:   link.NewBudget(cfg.Limits.ReassemblyBytes),
		cfg:      cfg,
		log:      lg,
		ready:    make(chan struct{}),
		done:     make(chan struct{}),
		appFaces: make(map[*Face]struct{}),
	}, nil
}

// Ready is closed once Start has succeeded: the forwarding threads run, the
// listeners accept and management answers on /localhost/nfd.
func (f *Forwarder) Ready() <-chan struct{} { return f.ready }

// Done is closed once Close has finished.
func (f *Forwarder) Done() <-chan struct{} { return f.done }

// Start starts the forwarder and returns once it is ready, or with the first
// error (a listener that cannot bind, ctx ending first). On error everything
// started is stopped again. Only the first Start in a process can succeed.
func (f *Forwarder) Start(ctx context.Context) error {
	f.mu.Lock()
	if f.state != stateNew {
		f.mu.Unlock()
		return fmt.Errorf("fw: Start called twice")
	}
	if !claimed.CompareAndSwap(false, true) {
		f.mu.Unlock()
		return ErrOnePerProcess
	}
	f.state = stateStarting
	f.mu.Unlock()

	err := f.start(ctx)
	if err != nil {
		_ = f.Close()
		return err
	}
	f.mu.Lock()
	if f.state == stateStarting {
		f.state = stateRunning
		close(f.ready)
	}
	f.mu.Unlock()
	return nil
}

func (f *Forwarder) start(ctx context.Context) error {
	t0 := time.Now()
	core.C = f.ndndConfig()
	core.StartTimestamp = t0
	core.ShouldQuit = false
	core.Log = f.forwarderLogger()
	// Engines and clients of ndnd's std library log through its default
	// logger; it cannot be redirected, only quieted.
	ndnlog.Default().SetLevel(ndnlog.Level(f.cfg.ForwarderLogLevel))

	face.Initialize()
	table.Initialize()

	face.MakeNullLinkService(face.MakeNullTransport()).Run(nil)
	go mgmt.MakeMgmtThread().Run()

	threads := make([]*ndnfw.Thread, f.cfg.Threads)
	forDispatch := make([]dispatch.FWThread, f.cfg.Threads)
	for i := range threads {
		threads[i] = ndnfw.NewThread(i)
		forDispatch[i] = threads[i]
	}
	ndnfw.Threads = threads
	dispatch.InitializeFWThreads(forDispatch)
	tickers := make([]*time.Ticker, len(threads))
	for i, t := range threads {
		tickers[i] = dnlTicker(t)
		if tickers[i] == nil {
			f.log.Warn("cannot tune ndnd's dead nonce list drain: unexpected ndnd layout")
		}
	}
	for _, t := range threads {
		go t.Run()
	}
	f.stopDrain, f.drainDone = make(chan struct{}), make(chan struct{})
	lifetime := time.Duration(core.C.Tables.DeadNonceList.Lifetime) * time.Millisecond
	go drainDeadNonces(threads, tickers, lifetime, f.stopDrain, f.drainDone)

	if err := f.waitManagement(ctx); err != nil {
		return err
	}
	// The guard is in place before any socket accepts: a client connecting
	// during start-up cannot reach ndnd's management unguarded.
	if err := f.installMgmtGuard(); err != nil {
		return err
	}
	if err := f.openListeners(); err != nil {
		return err
	}
	f.log.Info("forwarder ready", "threads", f.cfg.Threads, "took", time.Since(t0))
	return nil
}

// waitManagement waits until ndnd's management thread, started
// asynchronously, has put its face on /localhost/nfd. ndnd offers no signal
// for this, so it is polled; it takes a few hundred microseconds.
func (f *Forwarder) waitManagement(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Microsecond)
	defer tick.Stop()
	for len(table.FibStrategyTable.FindNextHopsEnc(defn.LOCAL_PREFIX)) == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("fw: waiting for management: %w", context.Cause(ctx))
		case <-tick.C:
		}
	}
	return nil
}

// ndndConfig translates Config into ndnd's global config. ndnd's own
// listeners stay off: this package opens them.
func (f *Forwarder) ndndConfig() *core.Config {
	c := core.DefaultConfig()
	c.Core.LogLevel = ndnlog.Level(f.cfg.ForwarderLogLevel).String()
	c.Faces.QueueSize = f.cfg.FaceQueueSize
	c.Faces.Udp.EnabledUnicast = false
	c.Faces.Udp.EnabledMulticast = false
	c.Faces.Udp.PortUnicast = 6363
	if len(f.cfg.UDP.Listen) > 0 {
		c.Faces.Udp.PortUnicast = f.cfg.UDP.Listen[0].Port()
	}
	c.Faces.Udp.PortMulticast = f.cfg.Multicast.Group.Port()
	if f.cfg.Multicast.Group.IsValid() {
		c.Faces.Udp.MulticastAddressIpv4 = f.cfg.Multicast.Group.Addr().String()
	}
	c.Faces.Udp.Lifetime = uint64(max(f.cfg.UDP.Lifetime, time.Second) / time.Second)
	c.Faces.Udp.DefaultMtu = uint16(f.cfg.UDPMTU)
	c.Faces.Tcp.Enabled = false
	if len(f.cfg.TCP.Listen) > 0 {
		c.Faces.Tcp.PortUnicast = f.cfg.TCP.Listen[0].Port()
	}
	c.Faces.Unix.Enabled = false
	c.Faces.Unix.SocketPath = f.cfg.Unix.Path
	c.Faces.WebSocket.Enabled = false
	c.Faces.HTTP3.Enabled = false
	c.Fw.Threads = f.cfg.Threads
	c.Fw.QueueSize = f.cfg.QueueSize
	c.Tables.ContentStore.Admit = f.cfg.ContentStore.Admit
	c.Tables.ContentStore.Serve = f.cfg.ContentStore.Serve
	c.Tables.ContentStore.Capacity = uint16(f.cfg.ContentStore.Capacity)
	c.Tables.ContentStore.ReplacementPolicy = "lru"
	c.Tables.Fib.Algorithm = "nametree"
	c.Tables.Rib.ReadvertiseNlsr = false
	c.Mgmt.AllowLocalhop = false
	return c
}

func (f *Forwarder) forwarderLogger() *ndnlog.Logger {
	w := f.cfg.ForwarderLogWriter
	if w == nil {
		w = os.Stderr
	}
	// ndnd's logger runs at DEBUG or lower; the configured level is
	// applied under it (logfilter.go).
	return newForwarderLog(w, f.cfg.ForwarderLogJSON, f.cfg.ForwarderLogLevel, newLossSink(&f.events, f.log))
}

// Close stops the forwarder: in-process faces first, then listeners, then
// every other face, then the forwarding threads. It is safe to call more
// than once and on a forwarder that never started; later calls return the
// first call's result. Applications on in-process faces see their face go
// down; stop them first for a clean shutdown.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	switch f.state {
	case stateClosed:
		f.mu.Unlock()
		<-f.done
		return f.closeErr
	case stateNew:
		f.state = stateClosed
		f.mu.Unlock()
		close(f.done)
		return nil
	}
	f.state = stateClosed
	appFaces := make([]*Face, 0, len(f.appFaces))
	for af := range f.appFaces {
		appFaces = append(appFaces, af)
	}
	listeners := f.listeners
	f.listeners = nil
	f.mu.Unlock()

	var errs []error
	for _, af := range appFaces {
		if err := af.Close(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, err)
		}
	}
	for _, l := range listeners {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if f.stopDrain != nil {
		close(f.stopDrain)
		<-f.drainDone
	}
	core.ShouldQuit = true
	for _, ls := range face.FaceTable.GetAll() {
		ls.Close()
	}
	for _, t := range ndnfw.Threads {
		t.TellToQuit()
	}
	for _, t := range ndnfw.Threads {
		<-t.HasQuit
	}
	f.closeErr = errors.Join(errs...)
	f.log.Info("forwarder stopped")
	close(f.done)
	return f.closeErr
}

func (f *Forwarder) running() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state != stateRunning && f.state != stateStarting {
		return ErrNotRunning
	}
	return nil
}
