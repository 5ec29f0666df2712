package svs

import (
	"bytes"
	"slices"
	"sync"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// neverWaits reports whether st's calls wait for nothing but another
// call's map work, never for a disk: exactly a *MemoryStorage (a Storage
// that wraps one may wait). Such a store is written on Run
// (persister.inline) and read on a forwarding thread (dataServer.inline).
func neverWaits(st Storage) bool {
	_, ok := st.(*MemoryStorage)
	return ok
}

// MemoryStorage is a Storage in memory: for tests, for the simulator, and
// for members that want no disk (a restart is then a new incarnation with
// nothing to serve). Everything a write returned from is "committed": it
// survives Reopen, which is how a test stands for a process restart, or a
// crash, without a disk. Safe for concurrent use; no method waits on
// anything but its lock.
type MemoryStorage struct {
	cfg StorageConfig

	mu       sync.RWMutex
	d        *memData
	closed   bool // Close was called: every method fails, Reopen still works
	reopened bool // Reopen handed d to another handle
}

// memData is what survives a Reopen: the "disk" of a MemoryStorage.
type memData struct {
	state   State
	own     memClass
	fetched memClass
}

// pubKey identifies a stored publication; node is empty for own ones.
type pubKey struct {
	node      core.Name
	boot, seq uint64
}

// seriesKey identifies one incarnation's publications.
type seriesKey struct {
	node core.Name
	boot uint64
}

// memClass holds one class of publications (own or fetched) with what
// retention and ranges need: one sorted series per incarnation, so a
// write in order hashes its key once (one map per key and per series
// made storing 6 % of a 20-member group's CPU).
type memClass struct {
	series map[seriesKey]*memSeries
	fifo   []fifoEntry // fetched only: insertion order, the eviction order
	count  int
	bytes  int64
}

// memSeries is one incarnation's publications: pubs[i] has seqs[i],
// sorted by seq.
type memSeries struct {
	key  seriesKey
	seqs []uint64
	pubs []Publication
}

// fifoEntry is a fetched publication in insertion order; gone once its
// seq is no longer in s (a series emptied keeps its entries harmless).
type fifoEntry struct {
	s   *memSeries
	seq uint64
}

// NewMemoryStorage returns an empty MemoryStorage, or an error wrapping
// ErrInvalidConfig.
func NewMemoryStorage(cfg StorageConfig) (*MemoryStorage, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return &MemoryStorage{cfg: cfg, d: &memData{}}, nil
}

// Reopen closes m if it is open and returns a new handle on everything
// committed to it, as a process restarting on the same disk would find it,
// with a new configuration (a new retention applies at the next write or
// Prune). Reopening a handle that was not closed stands for a crash. A
// handle can be reopened once; after that, Reopen returns
// ErrStorageClosed.
func (m *MemoryStorage) Reopen(cfg StorageConfig) (*MemoryStorage, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reopened {
		return nil, ErrStorageClosed
	}
	d := m.d
	m.closed, m.reopened, m.d = true, true, nil
	return &MemoryStorage{cfg: cfg, d: d}, nil
}

func (m *MemoryStorage) now() time.Time {
	if m.cfg.Now != nil {
		return m.cfg.Now()
	}
	return time.Now()
}

// State implements Storage.
func (m *MemoryStorage) State() (State, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return State{}, ErrStorageClosed
	}
	st := m.d.state
	st.Vector = bytes.Clone(st.Vector)
	return st, nil
}

// Reserve implements Storage.
func (m *MemoryStorage) Reserve(boot, seq uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStorageClosed
	}
	if _, err := CheckReserve(m.d.state.Boot, m.d.state.Reserved, boot, seq); err != nil {
		return err
	}
	m.d.state.Boot, m.d.state.Reserved = boot, seq
	return nil
}

// Release implements Storage.
func (m *MemoryStorage) Release(boot, seq uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStorageClosed
	}
	st := &m.d.state
	if boot != st.Boot || seq >= st.Reserved {
		return nil
	}
	if s := m.d.own.series[seriesKey{boot: boot}]; s != nil && len(s.seqs) > 0 {
		seq = max(seq, s.seqs[len(s.seqs)-1]) // sorted: the highest stored
	}
	st.Reserved = min(st.Reserved, seq)
	return nil
}

