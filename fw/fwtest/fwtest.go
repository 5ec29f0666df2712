// Package fwtest helps tests and benchmarks that run the project's
// forwarder: one per test binary (ndnd's globals allow one per process),
// engines and bare faces on it, raw producers, names.
package fwtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/face"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/object/storage"
	ndnsync "github.com/named-data/ndnd/std/sync"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/ping"
)

// MustStart starts the test binary's forwarder with cfg and puts the
// multicast strategy on each of multicast. It is meant for TestMain: on
// failure it prints the error and exits the test binary with status 1.
func MustStart(cfg fw.Config, multicast ...string) *fw.Forwarder {
	f, err := fw.New(cfg)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = f.Start(ctx)
		cancel()
	}
	for _, p := range multicast {
		if err == nil {
			err = f.SetStrategy(Name(p), "multicast")
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "start forwarder:", err)
		os.Exit(1)
	}
	return f
}

// Engine starts an ndnd engine on a new in-process face of f. Both are
// stopped when the test ends.
func Engine(tb testing.TB, f *fw.Forwarder) (ndn.Engine, *fw.Face) {
	tb.Helper()
	af, err := f.NewFace()
	if err != nil {
		tb.Fatal(err)
	}
	e := engine.NewBasicEngine(af)
	if err := e.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = e.Stop()
		_ = af.Close()
	})
	return e, af
}

// BareFace returns a new in-process face of f, not opened, for an
// application that reads its own frames (svs.NewOnFace); it is closed when
// the test ends.
func BareFace(tb testing.TB, f *fw.Forwarder) *fw.Face {
	tb.Helper()
	af, err := f.NewFace()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = af.Close() })
	return af
}

// Name parses an NDN name URI written in a test; it panics on a bad one.
func Name(s string) enc.Name {
	n, err := enc.NameFromStr(s)
	if err != nil {
		panic(fmt.Sprintf("fwtest: name %q: %v", s, err))
	}
	return n
}

// NdndSvSync starts a member of ndnd v1.5.3's own std/sync.SvSync in group on
// a new in-process face of f, for interop tests, with routed (the group
// prefix, or /<group>/v=3 where SvSync listens) routed to it. SvSync
// registers no route itself. It is stopped when the test ends.
func NdndSvSync(tb testing.TB, f *fw.Forwarder, group, routed enc.Name, onUpdate func(ndnsync.SvSyncUpdate)) *ndnsync.SvSync {
	tb.Helper()
	e, af := Engine(tb, f)
	client := object.NewClient(e, storage.NewMemoryStore(), nil)
	if err := client.Start(); err != nil {
		tb.Fatal(err)
	}
	sv := ndnsync.NewSvSync(ndnsync.SvSyncOpts{Client: client, GroupPrefix: group.Clone(), OnUpdate: onUpdate})
	if err := f.AddRoute(routed, af.FaceID(), 0, fw.OriginApp); err != nil {
		tb.Fatal(err)
	}
	if err := sv.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = sv.Stop()
		_ = client.Stop()
	})
	return sv
}

// RawProducer starts a raw producer (ping.RawServe) answering under prefix on a
// face of its own to fwd: an in-process face when sock is empty, else a
// connection to fwd's unix socket at sock. A bare face cannot send the
// prefix-registration command, so the route is added to fwd directly; a
// unix connection's face is the unix face that appears in fwd when it
// connects (fwd accepts on a goroutine of its own, so it is waited for).
// Close the returned face to stop.
func RawProducer(fwd *fw.Forwarder, sock string, prefix enc.Name, content []byte) (ndn.Face, error) {
	if sock == "" {
		f, err := fwd.NewFace()
		if err != nil {
			return nil, err
		}
		if err := ping.RawServe(f, content); err != nil {
			_ = f.Close()
			return nil, err
		}
		return f, fwd.AddRoute(prefix, f.FaceID(), 0, fw.OriginApp)
	}
	known := map[uint64]bool{}
	for _, fi := range fwd.Faces() {
		known[fi.ID] = true
	}
	f := engine.NewUnixFace(sock)
	if err := ping.RawServe(f, content); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		for _, fi := range fwd.Faces() {
			if !known[fi.ID] && strings.HasPrefix(fi.Local, "unix") {
				return f, fwd.AddRoute(prefix, fi.ID, 0, fw.OriginApp)
			}
		}
	}
	_ = f.Close()
	return nil, fmt.Errorf("fwtest: the producer's unix face did not appear in the forwarder")
}

