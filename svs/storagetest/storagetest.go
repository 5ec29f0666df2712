// Package storagetest is the conformance suite of svs.Storage: every
// implementation runs it from its own tests,
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storagetest.Opener {
//			path := filepath.Join(t.TempDir(), "store.db")
//			return func(cfg svs.StorageConfig) (svs.Storage, error) {
//				return boltstore.Open(path, boltstore.Options{StorageConfig: cfg})
//			}
//		})
//	}
//
// and so shows what the interface promises: the reservation never goes
// down, what a write returned from is there after a reopen, retention by
// count, age and bytes, ranges, large publications, concurrent readers
// and writers, and errors after Close. Crash safety (SIGKILL) needs a
// process of its own and is each durable implementation's test.
package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// Opener opens one store. The first call creates it empty; each later
// call, made after the store it returned before was closed, opens the same
// store again with everything committed to it, under the new config.
type Opener func(cfg svs.StorageConfig) (svs.Storage, error)

// Run runs the suite. newStore is called once per subtest and returns an
// Opener for a new store of the implementation under test (in t.TempDir()
// for one on disk).
func Run(t *testing.T, newStore func(t *testing.T) Opener) {
	for _, tc := range []struct {
		name string
		f    func(t *testing.T, h *harness)
	}{
		{"Empty", testEmpty},
		{"ReservationNeverGoesDown", testReservation},
		{"ReleaseLowersToStored", testRelease},
		{"OwnNeedsReservation", testOwnNeedsReservation},
		{"OwnDuplicates", testOwnDuplicates},
		{"InvalidPublications", testInvalid},
		{"Fetched", testFetched},
		{"Ranges", testRanges},
		{"Vector", testVector},
		{"ReopenKeepsCommitted", testReopen},
		{"RetentionCount", testRetentionCount},
		{"RetentionBytes", testRetentionBytes},
		{"RetentionAge", testRetentionAge},
		{"RetentionAcrossBoots", testRetentionBoots},
		{"LargePublications", testLarge},
		{"ConcurrentReadersAndWriters", testConcurrent},
		{"Closed", testClosed},
		{"CloseDuringWrites", testCloseDuringWrites},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &harness{t: t, open: newStore(t), clock: time.Unix(1_700_000_000, 0)}
			tc.f(t, h)
		})
	}
}

// harness holds one subtest's store and its fake clock.
type harness struct {
	t     *testing.T
	open  Opener
	mu    sync.Mutex
	clock time.Time
	cur   svs.Storage
}

func (h *harness) now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clock
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clock = h.clock.Add(d)
}

// store closes the current store, if any, and opens the store again with
// the retention given.
func (h *harness) store(own, fetched svs.Retention) svs.Storage {
	h.t.Helper()
	if h.cur != nil {
		if err := h.cur.Close(); err != nil {
			h.t.Fatalf("Close: %v", err)
		}
	}
	s, err := h.open(svs.StorageConfig{Own: own, Fetched: fetched, Now: h.now})
	if err != nil {
		h.t.Fatalf("open: %v", err)
	}
	h.cur = s
	h.t.Cleanup(func() { _ = s.Close() })
	return s
}

func (h *harness) unbounded() svs.Storage { return h.store(svs.Retention{}, svs.Retention{}) }

