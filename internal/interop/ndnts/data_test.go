package ndnts

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/svs"
)

// PubScript is the NDNts member with publications (pub-peer.mjs).
const PubScript = "pub-peer.mjs"

// Interop at the data level with NDNts (@ndn/svs and @ndn/segmented-object
// 0.0.20250307) through our forwarder's unix socket, both ways:
//   - NDNts's fetch() reads our publications (1 B to 300 kB) by their SVS
//     v3 names /<node>/<group>/t=<boot>/seq=<n> (our per-node layer, with
//     seg=<i> appended) and by the shared-layer names
//     /<group>/<node>/t=<boot>/seq=<n>/v=0, and gets every payload intact;
//   - an NDNts member that serves its payloads with serve() under the
//     shared-layer name and raises its sequence number in SvSync is learned
//     by our member, which fetches its publications and delivers them
//     intact, in order.
func TestNDNtsFetchesOursAndWeFetchNDNts(t *testing.T) {
	skipUnlessAvailable(t)
	sizes := []int{1, 100, svs.SegmentSize + 1, 300_000}
	g := mustName(group)
	e, af := fwtest.Engine(t, testFwd)
	var mu stdsync.Mutex
	var got []svs.Message
	changed := make(chan struct{}, 1)
	s, err := svs.New(e, svs.Config{
		Group: g, Node: mustName("/ours/pub"),
		Register: func(p enc.Name) error { return testFwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp) },
		Data: &svs.DataConfig{OnMessage: func(m svs.Message) {
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
			select {
			case changed <- struct{}{}:
			default:
			}
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-s.Done() })

	var names []string
	want := map[string]string{} // name -> sha256
	for i, n := range sizes {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(j*5 + i)
		}
		pub, err := s.Publish(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(p)
		shared := g.Append(mustName("/ours/pub")...).Append(enc.NewTimestampComponent(pub.Boot),
			enc.NewSequenceNumComponent(pub.Seq), enc.NewVersionComponent(enc.VersionImmutable))
		for _, name := range []string{pub.Name.String(), shared.String()} {
			names = append(names, name)
			want[name] = hex.EncodeToString(sum[:])
		}
	}

	cmd := exec.Command("node", filepath.Join(Dir(), PubScript), "--socket", testSock, "--group", group,
		"--node", "/ndnts/pub", "--publish-sizes", joinInts(sizes), "--fetch", strings.Join(names, ","), "--timeout", "60000")
	cmd.Dir = Dir()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close() // the script exits 0 when stdin closes
		_ = cmd.Wait()
	})
	type event struct {
		Event, Name, Sha256, Message string
		Node                         string
		Boot, Seq                    uint64
		Size                         int
	}
	events := make(chan event, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev event
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				events <- ev
			}
		}
	}()

	fetched := map[string]bool{}
	published := map[uint64]string{} // seq -> sha256
	var boot uint64
	deadline := time.After(60 * time.Second)
	for len(fetched) < len(names) || len(published) < len(sizes) {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the NDNts member exited early: %s", stderr.String())
			}
			switch ev.Event {
			case "ready":
				boot = ev.Boot
			case "published":
				published[ev.Seq] = ev.Sha256
			case "fetched":
				if ev.Sha256 != want[ev.Name] {
					t.Errorf("NDNts fetched %s: %d bytes, sha256 %.12s, want %.12s", ev.Name, ev.Size, ev.Sha256, want[ev.Name])
				}
				fetched[ev.Name] = true
			case "fetch-error":
				t.Errorf("NDNts could not fetch %s: %s", ev.Name, ev.Message)
				fetched[ev.Name] = true
			case "error", "exit":
				t.Fatalf("NDNts member: %s %s %s", ev.Event, ev.Message, stderr.String())
			}
		case <-deadline:
			t.Fatalf("after 60 s: NDNts fetched %d of %d, published %d of %d", len(fetched), len(names), len(published), len(sizes))
		}
	}
	t.Logf("NDNts fetched our %d publications by %d names (v3 per-node and shared), intact", len(sizes), len(names))

	// Our member learns the NDNts member's numbers and fetches them.
	ndnts := func() []svs.Message {
		mu.Lock()
		defer mu.Unlock()
		var out []svs.Message
		for _, m := range got {
			if m.Node.String() == "/ndnts/pub" {
				out = append(out, m)
			}
		}
		return out
	}
	timeout := time.After(30 * time.Second)
	for len(ndnts()) < len(sizes) {
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("our member got %d of the NDNts member's %d publications; %+v", len(ndnts()), len(sizes), s.DataStats())
		}
	}
	for i, m := range ndnts() {
		sum := sha256.Sum256(m.Bytes())
		if m.Seq != uint64(i+1) || m.Boot != boot || hex.EncodeToString(sum[:]) != published[m.Seq] {
			t.Errorf("got NDNts's t=%d seq=%d, %d bytes: want t=%d seq=%d with its payload", m.Boot, m.Seq, m.Size(), boot, i+1)
		}
	}
	t.Logf("our member fetched the NDNts member's %d publications (served by @ndn/segmented-object under /<group>/<node>/t=/seq=/v=0), intact and in order", len(sizes))
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