// ndndListener is one of ndnd's own listeners, running on its goroutine.
type ndndListener struct {
	close func()
	once  sync.Once
}

// Close stops accepting and waits for the listener's goroutine; later calls
// do nothing. Faces it created stay until their peers close them (unix) or
// they expire (UDP).
func (l *ndndListener) Close() error {
	l.once.Do(l.close)
	return nil
}

// NdndUnixListener opens ndnd v1.5.3's own unix stream listener
// (face.MakeUnixStreamListener: ndnd's transport, framing and link service)
// at path, beside the forwarder's own listeners, so that a benchmark can
// compare this project's faces with ndnd's in one forwarder. The forwarder
// must be running (ndnd's listener reads its global configuration). path
// must be a socket path of its own: ndnd removes whatever is there, and
// exits the process if it cannot listen. It returns once the socket
// accepts; Close it before the forwarder closes.
func NdndUnixListener(path string) (io.Closer, error) {
	l, err := face.MakeUnixStreamListener(defn.MakeUnixFaceURI(path))
	if err != nil {
		return nil, fmt.Errorf("fwtest: ndnd unix listener %s: %w", path, err)
	}
	go l.Run()
	// A probe connection becomes an ndnd face that closes again at EOF.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if c, err := net.Dial("unix", path); err == nil {
			_ = c.Close()
			return &ndndListener{close: l.Close}, nil
		}
	}
	return nil, fmt.Errorf("fwtest: ndnd unix listener %s: not accepting after 5s", path)
}

// NdndUDPListener opens ndnd v1.5.3's own UDP unicast listener
// (face.MakeUDPListener: ndnd's on-demand faces, transport and link
// service) on a, beside the forwarder's own listeners; see
// NdndUnixListener. ndnd binds on its own goroutine and only logs a
// failure, so the bind is awaited in the kernel's socket table
// (/proc/net/udp, Linux): a port that another socket already holds, or
// that ndnd cannot bind, is an error after 5 s. Close it before the
// forwarder closes.
func NdndUDPListener(a netip.AddrPort) (io.Closer, error) {
	if !a.IsValid() || a.Port() == 0 {
		return nil, fmt.Errorf("fwtest: ndnd udp listener: %q needs an address and a port", a)
	}
	if bound, err := udpBound(a.Port()); err != nil || bound {
		return nil, fmt.Errorf("fwtest: ndnd udp listener %s: port in use (%v)", a, err)
	}
	l, err := face.MakeUDPListener(defn.DecodeURIString("udp://" + a.String()))
	if err != nil {
		return nil, fmt.Errorf("fwtest: ndnd udp listener %s: %w", a, err)
	}
	go l.Run()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		bound, err := udpBound(a.Port())
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("fwtest: ndnd udp listener %s: %w", a, err)
		}
		if bound {
			return &ndndListener{close: l.Close}, nil
		}
	}
	l.Close()
	return nil, fmt.Errorf("fwtest: ndnd udp listener %s: not bound after 5s (see ndnd's log)", a)
}

// udpBound reports whether an unconnected UDP socket (state 07 in
// /proc/net/udp and udp6) is bound to port in this network namespace.
func udpBound(port uint16) (bool, error) {
	want := fmt.Sprintf(":%04X", port)
	found := false
	for _, p := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) && p == "/proc/net/udp6" {
			continue // no IPv6
		}
		if err != nil {
			return false, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) > 3 && strings.HasSuffix(f[1], want) && f[3] == "07" {
				found = true
			}
		}
	}
	return found, nil
}
