//go:build !race

package secinterop

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/security/trust_schema"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// world is one secured group: its keys and schema, one ndnd member and
// ours, and what each member published.
type world struct {
	t       testing.TB
	group   enc.Name
	schema  *trust_schema.LvsSchema
	dir     string
	root    *ident
	changed signal

	nd        *ndndMember
	ours      []*ourMember
	published map[core.Key]uint64
}

func newWorld(t testing.TB) *world {
	t.Helper()
	group, glvs := testGroup(t)
	w := &world{
		t: t, group: group, schema: groupSchema(t, glvs), dir: t.TempDir(),
		changed: newSignal(), published: map[core.Key]uint64{},
	}
	w.root = newRoot(t, w.dir, group)
	return w
}

// member is the identity /<group>/m/<node>, which the schema lets sign
// the group's State Vector Data.
func (w *world) member(node string) enc.Name {
	return w.group.Append(enc.NewGenericComponent("m"), enc.NewGenericComponent(node))
}

// addNdnd starts the ndnd member: node /<node>, key of typ.
func (w *world) addNdnd(node, typ string) *ident {
	w.t.Helper()
	it := w.root.issue(w.t, w.dir, w.member(node), typ)
	w.nd = newNdndMember(w.t, w.group, w.schema, w.root, it, "/"+node, w.changed)
	return it
}

// addOurs starts one of ours: node /<node>, key of typ.
func (w *world) addOurs(node, typ string) *ident {
	w.t.Helper()
	it := w.root.issue(w.t, w.dir, w.member(node), typ)
	tr := newTrust(w.t, w.group, w.schema, w.root, it)
	w.ours = append(w.ours, newOurMember(w.t, ourOpts{trust: tr, group: w.group, node: "/" + node}, w.changed))
	return it
}

// everyone says whether every member has learned exactly what every other
// published.
func (w *world) everyone() bool {
	for _, m := range w.ours {
		if !knowsAll(&m.learner, m.key(), w.published) {
			return false
		}
	}
	return knowsAll(&w.nd.learner, w.nd.key(), w.published)
}

func knowsAll(l *learner, self core.Key, published map[core.Key]uint64) bool {
	for k, seq := range published {
		if k != self && l.get(k) != seq {
			return false
		}
	}
	return true
}

// describe says what each member knows and its counters, for a failure.
func (w *world) describe() string {
	var b strings.Builder
	line := func(who string, l *learner) {
		fmt.Fprintf(&b, "\n%s:", who)
		for k, seq := range w.published {
			fmt.Fprintf(&b, " %s=%d/%d", k.Node, l.get(k), seq)
		}
	}
	for _, m := range w.ours {
		line(m.node.String(), &m.learner)
		fmt.Fprintf(&b, "\n  svs %+v\n  security %+v", m.s.Stats(), m.trust.Stats())
	}
	line(w.nd.node.String()+" (ndnd)", &w.nd.learner)
	return b.String()
}

// start brings ndnd's member and ours together. ndnd's SvSync.Start
// returns before it listens (its handler drops Sync Interests until its
// goroutine runs) and gives no readiness signal; it sends once running,
// so ndnd publishes until every one of ours has learned its sequence
// number (the first one after a certificate fetch), then ours publish and
// everyone must learn everything.
func (w *world) start() {
	w.t.Helper()
	for attempt := 0; ; attempt++ {
		seq := w.nd.publish()
		w.published[w.nd.key()] = seq
		if heard(w.changed, 500*time.Millisecond, func() bool {
			for _, m := range w.ours {
				if m.get(w.nd.key()) != seq {
					return false
				}
			}
			return true
		}) {
			break
		}
		if attempt == 20 {
			w.t.Fatalf("ndnd's member never heard: %s", w.describe())
		}
	}
	w.round()
}

// round publishes once from every member and waits until everyone has
// learned everything.
func (w *world) round() {
	w.t.Helper()
	for _, m := range w.ours {
		w.published[m.key()] = m.publish(w.t)
	}
	w.published[w.nd.key()] = w.nd.publish()
	waitUntil(w.t, w.changed, 10*time.Second, w.everyone, w.describe)
}

