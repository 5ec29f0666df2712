// Package boltstore is an svs.Storage in one bbolt file (go.etcd.io/bbolt,
// a pure Go B+tree with copy-on-write pages and a double meta page): what
// a member keeps across restarts, crashes included.
//
//	st, err := boltstore.Open(filepath.Join(stateDir, "store.db"), boltstore.Options{
//		StorageConfig: svs.StorageConfig{Own: svs.Retention{MaxCount: 100_000}},
//	})
//
// # Group commit
//
// One committer goroutine owns every write transaction. Writes queue for
// it; it takes everything queued (up to MaxBatch requests), applies it in
// one transaction and commits once (one write of the dirty pages, two
// fdatasyncs), then answers every writer of the batch. While a commit
// flushes, new writes queue for the next one: N writers waiting together
// cost about one flush, and a lone writer is not held back by a timer (as
// bbolt's own Batch, with its 10 ms MaxBatchDelay, would). Sustained
// publishing therefore scales with how many publications wait at once;
// the benchmark measures it (docs/storage.md).
//
// # Failure
//
// A write returns only after its commit; an error means nothing of its
// batch was committed, and earlier commits are untouched (bbolt writes new
// pages, then the meta page that points at them: a failed or torn write
// leaves the previous meta page in charge). A full disk is such an error.
// At Open, a file locked by another process gives ErrLocked after
// Options.LockTimeout; a file that is not an intact store gives ErrCorrupt
// and is left as it is (Open writes only to a file that is new or empty).
//
// # Threading
//
// Safe for concurrent use; see svs.Storage. Reads are bbolt read
// transactions: they never wait for a commit's flush, only (briefly) for a
// remap when the file grows.
package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// Errors of this package; svs errors (svs.ErrNotFound, ...) are returned
// as they are.
var (
	// ErrLocked: another process (or another Store in this one) holds the
	// file.
	ErrLocked = errors.New("boltstore: store is locked by another process")
	// ErrCorrupt: the file is not an intact store of this format.
	ErrCorrupt = errors.New("boltstore: store file is corrupt")
)

// Options configure a Store.
type Options struct {
	svs.StorageConfig

	// LockTimeout is how long Open waits for the file lock another process
	// holds before it gives up with ErrLocked. 0 means 1 s; it is never
	// unbounded, so a second node on the same state_dir fails fast.
	LockTimeout time.Duration
	// MaxBatch bounds how many write requests one commit takes. 0 means
	// 4096. Larger batches amortise a flush over more writers but make
	// each transaction (and the memory it holds) larger.
	MaxBatch int
	// CheckOnOpen reads and decodes every record at Open and checks the
	// counters against them, to find damage that the meta pages and the
	// page walk of every read-write Open do not show (a record's bytes).
	// It reads the whole file: seconds for a large store.
	CheckOnOpen bool
	// NoSync skips every fsync: fast and not durable. For tests and
	// benchmarks that measure everything but the disk.
	NoSync bool
}

// Bucket and key names. The format key says what wrote the file, so a
// bbolt file of another program is refused rather than written to.
var (
	bucketMeta    = []byte("meta")
	bucketOwn     = []byte("own")     // boot(8) seq(8) -> record
	bucketFetched = []byte("fetched") // uvarint(len node) node boot(8) seq(8) -> record
	bucketOrder   = []byte("order")   // insertion number(8) -> fetched key

	keyFormat        = []byte("format")
	keyBoot          = []byte("boot")
	keyReserved      = []byte("reserved")
	keyVector        = []byte("vector")
	keyOwnCount      = []byte("own.count")
	keyOwnBytes      = []byte("own.bytes")
	keyFetchedCount  = []byte("fetched.count")
	keyFetchedBytes  = []byte("fetched.bytes")
	formatValue      = []byte("ndnsvs-store/1")
	allBuckets       = [][]byte{bucketMeta, bucketOwn, bucketFetched, bucketOrder}
	defaultBatch     = 4096
	defaultLockWait  = time.Second
	recordVersion    = byte(1)
	recordHeaderSize = 1 + 8
)

