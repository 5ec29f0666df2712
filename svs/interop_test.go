//go:build !race

// These tests run ndnd v1.5.3's std/sync.SvSync, which has data races of
// its own (concurrent sendSyncInterest goroutines share one Name; see
// docs/svs-driver.md): they are left out of -race builds.

package svs

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	ndnsync "github.com/named-data/ndnd/std/sync"

	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// ndndMember is one ndnd SvSync on its own face and engine.
type ndndMember struct {
	name enc.Name
	sv   *ndnsync.SvSync

	mu      sync.Mutex
	learned map[core.Key]uint64
	errs    []string
}

func newNdndMember(t testing.TB, group enc.Name, node string, changed signal) *ndndMember {
	t.Helper()
	m := &ndndMember{name: mustName(node), learned: map[core.Key]uint64{}}
	// v1.5.3's SvSync listens on /<group>/v=3 (it has no SyncPrefix method).
	m.sv = fwtest.NdndSvSync(t, testFwd, group, group.Clone().Append(enc.NewVersionComponent(3)), func(u ndnsync.SvSyncUpdate) {
		m.onUpdate(u)
		changed.Notify()
	})
	return m
}

func (m *ndndMember) onUpdate(u ndnsync.SvSyncUpdate) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := keyOf(u.Name, u.Boot)
	if u.Name.Equal(m.name) {
		m.errs = append(m.errs, fmt.Sprintf("update about itself: %+v", u))
	}
	if prev := m.learned[k]; u.Low != prev+1 || u.High < u.Low {
		m.errs = append(m.errs, fmt.Sprintf("update %d..%d after %d for %s", u.Low, u.High, prev, u.Name))
	}
	m.learned[k] = max(m.learned[k], u.High)
}

func (m *ndndMember) key() core.Key { return keyOf(m.name, m.sv.GetBootTime()) }

func (m *ndndMember) get(k core.Key) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.learned[k]
}

// Our members and ndnd v1.5.3's SvSync in one group, through the same
// forwarder: every member of either kind learns every sequence number of
// every other member, in order and without duplicates. ndnd names its State
// Vector Data /<group>/v=<µs>, which our decoder accepts; ndnd accepts ours
// named /<group>/v=3. One of ours runs on an ndnd engine, one on a bare
// face.
func TestInteropNdndSvSync(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	ours := []*member{
		newMember(t, group, "/ours/a", changed, nil),
		newMemberOn(t, group, "/ours/b", changed, nil, true), // on a bare face, as the node's
	}
	theirs := []*ndndMember{
		newNdndMember(t, group, "/ndnd/c", changed),
		newNdndMember(t, group, "/ndnd/d", changed),
	}

	published := map[core.Key]uint64{}
	// SvSync.Start returns before SvSync listens (its handler drops
	// everything until its goroutine has started) and gives no readiness
	// signal. An ndnd member whose publication one of ours learned is
	// listening: publish until each has been heard.
	for _, n := range theirs {
		for attempt := 0; ; attempt++ {
			seq := n.sv.IncrSeqNo(n.name)
			published[n.key()] = seq
			if heard(changed, 200*time.Millisecond, func() bool {
				for _, m := range ours {
					if m.get(n.key()) != seq {
						return false
					}
				}
				return true
			}) {
				break
			}
			if attempt == 20 {
				t.Fatalf("%s never heard", n.name)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	all := func() bool {
		for _, m := range ours {
			for k, seq := range published {
				if k != m.key() && m.get(k) != seq {
					return false
				}
			}
		}
		for _, m := range theirs {
			for k, seq := range published {
				if k != m.key() && m.get(k) != seq {
					return false
				}
			}
		}
		return true
	}
	what := func() string {
		s := ""
		for _, m := range ours {
			s += fmt.Sprintf("\n%s: %+v", m.name, m.s.Stats())
			for k, seq := range published {
				s += fmt.Sprintf(" %q=%d/%d", k.Node, m.get(k), seq)
			}
		}
		for _, m := range theirs {
			s += fmt.Sprintf("\n%s:", m.name)
			for k, seq := range published {
				s += fmt.Sprintf(" %q=%d/%d", k.Node, m.get(k), seq)
			}
		}
		return s
	}

	for round := range 10 {
		for i, m := range ours {
			seq, err := m.s.PublishSeq(ctx)
			if err != nil {
				t.Fatal(err)
			}
			published[m.key()] = seq
			n := theirs[i]
			published[n.key()] = n.sv.IncrSeqNo(n.name)
		}
		if round%3 == 0 {
			waitUntil(t, changed, 10*time.Second, all, what)
		}
		time.Sleep(5 * time.Millisecond) // spacing between rounds, part of the scenario
	}
	waitUntil(t, changed, 10*time.Second, all, what)

	for _, m := range ours {
		m.checkErrs(t)
		if st := m.s.Stats(); st.Malformed+st.Invalid+st.InboxDropped != 0 {
			t.Errorf("%s dropped ndnd's Sync Interests: %+v", m.name, st)
		}
	}
	for _, m := range theirs {
		m.mu.Lock()
		for _, e := range m.errs {
			t.Errorf("%s: %s", m.name, e)
		}
		m.mu.Unlock()
	}
	// Our state vector holds ndnd's members under their bootstrap times.
	for _, n := range theirs {
		if got := ours[0].s.State().Get(wire.NameToCore(n.name), n.sv.GetBootTime()); got != published[n.key()] {
			t.Errorf("our state has %s=%d, want %d", n.name, got, published[n.key()])
		}
	}
}