// ndnd v1.5.3's secured SvSync and two of ours (one Ed25519, one ECDSA
// P-256) in one group learn each other's sequence numbers, in order, with
// every certificate fetched through the forwarder when first needed: ours
// hold ndnd's first Sync Interests while they fetch its certificate
// (wire.PendingError), ndnd fetches and validates ours with its
// TrustConfig. Ours accept ndnd's State Vector Data named /<g>/v=<µs>,
// ndnd accepts ours named /<g>/v=3.
func TestSecuredSyncBothWays(t *testing.T) {
	w := newWorld(t)
	carol := w.addNdnd("carol", "ed25519")
	alice := w.addOurs("alice", "ed25519")
	bob := w.addOurs("bob", "ecdsa")
	ourIDs := []*ident{alice, bob}

	began := time.Now()
	w.start()
	t.Logf("first convergence after %v", time.Since(began))
	for range 5 {
		w.round()
	}
	t.Logf("6 rounds after %v", time.Since(began))

	w.nd.checkErrs(t, "ndnd")
	for i, m := range w.ours {
		m.checkErrs(t, m.node.String())
		ts, ss := m.trust.Stats(), m.s.Stats()
		t.Logf("%s: security %+v", m.node, ts)
		t.Logf("%s: svs received=%d invalid=%d pending=%d pendingDropped=%d", m.node, ss.Received, ss.Invalid, ss.Pending, ss.PendingDropped)
		for r, n := range ts.Rejected {
			if n != 0 {
				t.Errorf("%s refused %d vectors as %s", m.node, n, r)
			}
		}
		if ss.Invalid != 0 || ss.PendingDropped != 0 {
			t.Errorf("%s dropped vectors: invalid %d, pending dropped %d", m.node, ss.Invalid, ss.PendingDropped)
		}
		// Nothing was preloaded: each of ours fetched ndnd's certificate
		// and the other one's, and held Sync Interests meanwhile.
		other := ourIDs[1-i]
		for _, id := range []*ident{carol, other} {
			if got := m.certs.fetchedUnder(id.id); len(got) == 0 {
				t.Errorf("%s never fetched %s's certificate", m.node, id.id)
			}
			if m.trust.Lookup(id.certName, false) == nil {
				t.Errorf("%s does not trust %s", m.node, id.certName)
			}
		}
		if ts.FetchesSucceeded < 2 || ts.FetchesFailed != 0 {
			t.Errorf("%s: %d fetches succeeded, %d failed; want ≥2 and 0", m.node, ts.FetchesSucceeded, ts.FetchesFailed)
		}
		if ss.Pending == 0 || ts.Pending == 0 {
			t.Errorf("%s held no Sync Interest while fetching (svs %d, security %d)", m.node, ss.Pending, ts.Pending)
		}
		// ndnd's TrustConfig stores a fetched certificate only once its
		// chain validated; the certificate was served by ours.
		if !w.nd.holds(ourIDs[i].certName) {
			t.Errorf("ndnd did not fetch and validate %s", ourIDs[i].certName)
		}
		if m.certs.served.Load() == 0 {
			t.Errorf("%s never served its certificate", m.node)
		}
	}

	// The naming forms, as each side received them.
	fromNdnd := w.ours[0].checked(signedBy(carol.id))
	for _, c := range fromNdnd {
		if len(c.name) != len(w.group)+1 || !w.group.IsPrefix(c.name) || c.version() < 1e15 || c.sigType != ndn.SignatureEd25519 {
			t.Errorf("ndnd's State Vector Data %s (%v), want /<g>/v=<µs since 1970> Ed25519", c.name, c.sigType)
		}
	}
	fromBob := w.ours[0].checked(signedBy(bob.id))
	for _, c := range fromBob {
		if c.version() != 3 || c.sigType != ndn.SignatureSha256WithEcdsa {
			t.Errorf("bob's State Vector Data %s (%v), want /<g>/v=3 ECDSA", c.name, c.sigType)
		}
	}
	toNdnd := w.nd.tap.gotSync(signedBy(alice.id))
	for _, c := range toNdnd {
		if c.version() != 3 {
			t.Errorf("ndnd received alice's State Vector Data named %s, want /<g>/v=3", c.name)
		}
	}
	if len(fromNdnd) == 0 || len(fromBob) == 0 || len(toNdnd) == 0 {
		t.Fatalf("naming forms not seen: %d from ndnd, %d from bob, %d to ndnd", len(fromNdnd), len(fromBob), len(toNdnd))
	}
	t.Logf("ours accepted ndnd's %s (Ed25519, KeyLocator %s) after %d checks, %d of them pending", fromNdnd[len(fromNdnd)-1].name, fromNdnd[0].locator, len(fromNdnd), countPending(fromNdnd))
	t.Logf("ndnd accepted ours' %s (KeyLocator %s)", toNdnd[0].name, toNdnd[0].locator)
}

func countPending(cs []syncData) int {
	n := 0
	for _, c := range cs {
		if errors.Is(c.err, wire.ErrPending) {
			n++
		}
	}
	return n
}
