package main

// The seed's examples (ndn-python-svs's alive, count and chat) as
// subcommands: what they share is here, each app in a file of its own.
//
// An app runs one or more sync members on one ndn engine. The engine's face
// is either a client face to a node already running on this machine (its
// unix socket, found as NFD clients find it: client.DefaultTransport), or
// an in-process face of a forwarder of the app's own (internal/node with no
// group of its own, so the app's member is the only one under its name).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"unicode"
	"unicode/utf8"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	ndnlog "github.com/named-data/ndnd/std/log"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/client"
	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/internal/node"
	"github.com/ndnsvs/ndnsvs-node/security"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// defaultAppGroup is the apps' default group prefix: the group a node
// serves on its defaults, so that an app attached to a node running on its
// defaults reaches the LAN (the node gives /ndn/svs the multicast strategy
// and routes it to the network; the app's prefixes are under it) with no
// configuration. The seed's /svs would stop at the node.
const defaultAppGroup = "/ndn/svs"

// app is one of the seed's examples.
type app struct {
	name    string
	summary string // one line, for the command list
	about   string // paragraphs for the app's own help
	// bind adds the app's own flags to fs and returns the app's body,
	// which reads them once fs is parsed.
	bind func(fs *flag.FlagSet) appBody
}

// appBody runs an app on its host until ctx ends; stdio is the terminal.
type appBody func(ctx context.Context, h *appHost, stdio appIO) error

// apps are the examples, in the order help lists them.
var apps = []*app{aliveApp, countApp, chatApp}

// lookupApp returns the app called name, or nil.
func lookupApp(name string) *app {
	i := slices.IndexFunc(apps, func(a *app) bool { return a.name == name })
	if i < 0 {
		return nil
	}
	return apps[i]
}

// appIO is an app's terminal.
type appIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// tty says that stdout is a terminal: the chat then edits the typed
	// line itself, with ANSI escapes.
	tty bool
	// quietNDND, if set, lowers ndnd's process-wide logger to errors
	// (unless -v): ndnd's engine warns on stderr of Interests that
	// arrive while a member stops (its handlers gone, its face not yet),
	// lines in the middle of a chat's screen. Only appMain sets it: the
	// level is a plain variable that ndnd's goroutines read, so it is
	// written once, before any of them runs (tests run apps next to a
	// running forwarder).
	quietNDND func()
}

// appFlags are the flags every app takes. -n and -gp are the seed's.
type appFlags struct {
	node    string
	group   string
	attach  string
	config  string
	state   string
	verbose bool
}

func (f *appFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.node, "n", "", "this member's node `NAME` (required), e.g. /alice")
	fs.StringVar(&f.group, "gp", defaultAppGroup, "sync group `PREFIX`")
	fs.StringVar(&f.attach, "attach", "auto", "`auto`: attach to the node running on this machine if its socket answers (NDN_CLIENT_TRANSPORT, client.conf, else the node's default socket), else run a forwarder of the app's own; yes: attach or fail; no: always run an own forwarder")
	fs.StringVar(&f.config, "config", "", "configuration `FILE` of the app's own forwarder (TOML, as the node's; its [[group]] tables are ignored); without it the node's defaults with the unix socket and metrics off")
	fs.StringVar(&f.state, "state", "", "`DIR` where the app keeps what it must remember across restarts; default: <the node's state directory>/<app>")
	fs.BoolVar(&f.verbose, "v", false, "log sync and forwarder events (info) on stderr")
}

// appMain runs an app with the process's signals: SIGINT or SIGTERM stop
// it. It returns the process's exit code.
func appMain(a *app, args []string, stdio appIO) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if f, ok := stdio.stdout.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			stdio.tty = true
		}
	}
	stdio.quietNDND = func() { ndnlog.Default().SetLevel(ndnlog.LevelError) }
	return runApp(ctx, a, args, stdio)
}

