package svs_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/storagetest"
)

func TestMemoryStorageConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Opener {
		var last *svs.MemoryStorage
		return func(cfg svs.StorageConfig) (svs.Storage, error) {
			var err error
			if last == nil {
				last, err = svs.NewMemoryStorage(cfg)
			} else {
				last, err = last.Reopen(cfg)
			}
			return last, err
		}
	})
}

// TestMemoryStorageReopenIsACrash: Reopen of a handle that was never
// closed keeps everything written (a write returned means committed) and
// leaves the old handle unusable, as a crashed process's would be.
func TestMemoryStorageReopenIsACrash(t *testing.T) {
	m, err := svs.NewMemoryStorage(svs.StorageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Reserve(5, 10); err != nil {
		t.Fatal(err)
	}
	p := svs.Publication{Boot: 5, Seq: 3, Segments: [][]byte{[]byte("x")}}
	if err := m.PutOwn(p); err != nil {
		t.Fatal(err)
	}
	m2, err := m.Reopen(svs.StorageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Own(5, 3); err != nil {
		t.Fatalf("Own after a crash: %v", err)
	}
	if err := m.Reserve(5, 11); !errors.Is(err, svs.ErrStorageClosed) {
		t.Fatalf("old handle Reserve: %v, want ErrStorageClosed", err)
	}
	if _, err := m.Reopen(svs.StorageConfig{}); !errors.Is(err, svs.ErrStorageClosed) {
		t.Fatalf("second Reopen of one handle: %v, want ErrStorageClosed", err)
	}
}

func TestMemoryStorageInvalidConfig(t *testing.T) {
	for _, cfg := range []svs.StorageConfig{
		{Own: svs.Retention{MaxCount: -1}},
		{Fetched: svs.Retention{MaxAge: -1}},
		{Own: svs.Retention{MaxBytes: -1}},
	} {
		if _, err := svs.NewMemoryStorage(cfg); !errors.Is(err, svs.ErrInvalidConfig) {
			t.Errorf("NewMemoryStorage(%+v): %v, want ErrInvalidConfig", cfg, err)
		}
	}
}

// TestMemoryStorageEvictsAPublicationStoredAgain: a fetched publication
// evicted and stored again is kept as the newest, and evicted again in
// its new turn, not in its old one; a producer's series emptied and
// refilled starts over.
func TestMemoryStorageEvictsAPublicationStoredAgain(t *testing.T) {
	m, err := svs.NewMemoryStorage(svs.StorageConfig{Fetched: svs.Retention{MaxCount: 2}})
	if err != nil {
		t.Fatal(err)
	}
	put := func(node string, seq uint64) {
		t.Helper()
		if err := m.PutFetched(svs.Publication{Node: core.Name(node), Boot: 1, Seq: seq, Segments: [][]byte{[]byte("x")}}); err != nil {
			t.Fatal(err)
		}
	}
	has := func(node string, seq uint64) bool {
		t.Helper()
		_, err := m.Fetched(core.Name(node), 1, seq)
		if err != nil && !errors.Is(err, svs.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	put("a", 1)
	put("b", 1)
	put("b", 2) // evicts a/1: a's series is empty
	if has("a", 1) || !has("b", 1) || !has("b", 2) {
		t.Fatalf("after a1 b1 b2: a1 %v b1 %v b2 %v, want only b1 b2", has("a", 1), has("b", 1), has("b", 2))
	}
	put("a", 1) // stored again: evicts b/1
	put("b", 3) // evicts b/2, not the new a/1
	if !has("a", 1) || has("b", 1) || has("b", 2) || !has("b", 3) {
		t.Fatalf("after a1 again and b3: a1 %v b1 %v b2 %v b3 %v, want a1 b3", has("a", 1), has("b", 1), has("b", 2), has("b", 3))
	}
	put("b", 4) // evicts a/1
	if has("a", 1) || !has("b", 3) || !has("b", 4) {
		t.Fatalf("after b4: a1 %v b3 %v b4 %v, want b3 b4", has("a", 1), has("b", 3), has("b", 4))
	}
	got, err := m.FetchedRange("b", 1, 0, 10, 0)
	if err != nil || len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 4 {
		t.Fatalf("FetchedRange b: %v, %v; want seqs 3 and 4", got, err)
	}
}

// BenchmarkMemoryStoragePutFetched stores 100 B publications of 19
// producers in turn, in order, with the default retention's count bound
// reached (every store also evicts), as a member of a 20-member group
// does.
func BenchmarkMemoryStoragePutFetched(b *testing.B) {
	const producers, bound = 19, 10_000
	m, err := svs.NewMemoryStorage(svs.StorageConfig{Fetched: svs.Retention{MaxCount: bound}})
	if err != nil {
		b.Fatal(err)
	}
	names := make([]core.Name, producers)
	for i := range names {
		names[i] = core.Name(fmt.Sprintf("\x07\x10\x08\x05bench\x08\x07member%d", i))
	}
	payload := [][]byte{make([]byte, 100)}
	put := func(k int) {
		p := svs.Publication{Node: names[k%producers], Boot: 1, Seq: uint64(k/producers + 1), Segments: payload}
		if err := m.PutFetched(p); err != nil {
			b.Fatal(err)
		}
	}
	for k := range bound {
		put(k)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for k := range b.N {
		put(bound + k)
	}
}