// SaveVector implements Storage.
func (m *MemoryStorage) SaveVector(v []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStorageClosed
	}
	m.d.state.Vector = bytes.Clone(v)
	return nil
}

// PutOwn implements Storage.
func (m *MemoryStorage) PutOwn(pubs ...Publication) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStorageClosed
	}
	st := m.d.state
	// Check the whole batch first: it is all or nothing.
	for i, p := range pubs {
		if err := p.Check(false); err != nil {
			return err
		}
		if !Covered(st.Boot, st.Reserved, p.Boot, p.Seq) {
			return notReserved(p.Boot, p.Seq, st)
		}
		old, ok := m.d.own.lookup(pubKey{boot: p.Boot, seq: p.Seq})
		for _, q := range pubs[:i] {
			if q.Boot == p.Boot && q.Seq == p.Seq {
				old, ok = q, true
			}
		}
		if ok && !sameSegments(old.Segments, p.Segments) {
			return duplicate(p.Boot, p.Seq)
		}
	}
	now := m.now()
	for _, p := range pubs {
		m.d.own.put(pubKey{boot: p.Boot, seq: p.Seq}, p, now)
	}
	m.d.own.prune(m.cfg.Own, now, false)
	return nil
}

// PutFetched implements Storage.
func (m *MemoryStorage) PutFetched(pubs ...Publication) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStorageClosed
	}
	for _, p := range pubs {
		if err := p.Check(true); err != nil {
			return err
		}
	}
	now := m.now()
	for _, p := range pubs {
		m.d.fetched.put(pubKey{p.Node, p.Boot, p.Seq}, p, now)
	}
	m.d.fetched.prune(m.cfg.Fetched, now, true)
	return nil
}

// Own implements Storage.
func (m *MemoryStorage) Own(boot, seq uint64) (Publication, error) {
	return m.get(false, pubKey{boot: boot, seq: seq})
}

// Fetched implements Storage.
func (m *MemoryStorage) Fetched(node core.Name, boot, seq uint64) (Publication, error) {
	return m.get(true, pubKey{node, boot, seq})
}

func (m *MemoryStorage) get(fetched bool, k pubKey) (Publication, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Publication{}, ErrStorageClosed
	}
	c := &m.d.own
	if fetched {
		c = &m.d.fetched
	}
	p, ok := c.lookup(k)
	if !ok {
		return Publication{}, ErrNotFound
	}
	return p, nil // segments shared: see Storage, "Ownership"
}

// OwnRange implements Storage.
func (m *MemoryStorage) OwnRange(boot, lo, hi uint64, maxBytes int) ([]Publication, error) {
	return m.rangeOf(false, seriesKey{boot: boot}, lo, hi, maxBytes)
}

// FetchedRange implements Storage.
func (m *MemoryStorage) FetchedRange(node core.Name, boot, lo, hi uint64, maxBytes int) ([]Publication, error) {
	return m.rangeOf(true, seriesKey{node, boot}, lo, hi, maxBytes)
}

func (m *MemoryStorage) rangeOf(fetched bool, sk seriesKey, lo, hi uint64, maxBytes int) ([]Publication, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrStorageClosed
	}
	c := &m.d.own
	if fetched {
		c = &m.d.fetched
	}
	s := c.series[sk]
	if s == nil {
		return nil, nil
	}
	i, _ := slices.BinarySearch(s.seqs, lo)
	var out []Publication
	total := 0
	for ; i < len(s.seqs) && s.seqs[i] <= hi; i++ {
		p := s.pubs[i]
		total += p.Size()
		if maxBytes > 0 && total > maxBytes && len(out) > 0 {
			break
		}
		out = append(out, p)
	}
	return out, nil
}

// Prune implements Storage.
func (m *MemoryStorage) Prune() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStorageClosed
	}
	now := m.now()
	m.d.own.prune(m.cfg.Own, now, false)
	m.d.fetched.prune(m.cfg.Fetched, now, true)
	return nil
}

