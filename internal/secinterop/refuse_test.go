//go:build !race

package secinterop

import (
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/security"
)

// addOutsider starts a member that signs with its key, whatever the schema
// says (as an attacker would: security.New would refuse the key) and
// serves certs, so that every validator can fetch them.
func (w *world) addOutsider(node string, it *ident, certs ...[]byte) *ourMember {
	w.t.Helper()
	return newOurMember(w.t, ourOpts{group: w.group, node: node, sign: it.contextSigner(), serve: certs}, w.changed)
}

// barrier makes sure that ndnd's member and ours have handled every packet
// received before it: each publishes, and each must learn the other's new
// sequence number. Ours handle received Sync Interests in order on one
// goroutine, and so does ndnd's engine (see tapFace), so what they
// refused before is refused and counted by then.
func (w *world) barrier() {
	w.t.Helper()
	w.round()
}

// A member whose key the schema does not allow publishes: ours refuse its
// vectors, counted under the reason, and ndnd's SvSync does not deliver
// its updates either. Two such members: "guest", whose certificate the
// group's root issued but under /<g>/guest/, outside the member rule; and
// "eve", named as a member but issued by an impostor root, a self-signed
// /<g>/KEY/<other kid> that is not the anchor.
func TestOutsideSchemaRefused(t *testing.T) {
	w := newWorld(t)
	w.addNdnd("carol", "ed25519")
	w.addOurs("alice", "ed25519")
	alice := w.ours[0]
	w.start()

	guest := w.root.issue(t, w.dir, w.group.Append(enc.NewGenericComponent("guest"), enc.NewGenericComponent("mallory")), "ed25519")
	impostor := newRoot(t, t.TempDir(), w.group)
	eve := impostor.issue(t, w.dir, w.member("eve"), "ed25519")
	outsiders := []*ourMember{
		w.addOutsider("/mallory", guest, guest.cert),
		w.addOutsider("/eve", eve, eve.cert, impostor.cert),
	}
	for _, o := range outsiders {
		o.publish(t)
		o.publish(t)
	}

	// Ours refuse guest's vectors before fetching anything (no rule lets
	// /<g>/guest/... sign /<g>) and eve's once the chain ends at a
	// self-signed certificate that is not the anchor. ndnd fetches
	// guest's certificate and refuses the schema mismatch; it fetches
	// eve's and the impostor's, and refuses the self-signed certificate.
	guestRefused := and(signedBy(guest.id), rejectedAs(security.ReasonSchema))
	eveRefused := and(signedBy(eve.id), rejectedAs(security.ReasonUnknownKey))
	waitUntil(t, w.changed, 10*time.Second, func() bool {
		return len(alice.checked(guestRefused)) > 0 && len(alice.checked(eveRefused)) > 0 &&
			w.nd.tap.gotData(guest.key.KeyName()) > 0 && w.nd.tap.gotData(impostor.key.KeyName()) > 0
	}, func() string {
		return w.describe() + "\nalice checked guest: " + describeChecks(alice.checked(signedBy(guest.id))) +
			"\nalice checked eve: " + describeChecks(alice.checked(signedBy(eve.id)))
	})
	w.barrier()

	for _, o := range outsiders {
		if w.nd.knows(o.node) {
			t.Errorf("ndnd's SvSync delivered updates of %s", o.node)
		}
		if alice.knows(o.node) {
			t.Errorf("alice delivered updates of %s", o.node)
		}
	}
	for _, c := range []enc.Name{guest.certName, eve.certName, impostor.certName} {
		if w.nd.holds(c) {
			t.Errorf("ndnd trusts %s", c)
		}
		if alice.trust.Lookup(c, false) != nil {
			t.Errorf("alice trusts %s", c)
		}
	}
	// Refused before any Interest for guest: the schema check comes first.
	if got := alice.certs.fetchedUnder(guest.id); len(got) != 0 {
		t.Errorf("alice fetched %v for guest's vectors", got)
	}
	if got := alice.certs.fetchedUnder(eve.id); len(got) == 0 {
		t.Errorf("alice never fetched eve's certificate")
	}
	if got := alice.certs.fetchedUnder(impostor.key.KeyName()); len(got) == 0 {
		t.Errorf("alice never fetched the impostor root")
	}
	ts, ss := alice.trust.Stats(), alice.s.Stats()
	t.Logf("alice: security %+v", ts)
	t.Logf("alice: svs received=%d invalid=%d pending=%d", ss.Received, ss.Invalid, ss.Pending)
	if ts.Rejected[security.ReasonSchema] == 0 || ts.Rejected[security.ReasonUnknownKey] == 0 {
		t.Errorf("alice's rejections: %v", ts.Rejected)
	}
	if want := ts.Rejected[security.ReasonSchema] + ts.Rejected[security.ReasonUnknownKey]; ss.Invalid < want || ss.Invalid == 0 {
		t.Errorf("alice counted %d invalid Sync Interests, security refused %d", ss.Invalid, want)
	}
	t.Logf("ndnd fetched guest's certificate %d times, the impostor root %d times", w.nd.tap.gotData(guest.key.KeyName()), w.nd.tap.gotData(impostor.key.KeyName()))
	t.Logf("guest refused as %v; eve as %v", alice.checked(guestRefused)[0].err, alice.checked(eveRefused)[0].err)
	w.nd.checkErrs(t, "ndnd")
	alice.checkErrs(t, "alice")
}

