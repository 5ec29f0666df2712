//go:build !race

package secinterop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/internal/interop/ndnts"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// ndntsEvent is one JSON line of testdata/secure-peer.mjs.
type ndntsEvent struct {
	Event    string `json:"event"`
	Node     string `json:"node"`
	Boot     uint64 `json:"boot"`
	Lo       uint64 `json:"lo"`
	Hi       uint64 `json:"hi"`
	Seq      uint64 `json:"seq"`
	Reason   string `json:"reason"`
	DataName string `json:"dataName"`
	Message  string `json:"message"`
}

// ndntsPeer is a running secure-peer.mjs: NDNts's SvSync signing with an
// Ed25519 key and checking with a verifier of the given certificates.
type ndntsPeer struct {
	stdin   io.WriteCloser
	changed signal

	mu     sync.Mutex
	events []ndntsEvent
	stderr strings.Builder
}

// startNDNts runs the peer from a folder of its own that holds a copy of
// the script and a link to internal/interop/ndnts's node_modules (Node
// resolves packages from the script's folder up). Closing its stdin at
// cleanup ends it; it is killed if it lingers.
func startNDNts(t testing.TB, changed signal, args ...string) *ndntsPeer {
	t.Helper()
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join("testdata", "secure-peer.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secure-peer.mjs"), script, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(ndnts.Dir(), "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", append([]string{"secure-peer.mjs"}, args...)...)
	cmd.Dir = dir
	p := &ndntsPeer{changed: changed}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev ndntsEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = ndntsEvent{Event: "garbage", Message: sc.Text()}
			}
			p.mu.Lock()
			p.events = append(p.events, ev)
			p.mu.Unlock()
			changed.Notify()
		}
	}()
	go func() {
		defer readers.Done()
		b, _ := io.ReadAll(stderr)
		p.mu.Lock()
		p.stderr.Write(b)
		p.mu.Unlock()
	}()
	exited := make(chan struct{})
	go func() {
		readers.Wait() // Wait must follow the pipes' last reads
		_ = cmd.Wait()
		p.mu.Lock()
		p.events = append(p.events, ndntsEvent{Event: "exit"})
		p.mu.Unlock()
		changed.Notify()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = p.stdin.Close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	return p
}

// find returns the events so far that match.
func (p *ndntsPeer) find(match func(ndntsEvent) bool) []ndntsEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	var r []ndntsEvent
	for _, ev := range p.events {
		if match(ev) {
			r = append(r, ev)
		}
	}
	return r
}

// failed says whether the peer reported an error or exited.
func (p *ndntsPeer) failed() bool {
	return len(p.find(func(ev ndntsEvent) bool { return ev.Event == "error" || ev.Event == "exit" })) > 0
}

func (p *ndntsPeer) describe() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, _ := json.Marshal(p.events)
	return fmt.Sprintf("NDNts events %s\nstderr: %s", b, p.stderr.String())
}

// learned is the highest sequence number of node the peer was told of.
func (p *ndntsPeer) learned(node string) uint64 {
	var hi uint64
	for _, ev := range p.find(func(ev ndntsEvent) bool { return ev.Event == "update" && ev.Node == node }) {
		hi = max(hi, ev.Hi)
	}
	return hi
}

func (p *ndntsPeer) publish(t testing.TB) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, "publish\n"); err != nil {
		t.Fatal(err)
	}
}