// runApp parses an app's flags, opens its host and runs it until ctx ends.
// It returns exitOK after ctx ended, exitUsage for bad flags, exitFailure
// if the app failed.
func runApp(ctx context.Context, a *app, args []string, stdio appIO) int {
	fs := flag.NewFlagSet(a.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f appFlags
	f.register(fs)
	body := a.bind(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.usage(stdio.stdout, fs)
			return exitOK
		}
		fmt.Fprintf(stdio.stderr, "ndnsvs-node %s: %v\n\n", a.name, err)
		a.usage(stdio.stderr, fs)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stdio.stderr, "ndnsvs-node %s: unexpected argument %q\n\n", a.name, fs.Arg(0))
		a.usage(stdio.stderr, fs)
		return exitUsage
	}
	nodeName, group, err := f.names()
	if err != nil {
		fmt.Fprintf(stdio.stderr, "ndnsvs-node %s: %v\n", a.name, err)
		return exitUsage
	}
	if f.attach != "auto" && f.attach != "yes" && f.attach != "no" {
		fmt.Fprintf(stdio.stderr, "ndnsvs-node %s: --attach %q: want auto, yes or no\n", a.name, f.attach)
		return exitUsage
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	if stdio.quietNDND != nil && !f.verbose {
		stdio.quietNDND()
	}
	logger := slog.New(slog.NewTextHandler(stdio.stderr, &slog.HandlerOptions{Level: level}))

	h, code, err := openHost(ctx, a.name, f, nodeName, group, logger, stdio.stderr)
	if err != nil {
		fmt.Fprintf(stdio.stderr, "ndnsvs-node %s: %v\n", a.name, err)
		return code
	}
	err = body(ctx, h, stdio)
	if cerr := h.close(); err == nil {
		err = cerr
	}
	if err != nil && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
		fmt.Fprintf(stdio.stderr, "ndnsvs-node %s: %v\n", a.name, err)
		return exitFailure
	}
	return exitOK
}

func (f *appFlags) names() (nodeName, group enc.Name, err error) {
	if f.node == "" {
		return nil, nil, errors.New("-n NAME is required: this member's node name, e.g. -n /alice")
	}
	if nodeName, err = enc.NameFromStr(f.node); err != nil || len(nodeName) == 0 {
		return nil, nil, fmt.Errorf("-n %q: not an NDN name", f.node)
	}
	if group, err = enc.NameFromStr(f.group); err != nil || len(group) == 0 {
		return nil, nil, fmt.Errorf("-gp %q: not an NDN name other than /", f.group)
	}
	return nodeName, group, nil
}

func (a *app) usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage:\n  ndnsvs-node %s -n NAME [FLAGS]\n\n%s\n\nFlags:\n", a.name, a.about)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// appHost is where an app's members run: one ndn engine on a client face to
// a running node, or on an in-process face of the app's own forwarder.
type appHost struct {
	node   enc.Name // the app's node name (-n)
	group  enc.Name // the group prefix (-gp)
	state  string   // directory for what the app keeps across restarts
	log    *slog.Logger
	engine ndn.Engine
	// register routes a prefix to the engine's face: an NFD registration
	// on a client face (kept across reconnections), a route in the
	// in-process forwarder.
	register func(enc.Name) error
	// registerOwn routes a member's own publications (/<group>/<node>)
	// the same way, with Capture (svs.DataConfig.RegisterOwn).
	registerOwn func(enc.Name) error
	// where says how the app reaches the network, for its banner.
	where string
	// trust is the [security] of -config: the app's own forwarder's, or,
	// attached, the app's own (it then serves its certificate and fetches
	// others' through the node). nil without security.
	trust *security.Trust

	closeOnce sync.Once
	closeFn   func() error
	closeErr  error
}

// close stops the engine, then the app's own forwarder if it runs one.
// Safe to call twice.
func (h *appHost) close() error {
	h.closeOnce.Do(func() { h.closeErr = h.closeFn() })
	return h.closeErr
}

