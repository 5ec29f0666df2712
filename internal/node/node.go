// Package node assembles a running ndnsvs-node from its configuration: the
// in-process forwarder, the strategy choices, the static neighbours and the
// routes that take each sync group to the network.
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/internal/ping"
	"github.com/ndnsvs/ndnsvs-node/strategy"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Node is one ndnsvs-node: a forwarder and what the configuration sets up
// on it.
type Node struct {
	cfg   config.Config
	log   *slog.Logger
	fwd   *fw.Forwarder
	name  enc.Name      // node.name, resolved once (it may read the host name)
	apps  []app         // in-process applications, stopped before the forwarder
	syncs []groupMember // the node's member of each sync group, stopped first

	stopTrim chan struct{}
	trimDone chan struct{}
}

// app is an in-process application: an engine on its own in-process face.
type app struct {
	name   string
	engine ndn.Engine
	faceID uint64
	down   <-chan struct{} // closed when its face is closed
}

// NewLogger returns the logger the configuration asks for, writing to w.
func NewLogger(c config.Log, w io.Writer) (*slog.Logger, error) {
	level, err := ParseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// ParseLevel parses debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("node: log level %q: %w", s, err)
	}
	return l, nil
}

// ForwarderConfig translates the node's configuration into the forwarder's.
// The configuration must have passed config.Validate.
func ForwarderConfig(c config.Config, logger *slog.Logger, logw io.Writer) (fw.Config, error) {
	fc := fw.DefaultConfig()
	fc.Threads = c.Forwarder.ThreadCount()
	fc.QueueSize = c.Forwarder.QueueSize
	fc.FaceQueueSize = c.Forwarder.FaceQueueSize
	fc.UDPMTU = c.Forwarder.UDPMTU
	fc.ContentStore = fw.ContentStoreConfig{
		Admit:    c.Forwarder.ContentStore.Admit,
		Serve:    c.Forwarder.ContentStore.Serve,
		Capacity: c.Forwarder.ContentStore.Capacity,
	}
	fc.Unix = fw.UnixConfig{Enabled: c.Faces.Unix.Enabled, Path: c.UnixSocketPath(), Mode: c.FileMode()}
	var errs []error
	parse := func(key string, s string) netip.AddrPort {
		a, err := netip.ParseAddrPort(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("node: %s: %w", key, err))
		}
		return a
	}
	fc.Mgmt = fw.MgmtConfig{
		AllowLocalhopRegister: c.Management.AllowLocalhopRegister,
		AllowFaceCreate:       c.Management.AllowFaceCreate,
		RequestsPerSecond:     c.Management.RequestsPerSecond,
		Burst:                 c.Management.Burst,
	}
	fc.Limits.OnDemandFaces = c.Faces.Limits.OnDemandFaces
	fc.Limits.StreamFaces = c.Faces.Limits.StreamFaces
	fc.Limits.ReassemblyBytes = c.Faces.Limits.ReassemblyBytes
	fc.Limits.Reassembly.Timeout = c.Faces.Limits.ReassemblyTimeout.Duration
	fc.UDP.Enabled = c.Faces.UDP.Enabled
	fc.UDP.Lifetime = c.Faces.UDP.Lifetime.Duration
	for i, s := range c.Faces.UDP.Listen {
		fc.UDP.Listen = append(fc.UDP.Listen, parse(fmt.Sprintf("faces.udp.listen[%d]", i), s))
	}
	fc.TCP.Enabled = c.Faces.TCP.Enabled
	for i, s := range c.Faces.TCP.Listen {
		fc.TCP.Listen = append(fc.TCP.Listen, parse(fmt.Sprintf("faces.tcp.listen[%d]", i), s))
	}
	fc.Multicast = fw.MulticastConfig{
		Enabled:    c.Faces.Multicast.Enabled,
		Group:      parse("faces.multicast.group", c.Faces.Multicast.Group),
		Interfaces: c.Faces.Multicast.Interfaces,
	}
	fc.WebSocket = fw.WebSocketConfig{
		Enabled: c.Faces.WebSocket.Enabled,
		TLSCert: c.Faces.WebSocket.TLSCert,
		TLSKey:  c.Faces.WebSocket.TLSKey,
	}
	if c.Faces.WebSocket.Listen != "" {
		fc.WebSocket.Listen = parse("faces.websocket.listen", c.Faces.WebSocket.Listen)
	}
	level, err := ParseLevel(c.Log.ForwarderLevel)
	if err != nil {
		errs = append(errs, err)
	}
	fc.Logger = logger
	fc.ForwarderLogLevel = level
	fc.ForwarderLogWriter = logw
	fc.ForwarderLogJSON = c.Log.Format == "json"
	if err := errors.Join(errs...); err != nil {
		return fc, err
	}
	return fc, fc.Validate()
}