// NDNts @ndn/svs 0.0.20250307, given an Ed25519 signer (ndnd's PKCS#8 key,
// imported as is, KeyLocator the certificate minus its version) and a
// verifier of the members' certificates, syncs with ours: ours fetch its
// certificate and accept its /<g>/v=3 State Vector Data, it accepts ours.
// ndnd's member validates NDNts's vectors too (it fetches the
// certificate). NDNts refuses ndnd's own vectors, but for their name
// (/<g>/v=<µs>, not /<g>/v=3), not their signature, and learns ndnd's
// sequence numbers through ours' later vectors; it refuses a DigestSha256 vector for
// having no KeyLocator.
//
// Limits of the NDNts side: @ndn/trust-schema is not installed, so its
// verifier trusts the certificates it is given (checked for form and
// validity by NDNts's Certificate) and neither fetches nor checks a
// schema; and it does not serve its own certificate: a responder of the
// test does so on its behalf, under its key name.
func TestNDNtsSecured(t *testing.T) {
	if err := ndnts.Available(); err != nil {
		t.Skip(err)
	}
	w := newWorld(t)
	carol := w.addNdnd("carol", "ed25519")
	alice := w.addOurs("alice", "ed25519")
	w.start()

	dave := w.root.issue(t, w.dir, w.member("dave"), "ed25519")
	pkcs8, err := signer.GetSecret(dave.key)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := dave.key.Public()
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string, b []byte) string {
		p := filepath.Join(w.dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newCertApp(t, lookupIn([][]byte{dave.cert}), [][]byte{dave.cert})
	p := startNDNts(t, w.changed,
		"--socket", testSock, "--group", w.group.String(), "--node", "/dave",
		"--key-name", dave.key.KeyName().String(), "--locator", dave.certName.Prefix(-1).String(),
		"--pkcs8", file("dave.pkcs8", pkcs8), "--spki", file("dave.spki", spki),
		"--trust", file("alice.ndncert", alice.cert), "--trust", file("carol.ndncert", carol.cert))
	ready := func(ev ndntsEvent) bool { return ev.Event == "ready" }
	waitUntil(t, w.changed, 15*time.Second, func() bool { return len(p.find(ready)) > 0 || p.failed() }, p.describe)
	if p.failed() {
		t.Fatal(p.describe())
	}
	daveKey := core.Key{Node: wire.NameToCore(fwtest.Name("/dave")), Boot: p.find(ready)[0].Boot}

	p.publish(t)
	p.publish(t)
	w.published[daveKey] = 2
	daveHeard := func() bool {
		return knowsAll(&w.ours[0].learner, w.ours[0].key(), w.published) && w.nd.get(daveKey) == 2 &&
			w.nd.tap.gotData(dave.key.KeyName()) > 0
	}
	waitUntil(t, w.changed, 10*time.Second, func() bool { return daveHeard() || p.failed() }, func() string { return w.describe() + "\n" + p.describe() })
	w.round()
	// NDNts refuses ndnd's own vectors, and in a round ndnd publishes after
	// alice: NDNts learns ndnd's latest from alice's next Sync Interest
	// (otherwise only at the next periodic one, 30 s later).
	relay := func() { w.published[w.ours[0].key()] = w.ours[0].publish(t) }
	relay()
	ndntsKnows := func() bool {
		return p.learned("/alice") == w.published[w.ours[0].key()] && p.learned("/carol") == w.published[w.nd.key()]
	}
	waitUntil(t, w.changed, 10*time.Second, func() bool { return ndntsKnows() || p.failed() }, func() string { return w.describe() + "\n" + p.describe() })
	if !ndntsKnows() {
		t.Fatal(p.describe())
	}

	// A DigestSha256 member: NDNts's verifier refuses it.
	plain := newOurMember(t, ourOpts{group: w.group, node: "/plain"}, w.changed)
	plain.publish(t)
	noLocator := func(ev ndntsEvent) bool { return ev.Event == "reject" && strings.Contains(ev.Reason, "no KeyLocator") }
	waitUntil(t, w.changed, 10*time.Second, func() bool { return len(p.find(noLocator)) > 0 || p.failed() }, p.describe)
	// After a later vector from alice, NDNts has handled the digest one.
	w.round()
	relay()
	waitUntil(t, w.changed, 10*time.Second, func() bool { return ndntsKnows() || p.failed() }, p.describe)
	if n := p.learned("/plain"); n != 0 {
		t.Errorf("NDNts delivered /plain=%d, signed with DigestSha256", n)
	}

	if !w.nd.holds(dave.certName) {
		t.Errorf("ndnd did not validate NDNts's certificate")
	}
	if got := w.ours[0].certs.fetchedUnder(dave.id); len(got) == 0 {
		t.Errorf("alice never fetched NDNts's certificate")
	}
	if got := w.ours[0].checked(and(signedBy(dave.id), func(s syncData) bool { return s.err == nil && s.version() == 3 })); len(got) == 0 {
		t.Errorf("alice accepted no /<g>/v=3 from NDNts")
	}
	for r, n := range w.ours[0].trust.Stats().Rejected {
		if n != 0 && r.String() != "unsigned" {
			t.Errorf("alice refused %d as %s", n, r)
		}
	}
	rejects := p.find(func(ev ndntsEvent) bool { return ev.Event == "reject" })
	byReason := map[string]int{}
	for _, ev := range rejects {
		byReason[ev.Reason]++
		if !strings.Contains(ev.Reason, "no KeyLocator") && !strings.Contains(ev.Reason, "Invariant") {
			t.Errorf("NDNts refused %s: %s", ev.DataName, ev.Reason)
		}
		if strings.Contains(ev.Reason, "Invariant") && strings.HasSuffix(ev.DataName, "/v=3") {
			t.Errorf("NDNts refused a /v=3 vector by name: %+v", ev)
		}
	}
	t.Logf("NDNts learned /alice=%d /carol=%d; refused %v", p.learned("/alice"), p.learned("/carol"), byReason)
	t.Logf("alice: security %+v", w.ours[0].trust.Stats())
	w.nd.checkErrs(t, "ndnd")
	w.ours[0].checkErrs(t, "alice")
}
