package boltstore_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/boltstore"
)

func open(t *testing.T, path string, opts boltstore.Options) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestOpenLocked: a store held by another handle (flock, as another
// process would hold it) fails with ErrLocked after LockTimeout, not
// never.
func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	open(t, path, boltstore.Options{})
	start := time.Now()
	_, err := boltstore.Open(path, boltstore.Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, boltstore.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("second Open took %v with a 100 ms LockTimeout", d)
	}
	t.Logf("error: %v", err)
}

// writeStore makes a store with some content and returns its path.
func writeStore(t *testing.T, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, "store.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Reserve(1, uint64(n)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		p := svs.Publication{Boot: 1, Seq: uint64(i), Segments: [][]byte{bytes.Repeat([]byte{byte(i)}, 1000)}}
		if err := st.PutOwn(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenCorrupt: a file that is not an intact store is refused with
// ErrCorrupt and left byte for byte as it was.
func TestOpenCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, dir string) string
	}{
		{"garbage", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "store.db")
			b := make([]byte, 64<<10)
			for i := range b {
				b[i] = byte(i*7 + 3)
			}
			must(t, os.WriteFile(path, b, 0o600))
			return path
		}},
		{"short text", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "store.db")
			must(t, os.WriteFile(path, []byte("not a db\n"), 0o600))
			return path
		}},
		{"both meta pages overwritten", func(t *testing.T, dir string) string {
			path := writeStore(t, dir, 20)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			must(t, err)
			defer f.Close()
			page := os.Getpagesize()
			for _, off := range []int64{0, int64(page)} {
				_, err = f.WriteAt(bytes.Repeat([]byte{0xAB}, 512), off+16)
				must(t, err)
			}
			return path
		}},
		{"truncated", func(t *testing.T, dir string) string {
			path := writeStore(t, dir, 200)
			fi, err := os.Stat(path)
			must(t, err)
			must(t, os.Truncate(path, fi.Size()/4))
			return path
		}},
		{"another program's bbolt file", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "store.db")
			db, err := bolt.Open(path, 0o600, nil)
			must(t, err)
			must(t, db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("users"))
				if err != nil {
					return err
				}
				return b.Put([]byte("alice"), []byte("1"))
			}))
			must(t, db.Close())
			return path
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.make(t, t.TempDir())
			before := fileSum(t, path)
			st, err := boltstore.Open(path, boltstore.Options{})
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, boltstore.ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
			if fileSum(t, path) != before {
				t.Fatal("Open changed the corrupt file")
			}
			t.Logf("error: %v", err)
		})
	}
}

// TestOpenDamagedPages: damaged B+tree pages under intact meta pages are
// found at Open, with or without CheckOnOpen (rebuilding the freelist
// walks every page), and reported as ErrCorrupt, not as a crash.
func TestOpenDamagedPages(t *testing.T) {
	for _, check := range []bool{true, false} {
		path := writeStore(t, t.TempDir(), 200)
		// Overwrite the header of every page after the two meta pages,
		// the freelist and the root: the B+tree pages are found from the
		// meta page's root.
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		must(t, err)
		fi, err := f.Stat()
		must(t, err)
		page := int64(os.Getpagesize())
		for off := 4 * page; off < fi.Size(); off += page {
			_, err := f.WriteAt([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x77, 0x77}, off)
			must(t, err)
		}
		must(t, f.Close())
		before := fileSum(t, path)
		_, err = boltstore.Open(path, boltstore.Options{CheckOnOpen: check})
		if !errors.Is(err, boltstore.ErrCorrupt) {
			t.Fatalf("Open (CheckOnOpen %v): %v, want ErrCorrupt", check, err)
		}
		if fileSum(t, path) != before {
			t.Fatal("Open changed the corrupt file")
		}
		t.Logf("CheckOnOpen %v: %v", check, err)
	}
}

