// Package fwtest helps tests that run the project's forwarder: one per test
// binary (ndnd's globals allow one per process), engines on in-process
// faces, names.
package fwtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/object/storage"
	ndnsync "github.com/named-data/ndnd/std/sync"

	"github.com/ndnsvs/ndnsvs-node/fw"
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
