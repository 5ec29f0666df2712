package svs

import (
	"bytes"
	"crypto/elliptic"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/security/signer"
)

// A per-node answer is signed once and kept: with ECDSA, whose signatures
// differ each time, asking twice for one segment gets the same bytes, so a
// peer asking again and again costs a map lookup, not a signature. The
// cache holds signedCacheSize answers.
func TestPerNodeAnswersSignedOnce(t *testing.T) {
	key, err := signer.KeygenEcc(mustName("/n/KEY/k"), elliptic.P256())
	if err != nil {
		t.Fatal(err)
	}
	store, err := NewMemoryStorage(StorageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	names := dataNames{prefix: mustName("/g"), group: mustName("/g"), self: mustName("/n")}
	const boot = 7
	var pubs []Publication
	for seq := uint64(1); seq <= signedCacheSize+1; seq++ {
		segs, err := encodeSegments(names.shared(names.self, boot, seq), []byte("payload"), key)
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, Publication{Boot: boot, Seq: seq, Segments: segs})
	}
	if err := store.Reserve(boot, signedCacheSize+1); err != nil {
		t.Fatal(err)
	}
	if err := store.PutOwn(pubs...); err != nil {
		t.Fatal(err)
	}
	var announced atomic.Uint64
	announced.Store(signedCacheSize + 1)
	d := &dataServer{names: &names, store: store, signer: key, boot: boot, limit: 8, announced: &announced,
		ctr: &dataCounters{}, ignored: &atomic.Uint64{}, in: newMailbox[serveReq]()}
	ask := func(seq uint64) []byte {
		t.Helper()
		var got []byte
		d.serve(serveReq{name: names.perNode(boot, seq).Append(enc.NewSegmentComponent(0)), reply: func(w enc.Wire) error { got = w.Join(); return nil }})
		if got == nil {
			t.Fatalf("seq %d: no answer", seq)
		}
		return got
	}
	first := ask(1)
	if again := ask(1); !bytes.Equal(first, again) {
		t.Error("asked twice, signed twice: the answers differ")
	}
	for seq := uint64(2); seq <= signedCacheSize+1; seq++ {
		ask(seq)
	}
	if len(d.signed) != signedCacheSize {
		t.Errorf("cache holds %d, want %d", len(d.signed), signedCacheSize)
	}
	if again := ask(1); bytes.Equal(first, again) {
		t.Error("the oldest answer was not dropped: ECDSA gave the same bytes")
	}
}

// A producer on a bare fw.Face with a MemoryStorage answers fetches on
// the forwarding thread (dataServer.inline); with any other Storage, or
// on an engine, on the server's goroutine. Both answer.
func TestServeInlineOnlyForMemoryStorage(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	type storeOnly struct{ Storage } // not a *MemoryStorage
	for _, tc := range []struct {
		name   string
		bare   bool
		wrap   bool
		inline bool
	}{
		{"bare, MemoryStorage", true, false, true},
		{"bare, another Storage", true, true, false},
		{"engine, MemoryStorage", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			suffix := strings.ReplaceAll(strings.ReplaceAll(tc.name, " ", ""), ",", "-")
			prod := newPubMember(t, group, "/inline/p/"+suffix, changed, tc.bare, func(c *Config) {
				if tc.wrap {
					m, err := NewMemoryStorage(StorageConfig{})
					if err != nil {
						t.Fatal(err)
					}
					c.Data.Storage = storeOnly{m}
				}
			})
			if got := prod.s.data.server.inline; got != tc.inline {
				t.Fatalf("inline %v, want %v", got, tc.inline)
			}
			cons := newPubMember(t, group, "/inline/c/"+suffix, changed, true, nil)
			pub := publishOK(t, prod, payload(9, 3*SegmentSize))
			if !heard(changed, 10*time.Second, func() bool { return len(cons.received(prod.key())) > 0 }) {
				t.Fatalf("publication %d not delivered: %s", pub.Seq, cons.status())
			}
			if st := prod.s.DataStats(); st.Served == 0 || st.ServeDropped != 0 {
				t.Fatalf("producer served %d, dropped %d", st.Served, st.ServeDropped)
			}
		})
	}
}