// TestDamagedRecord: a record whose bytes are damaged inside an intact
// page is found by CheckOnOpen; without it, Open succeeds and reading that
// record fails with ErrCorrupt while the others read fine.
func TestDamagedRecord(t *testing.T) {
	path := writeStore(t, t.TempDir(), 20)
	b, err := os.ReadFile(path)
	must(t, err)
	// Record 5: ... segment length 1000 (uvarint e8 07), then 1000 × 0x05.
	i := bytes.Index(b, append([]byte{0xe8, 0x07}, bytes.Repeat([]byte{5}, 1000)...))
	if i < 0 {
		t.Fatal("record 5 not found in the file")
	}
	b[i], b[i+1] = 0xff, 0x7f // a length past the end of the record
	must(t, os.WriteFile(path, b, 0o600))
	before := fileSum(t, path)
	_, err = boltstore.Open(path, boltstore.Options{CheckOnOpen: true})
	if !errors.Is(err, boltstore.ErrCorrupt) {
		t.Fatalf("Open with CheckOnOpen: %v, want ErrCorrupt", err)
	}
	if fileSum(t, path) != before {
		t.Fatal("Open changed the corrupt file")
	}
	t.Logf("CheckOnOpen: %v", err)
	st := open(t, path, boltstore.Options{})
	if _, err := st.Own(1, 5); !errors.Is(err, boltstore.ErrCorrupt) {
		t.Fatalf("Own of the damaged record: %v, want ErrCorrupt", err)
	}
	if _, err := st.Own(1, 6); err != nil {
		t.Fatalf("Own of an intact record: %v", err)
	}
}

// TestOpenEmptyFile: an empty file (a run killed right after creating
// it) is a new store.
func TestOpenEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	must(t, os.WriteFile(path, nil, 0o600))
	st := open(t, path, boltstore.Options{})
	must(t, st.Reserve(1, 1))
}

// TestStats: concurrent writes share commits.
func TestStats(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "store.db"), boltstore.Options{})
	must(t, st.Reserve(1, 1000))
	const writers = 32
	done := make(chan error, writers)
	for w := range writers {
		go func() {
			var err error
			for i := range 10 {
				if err == nil {
					err = st.PutOwn(svs.Publication{Boot: 1, Seq: uint64(w*10 + i + 1), Segments: [][]byte{{1, 2, 3}}})
				}
			}
			done <- err
		}()
	}
	for range writers {
		must(t, <-done)
	}
	s := st.Stats()
	if s.Writes != writers*10+1 {
		t.Fatalf("Stats.Writes = %d, want %d", s.Writes, writers*10+1)
	}
	if s.Commits >= s.Writes {
		t.Fatalf("%d commits for %d concurrent writes: no group commit", s.Commits, s.Writes)
	}
	t.Logf("%d writes in %d commits", s.Writes, s.Commits)
}

// TestFullDisk: on a file system that fills up, the write that does not
// fit fails with an error, every write acknowledged before it is still
// there (now and after a reopen), and writes work again once there is
// room.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	path := filepath.Join(dir, "store.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	must(t, err)
	must(t, st.Reserve(1, 1<<20))
	payload := func(seq uint64) []byte { return bytes.Repeat([]byte{byte(seq), byte(seq >> 8)}, 1500) }
	var acked uint64
	var werr error
	for seq := uint64(1); seq < 1<<20; seq++ {
		werr = st.PutOwn(svs.Publication{Boot: 1, Seq: seq, Segments: [][]byte{payload(seq)}})
		if werr != nil {
			break
		}
		acked = seq
	}
	if werr == nil {
		t.Fatal("4 MiB took every write")
	}
	t.Logf("full after %d publications of 3000 B: %v", acked, werr)
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Errorf("error %v does not wrap ENOSPC", werr)
	}
	check := func(st *boltstore.Store, what string) {
		t.Helper()
		for seq := uint64(1); seq <= acked; seq++ {
			p, err := st.Own(1, seq)
			if err != nil {
				t.Fatalf("%s: seq %d: %v", what, seq, err)
			}
			if !bytes.Equal(p.Segments[0], payload(seq)) {
				t.Fatalf("%s: seq %d has other content", what, seq)
			}
		}
		if _, err := st.Own(1, acked+1); !errors.Is(err, svs.ErrNotFound) {
			t.Fatalf("%s: the failed write is there: %v", what, err)
		}
	}
	check(st, "after the failure")
	// Another write fails the same way, and changes nothing either.
	if err := st.PutOwn(svs.Publication{Boot: 1, Seq: acked + 1, Segments: [][]byte{payload(acked + 1)}}); err == nil {
		t.Fatal("a write succeeded on a full disk")
	}
	must(t, st.Close())
	st, err = boltstore.Open(path, boltstore.Options{})
	must(t, err)
	defer st.Close()
	check(st, "after a reopen")
	// Retention frees pages: with room for a few, writes go on.
	must(t, st.Close())
	st, err = boltstore.Open(path, boltstore.Options{StorageConfig: svs.StorageConfig{Own: svs.Retention{MaxCount: 10}}})
	must(t, err)
	must(t, st.Prune())
	for seq := acked + 1; seq <= acked+50; seq++ {
		must(t, st.PutOwn(svs.Publication{Boot: 1, Seq: seq, Segments: [][]byte{payload(seq)}}))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