// Store is an svs.Storage in a bbolt file. Create it with Open.
type Store struct {
	db   *bolt.DB
	path string
	opts Options

	mu       sync.RWMutex // guards closed; held shared by every call in flight
	closed   bool
	inflight sync.WaitGroup

	reqs chan *request
	stop chan struct{}
	done chan struct{} // closed when the committer has returned

	commits, writes, failed atomic.Uint64 // for Stats
	commitNanos             atomic.Int64
}

var _ svs.Storage = (*Store)(nil)

// Open opens or creates the store at path. The directory must exist.
func Open(path string, opts Options) (*Store, error) {
	if err := opts.StorageConfig.Check(); err != nil {
		return nil, err
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = defaultLockWait
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = defaultBatch
	}
	existed := false
	if fi, err := os.Stat(path); err == nil {
		existed = fi.Size() > 0
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("boltstore: %s is not a regular file", path)
		}
	}
	if existed {
		// Look first through a read-only handle: it reads the meta pages
		// and nothing else, so the checks run before the read-write open
		// walks every page to rebuild the freelist (NoFreelistSync).
		if err := precheck(path, opts); err != nil {
			return nil, err
		}
	}
	var db *bolt.DB
	err := guard(func() (err error) {
		db, err = bolt.Open(path, 0o600, boltOptions(opts, false))
		return err
	})
	if err != nil {
		// A panic here (a page the checks did not reach) leaks bbolt's
		// file descriptor and lock: there is no handle to close.
		return nil, openError(path, existed, corruptIfPanic(path, err))
	}
	s := &Store{db: db, path: path, opts: opts,
		reqs: make(chan *request, opts.MaxBatch),
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, err
	}
	go s.commitLoop()
	return s, nil
}

func boltOptions(opts Options, readOnly bool) *bolt.Options {
	return &bolt.Options{
		Timeout:  opts.LockTimeout,
		ReadOnly: readOnly,
		// The freelist is rebuilt from the pages at Open instead of being
		// written at every commit: fewer pages per commit (what etcd does).
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		NoSync:         opts.NoSync,
	}
}

// precheck opens an existing file read-only and checks it.
func precheck(path string, opts Options) error {
	var db *bolt.DB
	err := guard(func() (err error) {
		db, err = bolt.Open(path, 0o400, boltOptions(opts, true))
		return err
	})
	if err != nil {
		return openError(path, true, corruptIfPanic(path, err))
	}
	err = guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			_, err := checkTx(tx, path, opts.CheckOnOpen)
			return err
		})
	})
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("boltstore: close %s: %w", path, cerr)
	}
	return corruptIfPanic(path, err)
}

// openError turns bbolt's Open errors into this package's.
func openError(path string, existed bool, err error) error {
	switch {
	case errors.Is(err, ErrCorrupt):
		return err
	case errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("%w: %s (gave up waiting for its lock)", ErrLocked, path)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	case existed && !errors.Is(err, os.ErrPermission) && !errors.Is(err, os.ErrNotExist):
		// bbolt reads the meta pages of an existing file before anything
		// else; what fails there (short reads, bad page sizes) is the file.
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	return fmt.Errorf("boltstore: open %s: %w", path, err)
}

// checkTx checks that tx sees an intact store of this format, or an
// empty file (no bucket at all: new, or created by a run killed before
// its first commit).
func checkTx(tx *bolt.Tx, path string, deep bool) (empty bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, fmt.Errorf("boltstore: %w", err)
	}
	if tx.Size() > fi.Size() {
		return false, fmt.Errorf("%w: %s is %d bytes, its pages need %d (truncated)",
			ErrCorrupt, path, fi.Size(), tx.Size())
	}
	n := 0
	if err := tx.ForEach(func([]byte, *bolt.Bucket) error { n++; return nil }); err != nil {
		return false, err
	}
	if n == 0 {
		return true, nil
	}
	for _, b := range allBuckets {
		if tx.Bucket(b) == nil {
			return false, fmt.Errorf("%w: %s: bucket %q missing", ErrCorrupt, path, b)
		}
	}
	if f := tx.Bucket(bucketMeta).Get(keyFormat); !bytes.Equal(f, formatValue) {
		return false, fmt.Errorf("%w: %s: format %q, want %q", ErrCorrupt, path, f, formatValue)
	}
	if deep {
		if err := checkRecords(tx); err != nil {
			return false, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
		}
	}
	return false, nil
}