// A DigestSha256-signed vector, from a member of ours with no security
// (svs's default signer): ours count its Sync Interests invalid as
// "unsigned" and no update about it reaches the application; ndnd's
// SvSync refuses it too ("key locator is nil"). The unsecured member
// itself accepts everything, so it learns the others: its Sync Interests
// do reach them.
func TestDigestVectorRefused(t *testing.T) {
	w := newWorld(t)
	w.addNdnd("carol", "ecdsa") // ndnd signing ECDSA P-256, ours validating it
	w.addOurs("alice", "ed25519")
	alice := w.ours[0]
	w.start()

	plain := newOurMember(t, ourOpts{group: w.group, node: "/plain"}, w.changed)
	plain.publish(t)
	plain.publish(t)
	digest := func(s syncData) bool { return s.sigType == ndn.SignatureDigestSha256 }
	waitUntil(t, w.changed, 10*time.Second, func() bool {
		return len(alice.checked(and(digest, rejectedAs(security.ReasonUnsigned)))) > 0 &&
			len(w.nd.tap.gotSync(digest)) > 0
	}, func() string { return w.describe() + "\nalice checked: " + describeChecks(alice.checked(digest)) })
	w.barrier()
	// plain learns the latest of each: its vectors and theirs crossed.
	waitUntil(t, w.changed, 10*time.Second, func() bool {
		return knowsAll(&plain.learner, plain.key(), w.published)
	}, w.describe)

	if w.nd.knows(plain.node) {
		t.Errorf("ndnd's SvSync delivered updates of the DigestSha256 member")
	}
	if alice.knows(plain.node) {
		t.Errorf("alice delivered updates of the DigestSha256 member")
	}
	ts, ss := alice.trust.Stats(), alice.s.Stats()
	t.Logf("alice: security %+v", ts)
	t.Logf("alice: svs received=%d invalid=%d pending=%d", ss.Received, ss.Invalid, ss.Pending)
	if ts.Rejected[security.ReasonUnsigned] == 0 || ss.Invalid < ts.Rejected[security.ReasonUnsigned] {
		t.Errorf("alice: %d refused as unsigned, %d invalid", ts.Rejected[security.ReasonUnsigned], ss.Invalid)
	}
	for r, n := range ts.Rejected {
		if r != security.ReasonUnsigned && n != 0 {
			t.Errorf("alice refused %d as %s", n, r)
		}
	}
	if ts.FetchesStarted != 1 {
		t.Errorf("alice started %d fetches, want 1 (ndnd's certificate; a digest names none)", ts.FetchesStarted)
	}
	t.Logf("ndnd received %d DigestSha256 vectors, e.g. %s", len(w.nd.tap.gotSync(digest)), w.nd.tap.gotSync(digest)[0].name)
	w.nd.checkErrs(t, "ndnd")
	alice.checkErrs(t, "alice")
}

func describeChecks(cs []syncData) string {
	s := ""
	for _, c := range cs {
		s += "\n  " + c.name.String() + " by " + c.locator.String() + ": "
		if c.err == nil {
			s += "accepted"
		} else {
			s += c.err.Error()
		}
	}
	return s
}