// New checks the configuration and prepares a node; nothing runs yet.
// Forwarder logs go to logw.
func New(c config.Config, logger *slog.Logger, logw io.Writer) (*Node, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	fc, err := ForwarderConfig(c, logger, logw)
	if err != nil {
		return nil, err
	}
	fwd, err := fw.New(fc)
	if err != nil {
		return nil, err
	}
	name, err := enc.NameFromStr(c.NodeName())
	if err != nil {
		return nil, fmt.Errorf("node: node name %q: %w", c.NodeName(), err)
	}
	return &Node{cfg: c, log: logger, fwd: fwd, name: name}, nil
}

// Forwarder returns the node's forwarder, for in-process applications.
func (n *Node) Forwarder() *fw.Forwarder { return n.fwd }

// Start sets the process's garbage collector target (node.gc_percent,
// unless GOGC is set), starts the forwarder, installs the strategy choices
// (multicast on every sync group), opens the neighbour faces and routes
// each group to the network faces. On error the node is closed.
func (n *Node) Start(ctx context.Context) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(n.cfg.Node.GCPercent)
	}
	if err := n.fwd.Start(ctx); err != nil {
		return err
	}
	if err := n.setup(); err != nil {
		_ = n.Close()
		return err
	}
	n.stopTrim, n.trimDone = make(chan struct{}), make(chan struct{})
	go n.trimWhenIdle(trimInterval)
	return nil
}

// trimInterval is how often trimWhenIdle looks at the traffic.
const trimInterval = 2 * time.Second

// trimWhenIdle gives memory back to the operating system when a burst of
// traffic has ended: a window with traffic followed by quiet windows for
// longer than the forwarder's Dead Nonce List lifetime. Then the lists,
// drained, are rebuilt at their new size (fw.CompactDeadNonceLists: ndnd's
// keep the memory of the burst for good), the heap is collected twice (the
// first collection only moves sync.Pool contents to the pools' victim
// caches) and its free memory is returned. Go's runtime returns memory
// slowly on its own, and on an edge device the resident size after a burst
// matters more than the few milliseconds this costs once per burst.
func (n *Node) trimWhenIdle(every time.Duration) {
	defer close(n.trimDone)
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := n.fwd.Counters()
	busy, quiet := false, time.Duration(0)
	for {
		select {
		case <-n.stopTrim:
			return
		case <-tick.C:
		}
		c := n.fwd.Counters()
		packets := (c.InInterests + c.InData) - (last.InInterests + last.InData)
		last = c
		switch {
		case packets > idlePackets:
			busy, quiet = true, 0
		case busy:
			quiet += every
			if quiet <= n.fwd.DeadNonceLifetime() {
				continue
			}
			busy = false
			t0 := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			kept, err := n.fwd.CompactDeadNonceLists(ctx)
			cancel()
			if err != nil {
				n.log.Debug("burst over: dead nonce lists not compacted", "err", err)
			}
			// Two collections: objects in sync.Pools (ndnd keeps packets
			// and encoders there, holding names and PIT records) survive
			// the first one in the pools' victim caches.
			runtime.GC()
			debug.FreeOSMemory()
			n.log.Debug("burst over: returned free memory to the system", "dead nonces kept", kept, "took", time.Since(t0))
		}
	}
}

// idlePackets is the most packets a trim window may carry and still count
// as idle: a quiet sync group sends about one Sync Interest per 30 s.
const idlePackets = 100

func (n *Node) setup() error {
	groups := n.GroupPrefixes()
	extra := make([]strategy.Request, 0, len(n.cfg.Strategies))
	for _, s := range n.cfg.Strategies {
		extra = append(extra, strategy.Request{Prefix: s.Prefix, Strategy: s.Name})
	}
	choices, err := strategy.Plan(n.fwd.StrategyVersions(), groups, extra)
	if err != nil {
		return err
	}
	for _, ch := range choices {
		if err := n.fwd.SetStrategy(ch.Prefix, ch.Strategy.String()); err != nil {
			return err
		}
		n.log.Info("strategy", "prefix", ch.Prefix, "strategy", ch.Strategy)
	}
	// NFD management may not change or unset a sync group's strategy.
	for _, g := range groups {
		name, err := enc.NameFromStr(g)
		if err != nil {
			return fmt.Errorf("node: group %q: %w", g, err)
		}
		n.fwd.ProtectStrategy(name)
	}

	// Multicast faces carry every group.
	for _, id := range n.fwd.NetworkFaces() {
		if err := n.route(groups, id); err != nil {
			return err
		}
	}
	if n.cfg.Node.Ping {
		if err := n.startPing(); err != nil {
			return err
		}
	}
	for _, g := range groups {
		if err := n.startGroup(g); err != nil {
			return err
		}
	}
	for _, nb := range n.cfg.Neighbors {
		id, err := n.fwd.AddNeighbor(nb.URI)
		if err != nil {
			return err
		}
		prefixes := nb.Prefixes
		if len(prefixes) == 0 {
			prefixes = groups
		}
		if err := n.route(prefixes, id); err != nil {
			return err
		}
	}
	return nil
}