// checkRecords reads every record and index entry, so every page of the
// B+trees, on the calling goroutine (bbolt's Tx.Check runs on a goroutine
// of its own, where a panic on a damaged page cannot be recovered), and
// checks the counters against what it read.
func checkRecords(tx *bolt.Tx) error {
	var n, size [2]uint64
	for i, name := range [][]byte{bucketOwn, bucketFetched} {
		err := tx.Bucket(name).ForEach(func(k, v []byte) error {
			sz, err := recordSize(v)
			if err != nil {
				return fmt.Errorf("bucket %s, key %x: %w", name, k, err)
			}
			n[i]++
			size[i] += uint64(sz)
			return nil
		})
		if err != nil {
			return err
		}
	}
	fetched, orders := tx.Bucket(bucketFetched), uint64(0)
	err := tx.Bucket(bucketOrder).ForEach(func(k, v []byte) error {
		if len(k) != 8 || fetched.Get(v) == nil {
			return fmt.Errorf("order entry %x points at nothing", k)
		}
		orders++
		return nil
	})
	if err != nil {
		return err
	}
	m := tx.Bucket(bucketMeta)
	switch {
	case getUint(m, keyOwnCount) != n[0] || getUint(m, keyOwnBytes) != size[0]:
		return fmt.Errorf("own counters (%d, %d B), records (%d, %d B)",
			getUint(m, keyOwnCount), getUint(m, keyOwnBytes), n[0], size[0])
	case getUint(m, keyFetchedCount) != n[1] || getUint(m, keyFetchedBytes) != size[1] || orders != n[1]:
		return fmt.Errorf("fetched counters (%d, %d B), records (%d, %d B), order entries %d",
			getUint(m, keyFetchedCount), getUint(m, keyFetchedBytes), n[1], size[1], orders)
	}
	return nil
}

// init checks the file again through the read-write handle and creates
// the buckets of an empty one. It writes nothing to a file that holds
// anything but this format: such a file is refused, never repaired.
func (s *Store) init() error {
	var empty bool
	err := guard(func() error {
		return s.db.View(func(tx *bolt.Tx) (err error) {
			empty, err = checkTx(tx, s.path, false)
			return err
		})
	})
	if err != nil || !empty {
		return corruptIfPanic(s.path, err)
	}
	return corruptIfPanic(s.path, guard(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			for _, b := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketMeta).Put(keyFormat, formatValue)
		})
	}))
}

// errPanic marks a panic of bbolt, which it raises on pages it cannot
// make sense of.
var errPanic = errors.New("boltstore: bbolt panicked")

// guard runs f and turns a panic into an error wrapping errPanic. bbolt
// reads the file through a memory map: a page past the end of a file cut
// short faults (SIGBUS), which SetPanicOnFault makes a panic too.
func guard(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	return f()
}

func corruptIfPanic(path string, err error) error {
	if errors.Is(err, errPanic) {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	return err
}

// Path returns the file the store is in.
func (s *Store) Path() string { return s.path }

// enter registers a call in flight, or fails once the store is closed.
func (s *Store) enter() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return svs.ErrStorageClosed
	}
	s.inflight.Add(1)
	return nil
}

// Close implements svs.Storage: it waits for the calls in flight, stops
// the committer and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.inflight.Wait()
	close(s.stop)
	<-s.done
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close: %w", err)
	}
	return nil
}

// view runs a read transaction for a call in flight.
func (s *Store) view(f func(tx *bolt.Tx) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	return corruptIfPanic(s.path, guard(func() error { return s.db.View(f) }))
}