// openHost attaches to a running node or starts the app's own forwarder,
// as f.attach says. The exit code goes with the error.
func openHost(ctx context.Context, appName string, f appFlags, nodeName, group enc.Name, logger *slog.Logger, logw io.Writer) (*appHost, int, error) {
	h := &appHost{node: nodeName, group: group, log: logger}
	cfg := config.Default()
	if f.config != "" {
		var err error
		if cfg, err = config.Load(f.config); err != nil {
			return nil, exitUsage, err
		}
	}
	if f.attach != "no" {
		transport := client.DefaultTransport()
		err := h.attach(transport)
		if err == nil {
			if err := h.attachTrust(cfg); err != nil {
				_ = h.close()
				return nil, exitUsage, err
			}
			return h.withState(f, appName)
		}
		if f.attach == "yes" {
			return nil, exitFailure, fmt.Errorf("--attach yes: no node answers at %s (NDN_CLIENT_TRANSPORT, client.conf, or the node's default socket): %w", transport, err)
		}
		logger.Info("no node to attach to: running an own forwarder", "transport", transport, "err", err)
	}
	if f.config == "" {
		// The socket and the metrics port are the running node's: an
		// app's own forwarder serves the app alone.
		cfg.Faces.Unix.Enabled = false
		cfg.Metrics.Enabled = false
	}
	if err := h.embed(ctx, cfg, f, logw); err != nil {
		return nil, exitFailure, err
	}
	return h.withState(f, appName)
}

// withState settles the state directory: --state, else <the node's state
// directory>/<app>.
func (h *appHost) withState(f appFlags, appName string) (*appHost, int, error) {
	h.state = f.state
	if h.state == "" {
		cfg := config.Default()
		if f.config != "" {
			if c, err := config.Load(f.config); err == nil {
				cfg = c
			}
		}
		dir, err := cfg.StateDir()
		if err != nil {
			_ = h.close()
			return nil, exitFailure, err
		}
		h.state = filepath.Join(dir, appName)
	}
	return h, exitOK, nil
}

// attachTrust loads cfg's [security] for an app attached to a node: the
// app signs with its own key, serves its certificate through the node and
// fetches the others' through it.
func (h *appHost) attachTrust(cfg config.Config) error {
	t, err := node.LoadTrust(cfg)
	if err != nil || t == nil {
		return err
	}
	if _, err := security.Serve(h.engine, t, h.register); err != nil {
		return err
	}
	h.trust = t
	return nil
}

// signing gives a member of group the app's signer and validator
// (node.Signing); publications says that it publishes.
func (h *appHost) signing(group enc.Name, publications bool) (ndn.Signer, wire.Validator, error) {
	return node.Signing(h.trust, h.node, group, publications)
}

// attach opens an engine on a client face to the node at transport. The
// face reconnects on its own when the node restarts; its routes are
// registered again each time.
func (h *appHost) attach(transport string) error {
	face, err := client.New(client.Config{Transport: transport, Logger: h.log})
	if err != nil {
		return err
	}
	e := engine.NewBasicEngine(face)
	if err := e.Start(); err != nil {
		_ = face.Close()
		return err
	}
	h.engine, h.register, h.registerOwn, h.where = e, face.Register, face.RegisterCapture, "attached to the node at "+transport
	h.closeFn = func() error {
		_ = e.Stop()
		<-face.Done()
		return nil
	}
	return nil
}