func (n *Node) route(prefixes []string, faceID uint64) error {
	for _, p := range prefixes {
		name, err := enc.NameFromStr(p)
		if err != nil {
			return fmt.Errorf("node: prefix %q: %w", p, err)
		}
		if err := n.fwd.AddRoute(name, faceID, 0, fw.OriginStatic); err != nil {
			return err
		}
		n.log.Debug("route", "prefix", name, "face", faceID)
	}
	return nil
}

// startPing runs the built-in ping responder on <node name>/ping.
func (n *Node) startPing() error {
	name := n.name
	prefix := name.Append(enc.NewGenericComponent("ping"))
	e, err := n.startApp("ping")
	if err != nil {
		return err
	}
	if err := ping.Serve(e.engine, prefix, nil); err != nil {
		return err
	}
	if err := n.fwd.AddRoute(prefix, e.faceID, 0, fw.OriginApp); err != nil {
		return err
	}
	n.log.Info("ping responder", "prefix", prefix)
	return nil
}

// startGroup makes the node a member of a sync group: an SVS v3 member named
// after the node, on a bare in-process face of its own (svs.NewOnFace: no
// ndn engine, packets straight from the forwarding thread). The group
// prefix (not /<group>/v=3) is routed to it: NDNts members register
// /<group> with Capture and without ChildInherit, and a /<group>/v=3 route
// would hide them (docs/interop.md). What else arrives under /<group> is
// counted in the member's Stats.Ignored.
func (n *Node) startGroup(prefix string) error {
	group, err := enc.NameFromStr(prefix)
	if err != nil {
		return fmt.Errorf("node: group %q: %w", prefix, err)
	}
	name := n.name
	af, err := n.fwd.NewFace()
	if err != nil {
		return fmt.Errorf("node: group %s: %w", prefix, err)
	}
	lg := n.log.With("group", prefix)
	s, err := svs.NewOnFace(af, svs.Config{
		Group:               group,
		Node:                name,
		Logger:              lg,
		MaxSyncInterestSize: n.cfg.Sync.MaxSyncInterestSize,
		MaxMembers:          n.cfg.Sync.MaxMembers,
		SupersededGrace:     n.cfg.Sync.SupersededGrace.Duration,
		OnUpdate: func(u svs.Update) {
			if lg.Enabled(context.Background(), slog.LevelDebug) {
				member, _ := wire.CoreToName(u.Node)
				lg.Debug("update", "member", member, "boot", u.Boot, "low", u.Low, "high", u.High)
			}
		},
		Register: func(enc.Name) error {
			return n.fwd.AddRoute(group, af.FaceID(), 0, fw.OriginApp)
		},
	})
	if err != nil {
		_ = af.Close()
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			lg.Error("sync stopped", "err", err)
		}
	}()
	n.syncs = append(n.syncs, groupMember{prefix: prefix, sync: s, cancel: cancel})
	lg.Info("joined sync group", "member", name, "boot", s.Boot())
	return nil
}

// Syncs returns the node's own member of each sync group, by group prefix.
func (n *Node) Syncs() map[string]*svs.Sync {
	out := make(map[string]*svs.Sync, len(n.syncs))
	for _, g := range n.syncs {
		out[g.prefix] = g.sync
	}
	return out
}

type groupMember struct {
	prefix string
	sync   *svs.Sync
	cancel context.CancelFunc
}

// startApp starts an engine on a new in-process face; Close stops it before
// the forwarder.
func (n *Node) startApp(name string) (app, error) {
	af, err := n.fwd.NewFace()
	if err != nil {
		return app{}, err
	}
	down := make(chan struct{})
	af.OnDown(func() { close(down) })
	e := engine.NewBasicEngine(af)
	if err := e.Start(); err != nil {
		_ = af.Close()
		return app{}, fmt.Errorf("node: %s: %w", name, err)
	}
	a := app{name: name, engine: e, faceID: af.FaceID(), down: down}
	n.apps = append(n.apps, a)
	return a, nil
}

// NodeName is the node's NDN name.
func (n *Node) NodeName() string { return n.name.String() }

// GroupPrefixes lists the configured sync group prefixes.
func (n *Node) GroupPrefixes() []string {
	out := make([]string, 0, len(n.cfg.Groups))
	for _, g := range n.cfg.Groups {
		out = append(out, g.Prefix)
	}
	return out
}

// Close stops the node: in-process applications first, each waited for
// until its face is down, then the forwarder. Safe to call more than once.
func (n *Node) Close() error {
	if n.stopTrim != nil {
		close(n.stopTrim)
		<-n.trimDone
		n.stopTrim = nil
	}
	for _, g := range n.syncs {
		g.cancel()
		<-g.sync.Done()
	}
	n.syncs = nil
	apps := n.apps
	n.apps = nil
	for i := len(apps) - 1; i >= 0; i-- {
		a := apps[i]
		if err := a.engine.Stop(); err != nil {
			n.log.Warn("stopping application", "app", a.name, "err", err)
			continue
		}
		select {
		case <-a.down:
		case <-time.After(5 * time.Second):
			n.log.Warn("application did not stop within 5s", "app", a.name)
		}
	}
	return n.fwd.Close()
}