// State implements svs.Storage.
func (s *Store) State() (svs.State, error) {
	var st svs.State
	err := s.view(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		st.Boot, st.Reserved = getUint(m, keyBoot), getUint(m, keyReserved)
		if v := m.Get(keyVector); v != nil {
			st.Vector = bytes.Clone(v)
		}
		return nil
	})
	return st, err
}

// Own implements svs.Storage.
func (s *Store) Own(boot, seq uint64) (svs.Publication, error) {
	return s.get(false, "", boot, seq)
}

// Fetched implements svs.Storage.
func (s *Store) Fetched(node core.Name, boot, seq uint64) (svs.Publication, error) {
	return s.get(true, node, boot, seq)
}

func (s *Store) get(fetched bool, node core.Name, boot, seq uint64) (svs.Publication, error) {
	var p svs.Publication
	err := s.view(func(tx *bolt.Tx) error {
		b, k := tx.Bucket(bucketOwn), ownKey(boot, seq)
		if fetched {
			b, k = tx.Bucket(bucketFetched), fetchedKey(node, boot, seq)
		}
		v := b.Get(k)
		if v == nil {
			return svs.ErrNotFound
		}
		var err error
		p, err = decodeRecord(v)
		p.Node, p.Boot, p.Seq = node, boot, seq
		return err
	})
	return p, err
}

// OwnRange implements svs.Storage.
func (s *Store) OwnRange(boot, lo, hi uint64, maxBytes int) ([]svs.Publication, error) {
	return s.rangeOf(false, "", boot, lo, hi, maxBytes)
}

// FetchedRange implements svs.Storage.
func (s *Store) FetchedRange(node core.Name, boot, lo, hi uint64, maxBytes int) ([]svs.Publication, error) {
	return s.rangeOf(true, node, boot, lo, hi, maxBytes)
}

func (s *Store) rangeOf(fetched bool, node core.Name, boot, lo, hi uint64, maxBytes int) ([]svs.Publication, error) {
	var out []svs.Publication
	err := s.view(func(tx *bolt.Tx) error {
		b, start := tx.Bucket(bucketOwn), ownKey(boot, lo)
		if fetched {
			b, start = tx.Bucket(bucketFetched), fetchedKey(node, boot, lo)
		}
		prefix := start[:len(start)-8]
		total := 0
		c := b.Cursor()
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(start); k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k[len(prefix):])
			if seq > hi {
				break
			}
			p, err := decodeRecord(v)
			if err != nil {
				return err
			}
			total += p.Size()
			if maxBytes > 0 && total > maxBytes && len(out) > 0 {
				break
			}
			p.Node, p.Boot, p.Seq = node, boot, seq
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// Reserve implements svs.Storage.
func (s *Store) Reserve(boot, seq uint64) error {
	return s.write(&request{kind: reqReserve, boot: boot, seq: seq})
}

// Release implements svs.Storage.
func (s *Store) Release(boot, seq uint64) error {
	return s.write(&request{kind: reqRelease, boot: boot, seq: seq})
}

// PutOwn implements svs.Storage.
func (s *Store) PutOwn(pubs ...svs.Publication) error {
	for _, p := range pubs {
		if err := p.Check(false); err != nil {
			return err
		}
	}
	return s.write(&request{kind: reqOwn, pubs: pubs})
}

// PutFetched implements svs.Storage.
func (s *Store) PutFetched(pubs ...svs.Publication) error {
	for _, p := range pubs {
		if err := p.Check(true); err != nil {
			return err
		}
	}
	return s.write(&request{kind: reqFetched, pubs: pubs})
}

// SaveVector implements svs.Storage.
func (s *Store) SaveVector(v []byte) error {
	return s.write(&request{kind: reqVector, vec: v})
}

// Prune implements svs.Storage.
func (s *Store) Prune() error {
	return s.write(&request{kind: reqPrune})
}

// Stats counts the work of a Store since Open.
type Stats struct {
	// Commits is how many transactions were committed (each one flush).
	Commits uint64
	// Writes is how many write calls they carried: Writes/Commits is the
	// mean batch of the group commit.
	Writes uint64
	// Failed is how many commits failed (each failing all of its writes).
	Failed uint64
	// CommitTime is the time spent in commits, flushes included.
	CommitTime time.Duration
}

// Stats returns the counters of s. It works after Close too.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.commits.Load(), Writes: s.writes.Load(), Failed: s.failed.Load(),
		CommitTime: time.Duration(s.commitNanos.Load())}
}