// Close implements Storage.
func (m *MemoryStorage) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// lookup returns the publication stored under k.
func (c *memClass) lookup(k pubKey) (Publication, bool) {
	s := c.series[seriesKey{k.node, k.boot}]
	if s == nil {
		return Publication{}, false
	}
	i, ok := slices.BinarySearch(s.seqs, k.seq)
	if !ok {
		return Publication{}, false
	}
	return s.pubs[i], true
}

// put stores a copy of p under k unless k is stored already.
func (c *memClass) put(k pubKey, p Publication, now time.Time) {
	sk := seriesKey{k.node, k.boot}
	s := c.series[sk]
	if s == nil {
		if c.series == nil {
			c.series = make(map[seriesKey]*memSeries)
		}
		s = &memSeries{key: sk}
		c.series[sk] = s
	}
	p.Segments = slices.Clip(p.Segments) // kept, not copied: see Storage, "Ownership"
	p.Node, p.Stored = k.node, now
	if n := len(s.seqs); n == 0 || s.seqs[n-1] < k.seq {
		s.seqs = append(s.seqs, k.seq) // the common case: in order
		s.pubs = append(s.pubs, p)
	} else {
		i, found := slices.BinarySearch(s.seqs, k.seq)
		if found {
			return
		}
		s.seqs = slices.Insert(s.seqs, i, k.seq)
		s.pubs = slices.Insert(s.pubs, i, p)
	}
	if k.node != "" { // own ones are evicted by key, not insertion order
		c.fifo = append(c.fifo, fifoEntry{s, k.seq})
	}
	c.count++
	c.bytes += int64(p.Size())
}

// prune removes the oldest publications while r says so: own ones
// (byInsertion false) by (boot, seq), fetched ones in insertion order.
func (c *memClass) prune(r Retention, now time.Time, byInsertion bool) {
	if r.Unbounded() {
		return
	}
	for c.count > 0 {
		s, i := c.oldest(byInsertion)
		if r.Keep(c.count, c.bytes, s.pubs[i].Stored, now, c.count == 1) {
			return
		}
		c.removeAt(s, i)
	}
}

// oldest returns where the publication retention removes first is. Fifo
// entries that are gone (own publications removed out of insertion order)
// are skipped and dropped. c must hold a publication.
func (c *memClass) oldest(byInsertion bool) (*memSeries, int) {
	if byInsertion {
		for {
			e := c.fifo[0]
			if i, ok := slices.BinarySearch(e.s.seqs, e.seq); ok {
				return e.s, i
			}
			c.fifo = c.fifo[1:]
		}
	}
	var best *memSeries
	for _, s := range c.series {
		if len(s.seqs) > 0 && (best == nil || s.key.boot < best.key.boot) {
			best = s
		}
	}
	return best, 0
}

// removeAt removes s's i-th publication.
func (c *memClass) removeAt(s *memSeries, i int) {
	seq := s.seqs[i]
	c.count--
	c.bytes -= int64(s.pubs[i].Size())
	if i == 0 {
		// Retention removes from the front: reslice, not shift, so an
		// eviction costs the same at any length.
		s.pubs[0] = Publication{}
		s.seqs, s.pubs = s.seqs[1:], s.pubs[1:]
	} else {
		s.seqs = slices.Delete(s.seqs, i, i+1)
		s.pubs = slices.Delete(s.pubs, i, i+1)
	}
	if len(s.seqs) == 0 {
		delete(c.series, s.key)
	}
	if len(c.fifo) > 0 && c.fifo[0].s == s && c.fifo[0].seq == seq {
		c.fifo = c.fifo[1:]
	}
	// Entries removed from the middle of the fifo are dropped when they
	// reach its head; compact when they are most of it, so it stays
	// bounded.
	if len(c.fifo) > 64 && len(c.fifo) > 2*c.count {
		live := c.fifo[:0]
		for _, e := range c.fifo {
			if _, ok := slices.BinarySearch(e.s.seqs, e.seq); ok {
				live = append(live, e)
			}
		}
		c.fifo = slices.Clip(live)
	}
}

func sameSegments(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}