// embed starts the app's own forwarder: the node's configuration with no
// sync group of its own (a member named -n in -gp would be a second member
// under the app's name), the multicast strategy on the group prefix, and
// the prefix routed to every network face, as the node does for its
// groups. The engine runs on an in-process face.
func (h *appHost) embed(ctx context.Context, cfg config.Config, f appFlags, logw io.Writer) error {
	cfg.Node.Name = h.node.String()
	if f.state != "" {
		cfg.Node.StateDir = f.state
	}
	cfg.Groups = nil
	cfg.Strategies = slices.DeleteFunc(cfg.Strategies, func(s config.Strategy) bool { return s.Prefix == h.group.String() })
	cfg.Strategies = append(cfg.Strategies, config.Strategy{Prefix: h.group.String(), Name: config.StrategyMulticast})
	if !f.verbose {
		cfg.Log.Level = "warn"
		if f.config == "" {
			cfg.Log.ForwarderLevel = "error" // see runApp
		}
	}
	n, err := node.New(cfg, h.log, logw)
	if err != nil {
		return fmt.Errorf("own forwarder: %w", err)
	}
	runCtx, stopNode := context.WithCancel(context.WithoutCancel(ctx))
	ran := make(chan error, 1)
	go func() { ran <- n.Run(runCtx) }()
	select {
	case <-n.Ready():
	case err := <-ran:
		stopNode()
		return fmt.Errorf("own forwarder: %w", err)
	}
	fwd := n.Forwarder()
	// Multicast faces, now and when an interface comes up; neighbours.
	if err := fwd.RouteMulticast(h.group); err != nil {
		stopNode()
		<-ran
		return fmt.Errorf("own forwarder: %w", err)
	}
	for _, id := range fwd.NetworkFaces() {
		if err := fwd.AddRoute(h.group, id, 0, fw.OriginStatic); err != nil {
			stopNode()
			<-ran
			return fmt.Errorf("own forwarder: %w", err)
		}
	}
	af, err := fwd.NewFace()
	if err != nil {
		stopNode()
		<-ran
		return fmt.Errorf("own forwarder: %w", err)
	}
	e := engine.NewBasicEngine(af)
	if err := e.Start(); err != nil {
		stopNode()
		<-ran
		return fmt.Errorf("own forwarder: %w", err)
	}
	h.engine = e
	h.trust = n.Trust()
	h.register = func(p enc.Name) error { return fwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp) }
	h.registerOwn = func(p enc.Name) error { return fwd.AddCaptureRoute(p, af.FaceID(), 0, fw.OriginApp) }
	switch nf := len(fwd.NetworkFaces()); nf {
	case 0:
		// Nothing leads off the machine yet: no multicast interface is
		// up and no neighbour is configured. Say so, rather than wait in
		// silence; an interface that comes up later gets its face.
		h.where = "own forwarder, no network face yet: no peer can be reached until an interface comes up"
	case 1:
		h.where = "own forwarder, 1 network face"
	default:
		h.where = fmt.Sprintf("own forwarder, %d network faces", nf)
	}
	h.closeFn = func() error {
		_ = e.Stop()
		stopNode()
		return <-ran
	}
	return nil
}

// runAll runs fns until the first returns, cancels the others' context and
// waits for them. It returns the first error that is not a cancellation.
func runAll(ctx context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(fns))
	for _, fn := range fns {
		go func() { errs <- fn(ctx) }()
	}
	var first error
	for range fns {
		err := <-errs
		cancel()
		if first == nil && err != nil && !errors.Is(err, context.Canceled) {
			first = err
		}
	}
	return first
}

// storePath returns the file of the app's store for its node name and
// group, <state>/<app>/<node>/<group>.db, and creates its directory. Each
// part is the name made file-safe, then a hash of the whole name, so
// different names never share a file; a second app with the same name and
// group finds the file locked.
func (h *appHost) storePath() (string, error) {
	dir := filepath.Join(h.state, fileSafe(h.node))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	return filepath.Join(dir, fileSafe(h.group)+".db"), nil
}

func fileSafe(n enc.Name) string {
	readable := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, strings.TrimPrefix(n.String(), "/"))
	if len(readable) > 80 {
		readable = readable[:80]
	}
	sum := sha256.Sum256(n.Bytes())
	return readable + "-" + hex.EncodeToString(sum[:6])
}

// printable makes text from another member safe to print on a terminal:
// control characters (escape sequences could rewrite the screen) become
// U+FFFD, and so do bytes that are not UTF-8.
func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(string(b), string(utf8.RuneError)))
}

// lines serialises whole lines from the app's goroutines (the publisher,
// the member's delivery goroutine) onto one writer.
type lines struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lines) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}