// Size returns the size of the file in bytes (bbolt's high-water mark:
// pages freed by retention are reused, not returned to the file system).
func (s *Store) Size() (int64, error) {
	var n int64
	err := s.view(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n, err
}

func getUint(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint(b *bolt.Bucket, k []byte, x uint64) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], x)
	return b.Put(k, v[:])
}

func ownKey(boot, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, boot)
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// fetchedKey is the node's length, the node, boot and seq: the length
// keeps one node's keys from being a prefix of a longer node's.
func fetchedKey(node core.Name, boot, seq uint64) []byte {
	k := make([]byte, 0, binary.MaxVarintLen64+len(node)+16)
	k = binary.AppendUvarint(k, uint64(len(node)))
	k = append(k, node...)
	k = binary.BigEndian.AppendUint64(k, boot)
	return binary.BigEndian.AppendUint64(k, seq)
}

// encodeRecord lays a publication out as: version, stored time (Unix
// nanoseconds), segment count, then each segment's length and bytes.
func encodeRecord(p svs.Publication, stored time.Time) []byte {
	n := recordHeaderSize + binary.MaxVarintLen64
	for _, seg := range p.Segments {
		n += binary.MaxVarintLen64 + len(seg)
	}
	b := make([]byte, 0, n)
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(stored.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(p.Segments)))
	for _, seg := range p.Segments {
		b = binary.AppendUvarint(b, uint64(len(seg)))
		b = append(b, seg...)
	}
	return b
}

// recordStored reads only the stored time, for retention.
func recordStored(v []byte) (time.Time, error) {
	if len(v) < recordHeaderSize || v[0] != recordVersion {
		return time.Time{}, fmt.Errorf("%w: bad record header", ErrCorrupt)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v[1:]))), nil
}

// walkRecord checks a record and calls f with each segment, in place (in
// bbolt's memory map: f must copy what it keeps).
func walkRecord(v []byte, f func(seg []byte)) (time.Time, error) {
	stored, err := recordStored(v)
	if err != nil {
		return time.Time{}, err
	}
	v = v[recordHeaderSize:]
	n, w := binary.Uvarint(v)
	if w <= 0 || n > uint64(len(v)) {
		return time.Time{}, fmt.Errorf("%w: bad segment count", ErrCorrupt)
	}
	v = v[w:]
	for range n {
		l, w := binary.Uvarint(v)
		if w <= 0 || l > uint64(len(v)-w) {
			return time.Time{}, fmt.Errorf("%w: bad segment length", ErrCorrupt)
		}
		f(v[w : w+int(l)])
		v = v[w+int(l):]
	}
	if len(v) != 0 {
		return time.Time{}, fmt.Errorf("%w: %d bytes after the segments", ErrCorrupt, len(v))
	}
	return stored, nil
}

// decodeRecord copies a record out of bbolt's memory map.
func decodeRecord(v []byte) (svs.Publication, error) {
	var p svs.Publication
	stored, err := walkRecord(v, func(seg []byte) { p.Segments = append(p.Segments, bytes.Clone(seg)) })
	if err != nil {
		return svs.Publication{}, err
	}
	p.Stored = stored
	return p, nil
}

// recordSize is Publication.Size of a record, without copying it.
func recordSize(v []byte) (int64, error) {
	var n int64
	_, err := walkRecord(v, func(seg []byte) { n += int64(len(seg)) })
	return n, err
}

// sameRecord reports whether record v holds exactly segs.
func sameRecord(v []byte, segs [][]byte) bool {
	i, same := 0, true
	_, err := walkRecord(v, func(seg []byte) {
		same = same && i < len(segs) && bytes.Equal(seg, segs[i])
		i++
	})
	return err == nil && same && i == len(segs)
}