// payload is the deterministic content of a publication, so a reader can
// tell a right answer from a wrong one.
func payload(node core.Name, boot, seq uint64, size int) []byte {
	b := make([]byte, size)
	x := uint64(len(node))*0x9e3779b97f4a7c15 ^ boot*0xbf58476d1ce4e5b9 ^ seq*0x94d049bb133111eb
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// pub is a publication of one segment of size bytes.
func pub(node core.Name, boot, seq uint64, size int) svs.Publication {
	return svs.Publication{Node: node, Boot: boot, Seq: seq, Segments: [][]byte{payload(node, boot, seq, size)}}
}

// checkPub fails unless p is exactly what pub(node, boot, seq, size)
// stored, in segs segments.
func checkPub(t *testing.T, p svs.Publication, want svs.Publication) {
	t.Helper()
	if p.Node != want.Node || p.Boot != want.Boot || p.Seq != want.Seq {
		t.Fatalf("got publication (%q, %d, %d), want (%q, %d, %d)", p.Node, p.Boot, p.Seq, want.Node, want.Boot, want.Seq)
	}
	if len(p.Segments) != len(want.Segments) {
		t.Fatalf("(%d, %d): %d segments, want %d", p.Boot, p.Seq, len(p.Segments), len(want.Segments))
	}
	for i := range want.Segments {
		if !bytes.Equal(p.Segments[i], want.Segments[i]) {
			t.Fatalf("(%d, %d): segment %d differs (%d bytes, want %d)", p.Boot, p.Seq, i, len(p.Segments[i]), len(want.Segments[i]))
		}
	}
}

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustIs(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// seqs lists the sequence numbers of ps.
func seqs(ps []svs.Publication) []uint64 {
	out := make([]uint64, len(ps))
	for i, p := range ps {
		out[i] = p.Seq
	}
	return out
}

func sameSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func ownSeqs(t *testing.T, s svs.Storage, boot uint64) []uint64 {
	t.Helper()
	ps, err := s.OwnRange(boot, 0, math.MaxUint64, 0)
	mustNil(t, "OwnRange", err)
	return seqs(ps)
}

func fetchedSeqs(t *testing.T, s svs.Storage, node core.Name, boot uint64) []uint64 {
	t.Helper()
	ps, err := s.FetchedRange(node, boot, 0, math.MaxUint64, 0)
	mustNil(t, "FetchedRange", err)
	return seqs(ps)
}

func span(lo, hi uint64) []uint64 {
	var out []uint64
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

func testEmpty(t *testing.T, h *harness) {
	s := h.unbounded()
	st, err := s.State()
	mustNil(t, "State", err)
	if st.Boot != 0 || st.Reserved != 0 || len(st.Vector) != 0 {
		t.Fatalf("State of a new store = %+v, want zero", st)
	}
	_, err = s.Own(1, 1)
	mustIs(t, "Own", err, svs.ErrNotFound)
	_, err = s.Fetched("n", 1, 1)
	mustIs(t, "Fetched", err, svs.ErrNotFound)
	if got := ownSeqs(t, s, 1); len(got) != 0 {
		t.Fatalf("OwnRange of a new store = %v", got)
	}
	mustNil(t, "Prune", s.Prune())
}

func testReservation(t *testing.T, h *harness) {
	s := h.unbounded()
	steps := []struct {
		boot, seq uint64
		err       error
		wantBoot  uint64
		wantRes   uint64
	}{
		{100, 10, nil, 100, 10},
		{100, 10, nil, 100, 10},                          // the same: a no-op
		{100, 9, svs.ErrReservationBackwards, 100, 10},   // lower seq
		{99, 1000, svs.ErrReservationBackwards, 100, 10}, // lower boot, whatever the seq
		{100, 2048, nil, 100, 2048},
		{101, 0, nil, 101, 0}, // a new incarnation starts anywhere
		{100, 5000, svs.ErrReservationBackwards, 101, 0},
		{101, math.MaxUint64, nil, 101, math.MaxUint64},
	}
	for i, st := range steps {
		err := s.Reserve(st.boot, st.seq)
		if st.err == nil {
			mustNil(t, fmt.Sprintf("step %d: Reserve(%d, %d)", i, st.boot, st.seq), err)
		} else {
			mustIs(t, fmt.Sprintf("step %d: Reserve(%d, %d)", i, st.boot, st.seq), err, st.err)
		}
		got, err := s.State()
		mustNil(t, "State", err)
		if got.Boot != st.wantBoot || got.Reserved != st.wantRes {
			t.Fatalf("step %d: State = (boot %d, reserved %d), want (%d, %d)", i, got.Boot, got.Reserved, st.wantBoot, st.wantRes)
		}
		// Every step survives a reopen, refused ones changing nothing.
		s = h.unbounded()
		got, err = s.State()
		mustNil(t, "State after reopen", err)
		if got.Boot != st.wantBoot || got.Reserved != st.wantRes {
			t.Fatalf("step %d after reopen: State = (boot %d, reserved %d), want (%d, %d)", i, got.Boot, got.Reserved, st.wantBoot, st.wantRes)
		}
	}
}

// testRelease: Release lowers the reservation of the current boot to the
// number given or the highest own publication of that boot stored,
// whichever is higher; any other boot, or a number not below the mark,
// changes nothing; a PutOwn above the lowered mark is refused; Reserve
// goes on from it; every step survives a reopen.
func testRelease(t *testing.T, h *harness) {
	s := h.unbounded()
	mustNil(t, "Reserve", s.Reserve(7, 100))
	mustNil(t, "Reserve", s.Reserve(9, 1024))
	mustNil(t, "PutOwn", s.PutOwn(pub("", 7, 50, 10), pub("", 9, 3, 10), pub("", 9, 6, 10)))
	steps := []struct {
		boot, seq uint64
		wantRes   uint64
	}{
		{8, 2, 1024},    // not the current boot: nothing
		{7, 2, 1024},    // an earlier boot: nothing (its own publications are not looked at)
		{9, 2000, 1024}, // above the mark: nothing
		{9, 4, 6},       // 6 is stored: the mark stays at it
		{9, 6, 6},       // the mark itself: nothing
		{9, 0, 6},
	}
	for i, st := range steps {
		mustNil(t, fmt.Sprintf("step %d: Release(%d, %d)", i, st.boot, st.seq), s.Release(st.boot, st.seq))
		for _, reopen := range []bool{false, true} {
			if reopen {
				s = h.unbounded()
			}
			got, err := s.State()
			mustNil(t, "State", err)
			if got.Boot != 9 || got.Reserved != st.wantRes {
				t.Fatalf("step %d (reopened %v): State = (boot %d, reserved %d), want (9, %d)", i, reopen, got.Boot, got.Reserved, st.wantRes)
			}
		}
	}
	mustIs(t, "PutOwn above the released mark", s.PutOwn(pub("", 9, 7, 10)), svs.ErrNotReserved)
	mustNil(t, "PutOwn at the mark again", s.PutOwn(pub("", 9, 6, 10)))
	mustNil(t, "Reserve from the released mark", s.Reserve(9, 7))
	mustNil(t, "PutOwn", s.PutOwn(pub("", 9, 7, 10)))

	// With nothing stored of the boot, the mark goes down to the number.
	mustNil(t, "Reserve", s.Reserve(10, 1024))
	mustNil(t, "Release", s.Release(10, 4))
	got, err := s.State()
	mustNil(t, "State", err)
	if got.Boot != 10 || got.Reserved != 4 {
		t.Fatalf("State = (boot %d, reserved %d), want (10, 4)", got.Boot, got.Reserved)
	}
	mustNil(t, "Close", s.Close())
	mustIs(t, "Release after Close", s.Release(10, 1), svs.ErrStorageClosed)
}

func testOwnNeedsReservation(t *testing.T, h *harness) {
	s := h.unbounded()
	mustIs(t, "PutOwn before any Reserve", s.PutOwn(pub("", 100, 1, 10)), svs.ErrNotReserved)
	mustNil(t, "Reserve", s.Reserve(100, 5))
	mustNil(t, "PutOwn seq 5", s.PutOwn(pub("", 100, 5, 10)))
	mustIs(t, "PutOwn seq 6", s.PutOwn(pub("", 100, 6, 10)), svs.ErrNotReserved)
	mustIs(t, "PutOwn of a later boot", s.PutOwn(pub("", 101, 1, 10)), svs.ErrNotReserved)
	// A batch with one publication over the mark stores nothing.
	mustIs(t, "PutOwn batch", s.PutOwn(pub("", 100, 1, 10), pub("", 100, 7, 10)), svs.ErrNotReserved)
	if got := ownSeqs(t, s, 100); !sameSeqs(got, []uint64{5}) {
		t.Fatalf("after a refused batch: %v, want [5]", got)
	}
	// Earlier incarnations are covered whatever their seq.
	mustNil(t, "Reserve new boot", s.Reserve(101, 1))
	mustNil(t, "PutOwn earlier boot", s.PutOwn(pub("", 100, 1_000_000, 10)))
}

func testOwnDuplicates(t *testing.T, h *harness) {
	s := h.unbounded()
	mustNil(t, "Reserve", s.Reserve(7, 100))
	first := pub("", 7, 3, 50)
	mustNil(t, "PutOwn", s.PutOwn(first))
	mustNil(t, "PutOwn again, same content (a retry)", s.PutOwn(first))
	other := first
	other.Segments = [][]byte{[]byte("something else")}
	mustIs(t, "PutOwn same seq, other content", s.PutOwn(other), svs.ErrDuplicate)
	mustIs(t, "PutOwn batch with a reused seq", s.PutOwn(pub("", 7, 4, 10), other), svs.ErrDuplicate)
	mustIs(t, "PutOwn one batch, one seq twice", s.PutOwn(pub("", 7, 5, 10), pub("", 7, 5, 11)), svs.ErrDuplicate)
	mustNil(t, "PutOwn one batch, one seq twice, same content", s.PutOwn(pub("", 7, 6, 10), pub("", 7, 6, 10)))
	p, err := s.Own(7, 3)
	mustNil(t, "Own", err)
	checkPub(t, p, first)
	if got := ownSeqs(t, s, 7); !sameSeqs(got, []uint64{3, 6}) {
		t.Fatalf("own seqs %v, want [3 6] (refused batches store nothing)", got)
	}
	s = h.unbounded()
	mustIs(t, "PutOwn other content after reopen", s.PutOwn(other), svs.ErrDuplicate)
}

func testInvalid(t *testing.T, h *harness) {
	s := h.unbounded()
	mustNil(t, "Reserve", s.Reserve(1, 10))
	for _, tc := range []struct {
		name    string
		p       svs.Publication
		fetched bool
	}{
		{"own seq 0", svs.Publication{Boot: 1, Seq: 0, Segments: [][]byte{{1}}}, false},
		{"own without segments", svs.Publication{Boot: 1, Seq: 1}, false},
		{"own with an empty segment", svs.Publication{Boot: 1, Seq: 1, Segments: [][]byte{{1}, {}}}, false},
		{"fetched without node", svs.Publication{Boot: 1, Seq: 1, Segments: [][]byte{{1}}}, true},
		{"fetched seq 0", svs.Publication{Node: "n", Boot: 1, Seq: 0, Segments: [][]byte{{1}}}, true},
		{"fetched without segments", svs.Publication{Node: "n", Boot: 1, Seq: 1}, true},
	} {
		var err error
		if tc.fetched {
			err = s.PutFetched(pub("n", 1, 2, 5), tc.p)
		} else {
			err = s.PutOwn(pub("", 1, 2, 5), tc.p)
		}
		mustIs(t, tc.name, err, svs.ErrInvalidPublication)
	}
	if got := ownSeqs(t, s, 1); len(got) != 0 {
		t.Fatalf("refused batches stored own %v", got)
	}
	if got := fetchedSeqs(t, s, "n", 1); len(got) != 0 {
		t.Fatalf("refused batches stored fetched %v", got)
	}
}

func testFetched(t *testing.T, h *harness) {
	s := h.unbounded()
	// "ab" starts with "a": the keys of one node must not run into another's.
	a, ab := core.Name("\x08\x01a"), core.Name("\x08\x01a\x08\x01b")
	mustNil(t, "PutFetched", s.PutFetched(pub(a, 5, 1, 20), pub(a, 5, 2, 20), pub(ab, 5, 1, 30), pub(a, 6, 1, 40)))
	p, err := s.Fetched(a, 5, 2)
	mustNil(t, "Fetched", err)
	checkPub(t, p, pub(a, 5, 2, 20))
	p, err = s.Fetched(ab, 5, 1)
	mustNil(t, "Fetched", err)
	checkPub(t, p, pub(ab, 5, 1, 30))
	if got := fetchedSeqs(t, s, a, 5); !sameSeqs(got, []uint64{1, 2}) {
		t.Fatalf("FetchedRange(a, 5) = %v, want [1 2]", got)
	}
	if got := fetchedSeqs(t, s, ab, 5); !sameSeqs(got, []uint64{1}) {
		t.Fatalf("FetchedRange(ab, 5) = %v, want [1]", got)
	}
	// The first copy stays.
	again := pub(a, 5, 1, 20)
	again.Segments = [][]byte{[]byte("later copy")}
	mustNil(t, "PutFetched again", s.PutFetched(again))
	p, err = s.Fetched(a, 5, 1)
	mustNil(t, "Fetched", err)
	checkPub(t, p, pub(a, 5, 1, 20))
	// Fetched and own publications do not mix, and fetched ones need no
	// reservation.
	_, err = s.Own(5, 1)
	mustIs(t, "Own of a fetched key", err, svs.ErrNotFound)
	_, err = s.Fetched(a, 5, 3)
	mustIs(t, "Fetched missing", err, svs.ErrNotFound)
	if p.Stored.IsZero() {
		t.Fatal("Stored not set")
	}
	if !p.Stored.Equal(h.now()) {
		t.Fatalf("Stored = %v, want the store's clock %v", p.Stored, h.now())
	}
}

func testRanges(t *testing.T, h *harness) {
	s := h.unbounded()
	mustNil(t, "Reserve", s.Reserve(9, 100))
	var batch []svs.Publication
	for _, q := range []uint64{1, 2, 3, 5, 8, 13, 21} { // gaps on purpose
		batch = append(batch, pub("", 9, q, 100))
	}
	mustNil(t, "PutOwn", s.PutOwn(batch...))
	mustNil(t, "PutOwn other boot", s.PutOwn(pub("", 8, 4, 100), pub("", 8, 200, 100)))
	mustNil(t, "PutFetched", s.PutFetched(pub("n", 9, 4, 100), pub("n", 9, 6, 100), pub("n", 10, 1, 100)))
	for _, tc := range []struct {
		lo, hi   uint64
		maxBytes int
		want     []uint64
	}{
		{0, math.MaxUint64, 0, []uint64{1, 2, 3, 5, 8, 13, 21}},
		{1, 21, 0, []uint64{1, 2, 3, 5, 8, 13, 21}},
		{4, 12, 0, []uint64{5, 8}},
		{6, 7, 0, nil},
		{21, 21, 0, []uint64{21}},
		{22, 1000, 0, nil},
		{5, 4, 0, nil},
		{0, math.MaxUint64, 350, []uint64{1, 2, 3}},
		{0, math.MaxUint64, 300, []uint64{1, 2, 3}},
		{0, math.MaxUint64, 299, []uint64{1, 2}},
		{0, math.MaxUint64, 1, []uint64{1}}, // at least one
		{8, math.MaxUint64, 1, []uint64{8}},
	} {
		ps, err := s.OwnRange(9, tc.lo, tc.hi, tc.maxBytes)
		mustNil(t, "OwnRange", err)
		if got := seqs(ps); !sameSeqs(got, tc.want) {
			t.Errorf("OwnRange(9, %d, %d, %d) = %v, want %v", tc.lo, tc.hi, tc.maxBytes, got, tc.want)
		}
		for _, p := range ps {
			checkPub(t, p, pub("", 9, p.Seq, 100))
		}
	}
	if got := ownSeqs(t, s, 8); !sameSeqs(got, []uint64{4, 200}) {
		t.Errorf("OwnRange(8) = %v, want [4 200]", got)
	}
	if got := ownSeqs(t, s, 10); len(got) != 0 {
		t.Errorf("OwnRange(10) = %v, want none", got)
	}
	ps, err := s.FetchedRange("n", 9, 5, 10, 0)
	mustNil(t, "FetchedRange", err)
	if got := seqs(ps); !sameSeqs(got, []uint64{6}) {
		t.Errorf("FetchedRange(n, 9, 5, 10) = %v, want [6]", got)
	}
	checkPub(t, ps[0], pub("n", 9, 6, 100))
}

func testVector(t *testing.T, h *harness) {
	s := h.unbounded()
	mustNil(t, "SaveVector", s.SaveVector([]byte{0xc9, 1, 2}))
	v := []byte{0xc9, 3, 4, 5}
	mustNil(t, "SaveVector", s.SaveVector(v))
	v[1] = 0xff // the store kept a copy
	st, err := s.State()
	mustNil(t, "State", err)
	if !bytes.Equal(st.Vector, []byte{0xc9, 3, 4, 5}) {
		t.Fatalf("Vector = %x", st.Vector)
	}
	st.Vector[0] = 0 // and handed one out
	s = h.unbounded()
	st, err = s.State()
	mustNil(t, "State", err)
	if !bytes.Equal(st.Vector, []byte{0xc9, 3, 4, 5}) {
		t.Fatalf("Vector after reopen = %x", st.Vector)
	}
}

func testReopen(t *testing.T, h *harness) {
	s := h.unbounded()
	mustNil(t, "Reserve", s.Reserve(42, 1024))
	for q := uint64(1); q <= 100; q++ {
		mustNil(t, "PutOwn", s.PutOwn(pub("", 42, q, int(q))))
		mustNil(t, "PutFetched", s.PutFetched(pub("peer", 7, q, int(q)+1)))
		h.advance(time.Second)
	}
	mustNil(t, "SaveVector", s.SaveVector([]byte("vector")))
	for range 3 {
		s = h.unbounded()
		st, err := s.State()
		mustNil(t, "State", err)
		if st.Boot != 42 || st.Reserved != 1024 || string(st.Vector) != "vector" {
			t.Fatalf("State after reopen = %+v", st)
		}
		ps, err := s.OwnRange(42, 1, 100, 0)
		mustNil(t, "OwnRange", err)
		if len(ps) != 100 {
			t.Fatalf("%d own publications after reopen, want 100", len(ps))
		}
		start := time.Unix(1_700_000_000, 0)
		for i, p := range ps {
			checkPub(t, p, pub("", 42, uint64(i+1), i+1))
			if want := start.Add(time.Duration(i) * time.Second); !p.Stored.Equal(want) {
				t.Fatalf("seq %d Stored = %v, want %v", p.Seq, p.Stored, want)
			}
		}
		fs, err := s.FetchedRange("peer", 7, 1, 100, 0)
		mustNil(t, "FetchedRange", err)
		if len(fs) != 100 {
			t.Fatalf("%d fetched publications after reopen, want 100", len(fs))
		}
		for i, p := range fs {
			checkPub(t, p, pub("peer", 7, uint64(i+1), i+2))
		}
	}
}

func testRetentionCount(t *testing.T, h *harness) {
	s := h.store(svs.Retention{MaxCount: 10}, svs.Retention{MaxCount: 4})
	mustNil(t, "Reserve", s.Reserve(1, 1000))
	for q := uint64(1); q <= 25; q++ {
		mustNil(t, "PutOwn", s.PutOwn(pub("", 1, q, 10)))
	}
	if got := ownSeqs(t, s, 1); !sameSeqs(got, span(16, 25)) {
		t.Fatalf("own after 25 with MaxCount 10: %v", got)
	}
	// A batch larger than the bound keeps its newest.
	var batch []svs.Publication
	for q := uint64(26); q <= 45; q++ {
		batch = append(batch, pub("", 1, q, 10))
	}
	mustNil(t, "PutOwn batch", s.PutOwn(batch...))
	if got := ownSeqs(t, s, 1); !sameSeqs(got, span(36, 45)) {
		t.Fatalf("own after a batch of 20: %v", got)
	}
	// Fetched ones go in the order they were stored, whatever their names.
	order := []svs.Publication{pub("z", 1, 9, 10), pub("a", 1, 1, 10), pub("m", 5, 3, 10), pub("a", 1, 2, 10), pub("b", 1, 1, 10), pub("z", 1, 1, 10)}
	for _, p := range order {
		mustNil(t, "PutFetched", s.PutFetched(p))
	}
	for i, p := range order {
		_, err := s.Fetched(p.Node, p.Boot, p.Seq)
		if i < 2 {
			mustIs(t, fmt.Sprintf("Fetched %d (evicted)", i), err, svs.ErrNotFound)
		} else {
			mustNil(t, fmt.Sprintf("Fetched %d", i), err)
		}
	}
	// Own and fetched are bounded apart: fetched did not evict own ones.
	if got := ownSeqs(t, s, 1); len(got) != 10 {
		t.Fatalf("own count %d after fetched writes, want 10", len(got))
	}
	// A tighter bound at reopen applies at the next Prune.
	s = h.store(svs.Retention{MaxCount: 3}, svs.Retention{MaxCount: 1})
	mustNil(t, "Prune", s.Prune())
	if got := ownSeqs(t, s, 1); !sameSeqs(got, span(43, 45)) {
		t.Fatalf("own after reopen with MaxCount 3: %v", got)
	}
	if got := fetchedSeqs(t, s, "z", 1); !sameSeqs(got, []uint64{1}) {
		t.Fatalf("fetched after reopen with MaxCount 1: %v", got)
	}
}

func testRetentionBytes(t *testing.T, h *harness) {
	s := h.store(svs.Retention{MaxBytes: 1000}, svs.Retention{MaxBytes: 500})
	mustNil(t, "Reserve", s.Reserve(1, 1000))
	for q := uint64(1); q <= 10; q++ {
		mustNil(t, "PutOwn", s.PutOwn(pub("", 1, q, 300)))
	}
	if got := ownSeqs(t, s, 1); !sameSeqs(got, []uint64{8, 9, 10}) {
		t.Fatalf("own after 10×300 B with MaxBytes 1000: %v", got)
	}
	// One publication over the bound alone stays (what Publish just
	// reported is servable), and evicts everything older.
	mustNil(t, "PutOwn big", s.PutOwn(pub("", 1, 11, 5000)))
	if got := ownSeqs(t, s, 1); !sameSeqs(got, []uint64{11}) {
		t.Fatalf("own after a 5000 B publication: %v", got)
	}
	mustNil(t, "PutOwn", s.PutOwn(pub("", 1, 12, 10)))
	if got := ownSeqs(t, s, 1); !sameSeqs(got, []uint64{12}) {
		t.Fatalf("own after the next: %v", got)
	}
	// Bytes count segments, all of them.
	multi := svs.Publication{Boot: 1, Seq: 13, Segments: [][]byte{payload("", 1, 13, 400), payload("", 2, 13, 400)}}
	mustNil(t, "PutOwn two segments", s.PutOwn(multi))
	mustNil(t, "PutOwn", s.PutOwn(pub("", 1, 14, 300)))
	if got := ownSeqs(t, s, 1); !sameSeqs(got, []uint64{14}) {
		t.Fatalf("own after 800 B + 300 B: %v", got)
	}
	for q := uint64(1); q <= 6; q++ {
		mustNil(t, "PutFetched", s.PutFetched(pub("n", 1, q, 200)))
	}
	if got := fetchedSeqs(t, s, "n", 1); !sameSeqs(got, []uint64{5, 6}) {
		t.Fatalf("fetched after 6×200 B with MaxBytes 500: %v", got)
	}
	// The byte count survives a reopen: one more still evicts.
	s = h.store(svs.Retention{MaxBytes: 1000}, svs.Retention{MaxBytes: 500})
	mustNil(t, "PutFetched", s.PutFetched(pub("n", 1, 7, 200)))
	if got := fetchedSeqs(t, s, "n", 1); !sameSeqs(got, []uint64{6, 7}) {
		t.Fatalf("fetched after reopen and one more: %v", got)
	}
}

func testRetentionAge(t *testing.T, h *harness) {
	s := h.store(svs.Retention{MaxAge: time.Hour}, svs.Retention{MaxAge: 10 * time.Minute})
	mustNil(t, "Reserve", s.Reserve(1, 1000))
	for q := uint64(1); q <= 6; q++ {
		mustNil(t, "PutOwn", s.PutOwn(pub("", 1, q, 10)))
		mustNil(t, "PutFetched", s.PutFetched(pub("n", 1, q, 10)))
		h.advance(10 * time.Minute)
	}
	// now = start+60 min: own seq 1 (stored at start) is exactly an hour
	// old: not past MaxAge. Fetched seqs 1..5 are past 10 minutes.
	mustNil(t, "Prune", s.Prune())
	if got := ownSeqs(t, s, 1); !sameSeqs(got, span(1, 6)) {
		t.Fatalf("own at exactly MaxAge: %v", got)
	}
	if got := fetchedSeqs(t, s, "n", 1); !sameSeqs(got, []uint64{6}) {
		t.Fatalf("fetched after 10 min: %v", got)
	}
	h.advance(time.Second)
	// Past MaxAge goes even if it is the newest, and without a write only
	// at Prune.
	h.advance(25 * time.Minute)
	if got := ownSeqs(t, s, 1); !sameSeqs(got, span(1, 6)) {
		t.Fatalf("own before Prune: %v", got)
	}
	mustNil(t, "Prune", s.Prune())
	if got := ownSeqs(t, s, 1); !sameSeqs(got, []uint64{4, 5, 6}) {
		t.Fatalf("own after Prune at 86 min: %v", got)
	}
	if got := fetchedSeqs(t, s, "n", 1); len(got) != 0 {
		t.Fatalf("fetched after Prune at 86 min: %v", got)
	}
	// A write prunes too.
	h.advance(20 * time.Minute)
	mustNil(t, "PutOwn", s.PutOwn(pub("", 1, 7, 10)))
	if got := ownSeqs(t, s, 1); !sameSeqs(got, []uint64{6, 7}) {
		t.Fatalf("own after a write at 106 min: %v", got)
	}
}

func testRetentionBoots(t *testing.T, h *harness) {
	s := h.store(svs.Retention{MaxCount: 3}, svs.Retention{})
	mustNil(t, "Reserve", s.Reserve(10, 100))
	mustNil(t, "PutOwn", s.PutOwn(pub("", 10, 98, 1), pub("", 10, 99, 1), pub("", 10, 100, 1)))
	mustNil(t, "Reserve", s.Reserve(11, 100))
	mustNil(t, "PutOwn", s.PutOwn(pub("", 11, 1, 1), pub("", 11, 2, 1)))
	// The earlier incarnation goes first, whatever its sequence numbers.
	if got := ownSeqs(t, s, 10); !sameSeqs(got, []uint64{100}) {
		t.Fatalf("boot 10 kept %v, want [100]", got)
	}
	if got := ownSeqs(t, s, 11); !sameSeqs(got, []uint64{1, 2}) {
		t.Fatalf("boot 11 kept %v, want [1 2]", got)
	}
}

func testLarge(t *testing.T, h *harness) {
	s := h.unbounded()
	mustNil(t, "Reserve", s.Reserve(1, 10))
	segs := make([][]byte, 128)
	for i := range segs {
		segs[i] = payload("", 1, uint64(1000+i), 8192)
	}
	many := svs.Publication{Boot: 1, Seq: 1, Segments: segs}
	one := pub("", 1, 2, 4<<20)
	fetched := pub("big", 3, 1, 1<<20)
	mustNil(t, "PutOwn 128×8 KiB", s.PutOwn(many))
	mustNil(t, "PutOwn 4 MiB", s.PutOwn(one))
	mustNil(t, "PutFetched 1 MiB", s.PutFetched(fetched))
	for range 2 {
		p, err := s.Own(1, 1)
		mustNil(t, "Own", err)
		checkPub(t, p, many)
		p, err = s.Own(1, 2)
		mustNil(t, "Own", err)
		checkPub(t, p, one)
		p, err = s.Fetched("big", 3, 1)
		mustNil(t, "Fetched", err)
		checkPub(t, p, fetched)
		ps, err := s.OwnRange(1, 1, 2, 1<<20)
		mustNil(t, "OwnRange", err)
		if got := seqs(ps); !sameSeqs(got, []uint64{1}) {
			t.Fatalf("OwnRange with maxBytes 1 MiB = %v, want [1]", got)
		}
		s = h.unbounded()
	}
}

func testConcurrent(t *testing.T, h *harness) {
	s := h.store(svs.Retention{MaxCount: 1 << 20}, svs.Retention{MaxCount: 1 << 20})
	const writers, perWriter, readers = 8, 50, 4
	mustNil(t, "Reserve", s.Reserve(1, writers*perWriter))
	var acked atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, writers+readers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				q := uint64(w*perWriter + i + 1)
				if err := s.PutOwn(pub("", 1, q, 64)); err != nil {
					errs <- fmt.Errorf("PutOwn %d: %w", q, err)
					return
				}
				if err := s.PutFetched(pub("peer", 2, q, 64)); err != nil {
					errs <- fmt.Errorf("PutFetched %d: %w", q, err)
					return
				}
				acked.Add(1)
			}
		}()
	}
	var rwg sync.WaitGroup
	for r := range readers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ps, err := s.OwnRange(1, uint64(r*10+1), math.MaxUint64, 0)
				if err == nil {
					for _, p := range ps {
						if !bytes.Equal(p.Segments[0], payload("", 1, p.Seq, 64)) {
							err = fmt.Errorf("seq %d read with wrong content", p.Seq)
							break
						}
					}
				}
				if err == nil {
					_, err = s.Fetched("peer", 2, uint64(i%(writers*perWriter)+1))
					if errors.Is(err, svs.ErrNotFound) {
						err = nil // not written yet
					}
				}
				if err == nil {
					_, err = s.State()
				}
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := ownSeqs(t, s, 1); !sameSeqs(got, span(1, writers*perWriter)) {
		t.Fatalf("after %d acknowledged writes, %d own publications stored", acked.Load(), len(got))
	}
	if got := fetchedSeqs(t, s, "peer", 2); len(got) != writers*perWriter {
		t.Fatalf("%d fetched publications stored, want %d", len(got), writers*perWriter)
	}
}

