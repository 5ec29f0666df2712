package svs

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// One forwarder serves every test of the package (ndnd's globals allow one
// per process). Every test group lives under testRoot, which is multicast.
var testFwd *fw.Forwarder

const testRoot = "/ndnsvs-test"

func TestMain(m *testing.M) {
	cfg := fw.DefaultConfig()
	cfg.ForwarderLogLevel = slog.LevelError
	if raceEnabled {
		// ndnd v1.5.3's forwarding threads race on shared PIT-CS tree
		// nodes (fw/table/pit-cs-tree.go fillTreeToPrefixEnc against
		// pruneIfEmpty); one thread keeps -race runs about our code.
		cfg.Threads = 1
	}
	testFwd = fwtest.MustStart(cfg, testRoot)
	// The forwarder is not closed: process exit ends it. fw.Forwarder.Close
	// writes ndnd's plain-bool core.ShouldQuit while ndnd's forwarding
	// threads read it, which the race detector reports (a defect of ndnd and
	// fw, not of this package).
	os.Exit(m.Run())
}

func mustName(s string) enc.Name { return fwtest.Name(s) }

var groupSeq atomic.Uint64

// testGroup returns a group prefix of its own for the test, new on every
// call. Reusing a group across -count iterations would make the forwarder
// aggregate a new Sync Interest into the still pending PIT entry of an
// identical one from the previous iteration (same members, same boot
// second, same vector, so the same name), and never deliver it.
func testGroup(t testing.TB) enc.Name {
	t.Helper()
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return mustName(fmt.Sprintf("%s/%s/%d", testRoot, name, groupSeq.Add(1)))
}

// newEngine starts an ndn engine on a new in-process face.
func newEngine(t testing.TB) (ndn.Engine, *fw.Face) {
	t.Helper()
	return fwtest.Engine(t, testFwd)
}

// signal is a level-triggered wake-up: Notify never blocks, and a waiter
// re-checks its condition after every wake-up.
type signal chan struct{}

func newSignal() signal { return make(signal, 1) }

func (s signal) Notify() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// waitUntil waits until cond holds, re-checking it whenever sig fires, and
// fails the test after timeout with what(). No polling: cond is evaluated
// only when something changed.
func waitUntil(t testing.TB, sig signal, timeout time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-sig:
		case <-deadline.C:
			t.Fatalf("timed out after %v: %s", timeout, what())
		}
	}
}

// member is one Sync on its own face and engine, recording every update.
type member struct {
	t    testing.TB
	name enc.Name
	s    *Sync
	face *fw.Face

	mu      sync.Mutex
	learned map[core.Key]uint64 // highest seq delivered per (node, boot)
	ranges  int
	errs    []string
}

// newMember starts a member of group named node on an ndn engine and waits
// until its route is in place. changed is notified after every update.
func newMember(t testing.TB, group enc.Name, node string, changed signal, mod func(*Config)) *member {
	t.Helper()
	return newMemberOn(t, group, node, changed, mod, false)
}

// newMemberOn is newMember on a bare in-process face (NewOnFace) if bare,
// else on an ndn engine (New).
func newMemberOn(t testing.TB, group enc.Name, node string, changed signal, mod func(*Config), bare bool) *member {
	t.Helper()
	var e ndn.Engine
	var af *fw.Face
	if bare {
		af = fwtest.BareFace(t, testFwd)
	} else {
		e, af = newEngine(t)
	}
	m := &member{t: t, name: mustName(node), face: af, learned: map[core.Key]uint64{}}
	registered := make(chan struct{})
	cfg := Config{
		Group:    group,
		Node:     m.name,
		OnUpdate: func(u Update) { m.onUpdate(u); changed.Notify() },
		Register: func(p enc.Name) error {
			defer close(registered)
			return testFwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp)
		},
		Rand: rand.New(rand.NewPCG(uint64(len(node)), uint64(time.Now().UnixNano()))),
	}
	if mod != nil {
		mod(&cfg)
	}
	var s *Sync
	var err error
	if bare {
		s, err = NewOnFace(af, cfg)
	} else {
		s, err = New(e, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	m.s = s
	s.hook = changed.Notify // every processed packet may satisfy a waiter
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-runErr; err != nil && err != context.Canceled {
			t.Errorf("%s: Run: %v", node, err)
		}
	})
	select {
	case <-registered:
	case err := <-runErr:
		t.Fatalf("%s: Run returned early: %v", node, err)
	}
	return m
}

// onUpdate checks that ranges arrive in order, contiguous, without
// duplicates, and never about the member itself.
func (m *member) onUpdate(u Update) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := core.Key{Node: u.Node, Boot: u.Boot}
	if u.Node == m.s.Node() && u.Boot == m.s.Boot() {
		m.errs = append(m.errs, fmt.Sprintf("update about itself: %+v", u))
	}
	if prev := m.learned[k]; u.Low != prev+1 || u.High < u.Low {
		m.errs = append(m.errs, fmt.Sprintf("update %d..%d after %d for %q", u.Low, u.High, prev, u.Node))
	}
	if u.High > m.learned[k] {
		m.learned[k] = u.High
	}
	m.ranges++
}

func (m *member) key() core.Key { return core.Key{Node: m.s.Node(), Boot: m.s.Boot()} }

func (m *member) get(k core.Key) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.learned[k]
}

func (m *member) checkErrs(t testing.TB) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.errs {
		t.Errorf("%s: %s", m.name, e)
	}
}

// converged reports whether every member has learned every other member's
// published sequence number exactly (never more).
func converged(ms []*member, published map[core.Key]uint64) bool {
	for _, m := range ms {
		for k, seq := range published {
			if k == m.key() {
				continue
			}
			if m.get(k) != seq {
				return false
			}
		}
	}
	return true
}

func describe(ms []*member, published map[core.Key]uint64) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "\n%s:", m.name)
		for k, seq := range published {
			if k != m.key() {
				fmt.Fprintf(&b, " %q=%d/%d", k.Node, m.get(k), seq)
			}
		}
	}
	return b.String()
}

// keyOf returns the core.Key of a node name and boot.
func keyOf(node enc.Name, boot uint64) core.Key {
	return core.Key{Node: wire.NameToCore(node), Boot: boot}
}

// heard waits up to timeout for cond, re-checking it when sig fires.
func heard(sig signal, timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-sig:
		case <-deadline.C:
			return cond()
		}
	}
	return true
}

// describeKey says what member m knows, for a failure message about k.
func describeKey(m *member, k core.Key) string {
	return fmt.Sprintf("%s state %v stats %+v", m.name, m.s.State().Entries(), m.s.Stats())
}
