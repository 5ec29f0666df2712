package svs

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// A member stopped right after its application was handed publications
// leaves them in its store, and the vector it saved last counts them:
// the persister writes what it was handed and the final progress before
// Run returns (and so before the caller closes the Storage).
func TestPublishStopStoresWhatWasDelivered(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	prod := newPubMember(t, group, "/st/p", changed, true, nil)
	cstore, err := NewMemoryStorage(StorageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cons := newPubMember(t, group, "/st/c", changed, true, withStore(cstore))
	const n = 20
	payloads := make([][]byte, n)
	for i := range payloads {
		payloads[i] = []byte{byte(i)}
	}
	if _, err := prod.s.PublishBatch(t.Context(), payloads); err != nil {
		t.Fatal(err)
	}
	pk := prod.key()
	waitUntil(t, changed, 10*time.Second, func() bool { return len(cons.received(pk)) == n },
		func() string { return fmt.Sprintf("%+v", cons.s.DataStats()) })
	cons.stop()

	pubs, err := cstore.FetchedRange(pk.Node, pk.Boot, 1, math.MaxUint64, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pubs) != n {
		t.Errorf("store holds %d of the %d publications delivered", len(pubs), n)
	}
	st, err := cstore.State()
	if err != nil {
		t.Fatal(err)
	}
	v, err := wire.DecodeStateVector(st.Vector)
	if err != nil {
		t.Fatalf("saved vector: %v", err)
	}
	if got := v.Get(pk.Node, pk.Boot); got != n {
		t.Errorf("saved vector has the producer at %d, want %d (all delivered): %v", got, n, v)
	}
	if s := cons.s.DataStats(); s.StoreErrors != 0 {
		t.Errorf("store errors: %+v", s)
	}
}

// A producer stopped cleanly and started again on its store continues
// right after its last publication, in the same incarnation: no gap,
// nothing for peers to skip or report missed.
func TestPublishCleanRestartContinues(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	cfg := StorageConfig{}
	store, err := NewMemoryStorage(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prod := newPubMember(t, group, "/cr/p", changed, true, withStore(store))
	cons := newPubMember(t, group, "/cr/c", changed, true, nil)
	for i := range 4 {
		publishOK(t, prod, []byte{'a' + byte(i)})
	}
	pk := prod.key()
	waitUntil(t, changed, 10*time.Second, func() bool { return len(cons.received(pk)) == 4 },
		func() string { return fmt.Sprintf("%+v", cons.s.DataStats()) })
	prod.stop()
	st, err := store.State()
	if err != nil {
		t.Fatal(err)
	}
	if st.Boot != pk.Boot || st.Reserved != 4 {
		t.Errorf("after a clean stop the reservation is (boot %d, %d), want (%d, 4)", st.Boot, st.Reserved, pk.Boot)
	}
	store2, err := store.Reopen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prod2 := newPubMember(t, group, "/cr/p", changed, true, withStore(store2))
	if prod2.s.Boot() != pk.Boot {
		t.Fatalf("restarted with boot %d, want %d", prod2.s.Boot(), pk.Boot)
	}
	pub := publishOK(t, prod2, []byte("e"))
	if pub.Seq != 5 {
		t.Errorf("first publication after a clean restart is %d, want 5", pub.Seq)
	}
	waitUntil(t, changed, 10*time.Second, func() bool { return len(cons.received(pk)) == 5 },
		cons.status)
	if got := cons.received(pk)[4]; got.Seq != 5 || string(got.Bytes()) != "e" {
		t.Errorf("after the restart: seq %d %q", got.Seq, got.Bytes())
	}
	if m := cons.missedCopy(); len(m) != 0 {
		t.Errorf("peer reported missed %+v", m)
	}
	if s := cons.s.DataStats(); s.Unavailable != 0 || s.FetchFailures != 0 {
		t.Errorf("peer: %+v", s)
	}
	// The restarted member reserves again before it goes on.
	if st, err := store2.State(); err != nil || st.Reserved < 5 {
		t.Errorf("reservation after publishing 5: %+v %v", st, err)
	}
	cons.checkErrs(t)
}

// After a crash (no clean stop) the producer resumes above its
// reservation, never reusing a number; a peer skips the reserved run with
// one Interest and one Missed, and the next publication is delivered as
// soon as it is fetched, not held behind the run.
func TestPublishCrashRestartDeliversPromptly(t *testing.T) {
	for _, bare := range []bool{true, false} {
		t.Run(map[bool]string{true: "bare", false: "engine"}[bare], func(t *testing.T) { testCrashRestartPrompt(t, bare) })
	}
}

func testCrashRestartPrompt(t *testing.T, bare bool) {
	group := testGroup(t)
	changed := newSignal()
	cfg := StorageConfig{}
	store, err := NewMemoryStorage(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prod := newPubMember(t, group, "/cc/p", changed, bare, withStore(store))
	var mu sync.Mutex
	fetchedAt, deliveredAt := map[uint64]time.Time{}, map[uint64]time.Time{}
	cons := newPubMember(t, group, "/cc/c", changed, bare, func(c *Config) {
		inner := c.Data.OnMessage
		c.Data.OnMessage = func(m Message) {
			mu.Lock()
			deliveredAt[m.Seq] = time.Now()
			mu.Unlock()
			inner(m)
		}
	})
	sub, err := cons.s.Subscribe(SubscribeOptions{}) // unordered: as fetched
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for m := range sub.C {
			mu.Lock()
			fetchedAt[m.Seq] = time.Now()
			mu.Unlock()
		}
	}()
	for i := range 4 {
		publishOK(t, prod, []byte{'a' + byte(i)})
	}
	pk := prod.key()
	waitUntil(t, changed, 10*time.Second, func() bool { return len(cons.received(pk)) == 4 },
		func() string { return fmt.Sprintf("%+v", cons.s.DataStats()) })
	st, err := store.State()
	if err != nil {
		t.Fatal(err)
	}
	// A crash: the store is taken from under the running member, whose
	// stop then writes nothing (no release).
	store2, err := store.Reopen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prod.stop()
	// The restarted producer answers one Interest of a burst and drops
	// the others (ServeQueue 1): the peer's attempts within the run
	// that get no answer must not hold back what follows the run.
	prod2 := newPubMember(t, group, "/cc/p", changed, bare, func(c *Config) {
		c.Data.Storage = store2
		c.Data.ServeQueue = 1
	})
	pub := publishOK(t, prod2, []byte("after"))
	published := time.Now()
	if pub.Seq != st.Reserved+1 {
		t.Errorf("first publication after a crash is %d, want %d (above the reservation)", pub.Seq, st.Reserved+1)
	}
	waitUntil(t, changed, 10*time.Second, func() bool { return len(cons.received(pk)) == 5 },
		cons.status)
	missed := cons.missedCopy()
	if len(missed) != 1 || missed[0].Low != 5 || missed[0].High != st.Reserved {
		t.Errorf("missed %+v, want one run 5..%d", missed, st.Reserved)
	}
	if s := cons.s.DataStats(); s.FetchFailures != 0 || s.Fetcher.GivenUp != 0 {
		t.Errorf("peer: %+v", s)
	}
	mu.Lock()
	f, d := fetchedAt[pub.Seq], deliveredAt[pub.Seq]
	mu.Unlock()
	if f.IsZero() || f.After(d) {
		// The subscription's goroutine ran after the delivery's: the
		// fetch was no later than the delivery.
		f = d
	}
	if lag := d.Sub(f); lag > 250*time.Millisecond {
		t.Errorf("publication %d delivered %v after it was fetched", pub.Seq, lag)
	}
	// The producer may drop the first Interest for the new publication
	// too (it came in the burst): one segment retry, SegmentLifetime
	// (1 s) later, is allowed; an attempt of the run left to time out
	// held it 2-4 s.
	if lag := d.Sub(published); lag > 1500*time.Millisecond {
		t.Errorf("publication %d delivered %v after it was published", pub.Seq, lag)
	}
	t.Logf("publication %d: fetched to delivered %v, published to delivered %v; producer dropped %d Interests",
		pub.Seq, d.Sub(f), d.Sub(published), prod2.s.DataStats().ServeDropped)
	cons.checkErrs(t)
}