func testClosed(t *testing.T, h *harness) {
	s := h.unbounded()
	mustNil(t, "Reserve", s.Reserve(1, 1))
	mustNil(t, "Close", s.Close())
	mustNil(t, "Close again", s.Close())
	for name, err := range map[string]error{
		"Reserve":    s.Reserve(1, 2),
		"PutOwn":     s.PutOwn(pub("", 1, 1, 1)),
		"PutFetched": s.PutFetched(pub("n", 1, 1, 1)),
		"SaveVector": s.SaveVector(nil),
		"Prune":      s.Prune(),
	} {
		mustIs(t, name, err, svs.ErrStorageClosed)
	}
	_, err := s.State()
	mustIs(t, "State", err, svs.ErrStorageClosed)
	_, err = s.Own(1, 1)
	mustIs(t, "Own", err, svs.ErrStorageClosed)
	_, err = s.Fetched("n", 1, 1)
	mustIs(t, "Fetched", err, svs.ErrStorageClosed)
	_, err = s.OwnRange(1, 1, 1, 0)
	mustIs(t, "OwnRange", err, svs.ErrStorageClosed)
	_, err = s.FetchedRange("n", 1, 1, 1, 0)
	mustIs(t, "FetchedRange", err, svs.ErrStorageClosed)
	// What was committed before Close is there for the next open.
	s = h.unbounded()
	st, err := s.State()
	mustNil(t, "State", err)
	if st.Boot != 1 || st.Reserved != 1 {
		t.Fatalf("State after reopen = %+v", st)
	}
}

