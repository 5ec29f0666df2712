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
	"sync"
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
	// CheckOnOpen walks every page of the file at Open (bbolt's Tx.Check)
	// to find corruption that the meta pages do not show. It reads the
	// whole file: seconds for a large store.
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
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: opts.LockTimeout,
		// The freelist is rebuilt from the pages at Open instead of being
		// written at every commit: fewer pages per commit (what etcd does).
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		NoSync:         opts.NoSync,
	})
	if err != nil {
		return nil, openError(path, existed, err)
	}
	s := &Store{db: db, path: path, opts: opts,
		reqs: make(chan *request, opts.MaxBatch),
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.init(existed); err != nil {
		_ = db.Close()
		return nil, err
	}
	go s.commitLoop()
	return s, nil
}

// openError turns bbolt's Open errors into this package's.
func openError(path string, existed bool, err error) error {
	switch {
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

// init checks an existing file and creates the buckets of a new one. It
// writes only when the file holds no bucket at all (new, or created by a
// run killed before its first commit): anything else that is not this
// format is refused, never repaired.
func (s *Store) init(existed bool) (err error) {
	var missing bool
	err = guard(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			fi, err := os.Stat(s.path)
			if err != nil {
				return fmt.Errorf("boltstore: %w", err)
			}
			if tx.Size() > fi.Size() {
				return fmt.Errorf("%w: %s is %d bytes, its pages need %d (truncated)",
					ErrCorrupt, s.path, fi.Size(), tx.Size())
			}
			n := 0
			if err := tx.ForEach(func([]byte, *bolt.Bucket) error { n++; return nil }); err != nil {
				return err
			}
			if n == 0 {
				missing = true
				return nil
			}
			for _, b := range allBuckets {
				if tx.Bucket(b) == nil {
					return fmt.Errorf("%w: %s: bucket %q missing", ErrCorrupt, s.path, b)
				}
			}
			if f := tx.Bucket(bucketMeta).Get(keyFormat); !bytes.Equal(f, formatValue) {
				return fmt.Errorf("%w: %s: format %q, want %q", ErrCorrupt, s.path, f, formatValue)
			}
			if s.opts.CheckOnOpen {
				for cerr := range tx.Check() {
					if err == nil {
						err = fmt.Errorf("%w: %s: %w", ErrCorrupt, s.path, cerr)
					}
				}
				return err
			}
			return nil
		})
	})
	if err != nil || !missing {
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

// guard runs f and turns a panic into an error wrapping errPanic.
func guard(f func() error) (err error) {
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
