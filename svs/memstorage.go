package svs

import (
	"bytes"
	"slices"
	"sync"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

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
// retention and ranges need.
type memClass struct {
	pubs   map[pubKey]Publication
	series map[seriesKey][]uint64 // sorted sequence numbers per incarnation
	fifo   []pubKey               // fetched only: insertion order, the eviction order
	bytes  int64
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
	if seqs := m.d.own.series[seriesKey{boot: boot}]; len(seqs) > 0 {
		seq = max(seq, seqs[len(seqs)-1]) // sorted: the highest stored
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
		k := pubKey{boot: p.Boot, seq: p.Seq}
		old, ok := m.d.own.pubs[k]
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
	p, ok := c.pubs[k]
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
	seqs := c.series[sk]
	i, _ := slices.BinarySearch(seqs, lo)
	var out []Publication
	total := 0
	for ; i < len(seqs) && seqs[i] <= hi; i++ {
		p := c.pubs[pubKey{sk.node, sk.boot, seqs[i]}]
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

// put stores a copy of p under k unless k is stored already.
func (c *memClass) put(k pubKey, p Publication, now time.Time) {
	if _, ok := c.pubs[k]; ok {
		return
	}
	if c.pubs == nil {
		c.pubs = make(map[pubKey]Publication)
		c.series = make(map[seriesKey][]uint64)
	}
	p.Segments = slices.Clip(p.Segments) // kept, not copied: see Storage, "Ownership"
	p.Node, p.Stored = k.node, now
	c.pubs[k] = p
	sk := seriesKey{k.node, k.boot}
	seqs := c.series[sk]
	if n := len(seqs); n == 0 || seqs[n-1] < k.seq {
		seqs = append(seqs, k.seq) // the common case: in order
	} else {
		i, _ := slices.BinarySearch(seqs, k.seq)
		seqs = slices.Insert(seqs, i, k.seq)
	}
	c.series[sk] = seqs
	if k.node != "" { // own ones are evicted by key, not insertion order
		c.fifo = append(c.fifo, k)
	}
	c.bytes += int64(p.Size())
}

// prune removes the oldest publications while r says so: own ones
// (byInsertion false) by (boot, seq), fetched ones in insertion order.
func (c *memClass) prune(r Retention, now time.Time, byInsertion bool) {
	if r.Unbounded() {
		return
	}
	for len(c.pubs) > 0 {
		k := c.oldest(byInsertion)
		p := c.pubs[k]
		if r.Keep(len(c.pubs), c.bytes, p.Stored, now, len(c.pubs) == 1) {
			return
		}
		c.remove(k)
	}
}

// oldest returns the key retention removes first. Keys of the fifo that
// are gone (own publications removed out of insertion order) are skipped
// and dropped.
func (c *memClass) oldest(byInsertion bool) pubKey {
	if byInsertion {
		for {
			k := c.fifo[0]
			if _, ok := c.pubs[k]; ok {
				return k
			}
			c.fifo = c.fifo[1:]
		}
	}
	var best seriesKey
	found := false
	for sk, seqs := range c.series {
		if len(seqs) > 0 && (!found || sk.boot < best.boot) {
			best, found = sk, true
		}
	}
	return pubKey{best.node, best.boot, c.series[best][0]}
}

func (c *memClass) remove(k pubKey) {
	p := c.pubs[k]
	delete(c.pubs, k)
	c.bytes -= int64(p.Size())
	sk := seriesKey{k.node, k.boot}
	seqs := c.series[sk]
	if i, ok := slices.BinarySearch(seqs, k.seq); ok {
		seqs = slices.Delete(seqs, i, i+1)
	}
	if len(seqs) == 0 {
		delete(c.series, sk)
	} else {
		c.series[sk] = seqs
	}
	if len(c.fifo) > 0 && c.fifo[0] == k {
		c.fifo = c.fifo[1:]
	}
	// Keys removed from the middle of the fifo are dropped when they reach
	// its head; compact when they are most of it, so it stays bounded.
	if len(c.fifo) > 64 && len(c.fifo) > 2*len(c.pubs) {
		live := c.fifo[:0]
		for _, f := range c.fifo {
			if _, ok := c.pubs[f]; ok {
				live = append(live, f)
			}
		}
		c.fifo = slices.Clip(live)
	}
}

func sameSegments(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}