// testCloseDuringWrites: writes racing Close either commit (and are there
// after a reopen) or fail with ErrStorageClosed; none is half done.
func testCloseDuringWrites(t *testing.T, h *harness) {
	s := h.unbounded()
	const writers, perWriter = 8, 200
	mustNil(t, "Reserve", s.Reserve(1, writers*perWriter))
	var mu sync.Mutex
	var stored []uint64
	var wg sync.WaitGroup
	started := make(chan struct{}, writers)
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				q := uint64(w*perWriter + i + 1)
				err := s.PutOwn(pub("", 1, q, 32))
				if i == 0 {
					started <- struct{}{}
				}
				if errors.Is(err, svs.ErrStorageClosed) {
					return
				}
				if err != nil {
					errs <- fmt.Errorf("PutOwn %d: %w", q, err)
					return
				}
				mu.Lock()
				stored = append(stored, q)
				mu.Unlock()
			}
		}()
	}
	for range writers {
		<-started
	}
	mustNil(t, "Close", s.Close())
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s = h.unbounded()
	for _, q := range stored {
		p, err := s.Own(1, q)
		mustNil(t, fmt.Sprintf("Own %d acknowledged before Close", q), err)
		checkPub(t, p, pub("", 1, q, 32))
	}
	if got := ownSeqs(t, s, 1); len(got) != len(stored) {
		t.Fatalf("%d own publications stored, %d acknowledged", len(got), len(stored))
	}
	t.Logf("%d of %d writes acknowledged before Close", len(stored), writers*perWriter)
}
