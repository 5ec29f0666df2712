package client_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"

	"github.com/ndnsvs/ndnsvs-node/client"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// member is an svs member on an ndnd engine on a client face.
type member struct {
	face *client.Face
	sync *svs.Sync
	mu   sync.Mutex
	seen map[string]uint64 // node -> highest seq learned
}

// newMember runs a member; with viaFace its Register is the face's (kept
// and registered again by the face at each connection), else svs's default
// (the engine's RegisterRoute, called again by the member at OnUp).
func newMember(t *testing.T, uri, node string, viaFace bool) *member {
	t.Helper()
	f, err := client.New(client.Config{Transport: uri, MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.NewBasicEngine(f)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	m := &member{face: f, seen: map[string]uint64{}}
	group, _ := enc.NameFromStr("/g")
	name, _ := enc.NameFromStr(node)
	var register func(enc.Name) error
	if viaFace {
		register = f.Register
	}
	m.sync, err = svs.New(e, svs.Config{
		Group: group, Node: name, Register: register,
		PeriodicTimeout: time.Second,
		OnUpdate: func(u svs.Update) {
			n, _ := wire.CoreToName(u.Node)
			m.mu.Lock()
			m.seen[n.String()] = max(m.seen[n.String()], u.High)
			m.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.sync.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = e.Stop()
		<-f.Done()
	})
	return m
}

func (m *member) learned(node string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seen[node]
}

func waitLearned(t *testing.T, m *member, node string, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for m.learned(node) < seq {
		if time.Now().After(deadline) {
			t.Fatalf("%s learned only %d of %d", node, m.learned(node), seq)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A member on a client face refuses to publish while the node is away
// (svs.ErrFaceDown), and once the node is back every publication it made
// reaches the other member: the ones made before the node went, and the
// ones after. The members run on ndnd's engine, unchanged.
func TestSyncSurvivesTheNode(t *testing.T) {
	n := client.NewFakeNodeForTest(t)
	a := newMember(t, n.URI(), "/a", true)
	b := newMember(t, n.URI(), "/b", false)
	ctx := context.Background()

	var last uint64
	for range 3 {
		seq, err := a.sync.PublishSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last = seq
	}
	waitLearned(t, b, "/a", last)

	n.Commands() // forget the first registrations
	n.Stop()
	// Publish until the member refuses: at most the few publications made
	// before the loss of the connection was seen may succeed.
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		seq, err := a.sync.PublishSeq(ctx)
		if errors.Is(err, svs.ErrFaceDown) {
			refused = true
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		last = seq
		time.Sleep(time.Millisecond)
	}
	if !refused {
		t.Fatal("Publish never returned ErrFaceDown with the node gone")
	}
	for range 5 {
		if _, err := a.sync.PublishSeq(ctx); !errors.Is(err, svs.ErrFaceDown) {
			t.Fatalf("Publish while down: %v, want ErrFaceDown", err)
		}
	}

	n.Start()
	for _, m := range []*member{a, b} {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := m.face.WaitState(wctx, client.StateUp); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	// What was published before the node went is learned through the
	// announcement at OnUp, with no new publication.
	waitLearned(t, b, "/a", last)
	var seq uint64
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if seq, err = a.sync.PublishSeq(ctx); err == nil {
			break
		}
		if !errors.Is(err, svs.ErrFaceDown) || time.Now().After(deadline) {
			t.Fatalf("Publish after the node came back: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	waitLearned(t, b, "/a", seq)
	// Both members' sync prefixes were registered again on the new
	// connections: a's by its face (and by the member at OnUp), b's by
	// the member at OnUp through the engine.
	got := n.Commands()
	c := 0
	for _, cmd := range got {
		if cmd == "localhost register /g" { // the route prefix, svs.Sync.RoutePrefix
			c++
		}
	}
	if c < 3 {
		t.Errorf("registrations after the restart: %q", got)
	}
}
