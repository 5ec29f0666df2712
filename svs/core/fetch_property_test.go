package core

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// fetchModel is what the property test expects of a Fetcher and an
// InOrder fed the same events.
type fetchModel struct {
	t      *testing.T
	seed   uint64
	window int
	cap    int
	// wanted: every number ever wanted, and whether it was resolved
	// (fetched or given up).
	wanted   map[Key]map[uint64]bool
	horizon  map[Key]uint64
	active   map[Key]map[uint64]Fetch // attempts on the network, by the Fetcher's view
	started  map[Key]map[uint64]time.Duration
	lastNew  map[Key]uint64 // highest number given a first attempt
	next     map[Key]uint64 // next number the InOrder must release
	released int
}

func newFetchModel(t *testing.T, seed uint64, window, cap int) *fetchModel {
	return &fetchModel{
		t: t, seed: seed, window: window, cap: cap,
		wanted:  map[Key]map[uint64]bool{},
		horizon: map[Key]uint64{},
		active:  map[Key]map[uint64]Fetch{},
		started: map[Key]map[uint64]time.Duration{},
		lastNew: map[Key]uint64{},
		next:    map[Key]uint64{},
	}
}

func (m *fetchModel) fatalf(step int, format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("seed %d step %d: "+format, append([]any{m.seed, step}, args...)...)
}

func (m *fetchModel) want(k Key, low, high uint64) {
	if m.wanted[k] == nil {
		m.wanted[k] = map[uint64]bool{}
		m.active[k] = map[uint64]Fetch{}
		m.started[k] = map[uint64]time.Duration{}
		m.next[k] = low
	}
	for s := max(low, m.horizon[k]+1); s <= high; s++ {
		m.wanted[k][s] = false
	}
	m.horizon[k] = max(m.horizon[k], high)
}

// apply checks one FetchReady against the model and feeds its give-ups to
// the InOrder.
func (m *fetchModel) apply(step int, now time.Duration, f *Fetcher, o *InOrder[uint64], rd FetchReady, timeout time.Duration) {
	m.t.Helper()
	for _, st := range rd.Start {
		k := Key{st.Node, st.Boot}
		resolved, ok := m.wanted[k][st.Seq]
		if !ok || resolved {
			m.fatalf(step, "started %v, not wanted or already resolved", st)
		}
		if prev, on := m.active[k][st.Seq]; on {
			// The previous attempt may only be replaced once the Fetcher
			// timed it out (the model keeps attempts whose result never
			// came).
			if now < m.started[k][st.Seq]+timeout || st.Attempt != prev.Attempt+1 {
				m.fatalf(step, "started %v while attempt %d is outstanding", st, prev.Attempt)
			}
		}
		if st.Attempt == 1 {
			if st.Seq <= m.lastNew[k] {
				m.fatalf(step, "first attempt of %d after %d: not in order", st.Seq, m.lastNew[k])
			}
			m.lastNew[k] = st.Seq
		}
		m.active[k][st.Seq] = st
		m.started[k][st.Seq] = now
	}
	for _, g := range rd.GiveUps {
		k := Key{g.Node, g.Boot}
		if g.Low == 0 || g.Low > g.High {
			m.fatalf(step, "bad give-up %+v", g)
		}
		for s := g.Low; s <= g.High; s++ {
			resolved, ok := m.wanted[k][s]
			if !ok || resolved {
				m.fatalf(step, "gave up %d of %+v: not wanted or already resolved", s, g)
			}
			m.wanted[k][s] = true
			delete(m.active[k], s)
		}
		m.release(step, o.GaveUp(g))
	}
	m.check(step, now, f, o)
}

// succeeded records an accepted success.
func (m *fetchModel) succeeded(step int, ft Fetch, o *InOrder[uint64]) {
	m.t.Helper()
	k := Key{ft.Node, ft.Boot}
	if m.wanted[k][ft.Seq] {
		m.fatalf(step, "%v fetched twice, or after a give-up", ft)
	}
	m.wanted[k][ft.Seq] = true
	delete(m.active[k], ft.Seq)
	rel, err := o.Arrived(ft.Node, ft.Boot, ft.Seq, ft.Seq*7)
	if err != nil {
		m.fatalf(step, "InOrder.Arrived(%v): %v", ft, err)
	}
	m.release(step, rel)
}

// release checks that the InOrder releases every wanted number once, in
// order.
func (m *fetchModel) release(step int, rel []Release[uint64]) {
	m.t.Helper()
	for _, r := range rel {
		k := Key{r.Node, r.Boot}
		low, high := r.Seq, r.Seq
		if r.Gap != nil {
			low, high = r.Gap.Low, r.Gap.High
		} else if r.Value != r.Seq*7 {
			m.fatalf(step, "released %d with value %d", r.Seq, r.Value)
		}
		for s := low; s <= high; s++ {
			for !m.isWanted(k, m.next[k]) {
				m.next[k]++
			}
			if s != m.next[k] {
				m.fatalf(step, "released %d (%d..%d), want %d next", s, low, high, m.next[k])
			}
			if !m.wanted[k][s] {
				m.fatalf(step, "released %d before it was resolved", s)
			}
			m.next[k]++
			m.released++
		}
	}
}

func (m *fetchModel) isWanted(k Key, s uint64) bool {
	_, ok := m.wanted[k][s]
	return ok || s > m.horizon[k]
}

// check compares the Fetcher's gauges with the model and checks the
// window and the cap.
func (m *fetchModel) check(step int, now time.Duration, f *Fetcher, o *InOrder[uint64]) {
	m.t.Helper()
	s := f.Stats()
	if ranges, pending := walkPending(f); s.Ranges != ranges || s.Pending != pending {
		m.fatalf(step, "Stats says %d ranges, %d pending; the producers hold %d, %d", s.Ranges, s.Pending, ranges, pending)
	}
	if s.Outstanding > m.cap {
		m.fatalf(step, "outstanding %d over the cap %d", s.Outstanding, m.cap)
	}
	for k := range m.wanted {
		if n := f.InProgress(k.Node, k.Boot); n > m.window {
			m.fatalf(step, "%d in progress for %v, over the window %d", n, k, m.window)
		}
	}
	if b := o.Stats().Buffered; b > len(m.wanted)*(m.window-1) {
		m.fatalf(step, "InOrder buffers %d", b)
	}
}

// walkPending counts the pending ranges and numbers by walking the
// producers, as Stats did before it kept them as they change.
func walkPending(f *Fetcher) (ranges int, pending uint64) {
	for _, p := range f.prods {
		ranges += len(p.pending)
		for _, r := range p.pending {
			pending = satAdd(pending, r.count())
		}
	}
	return ranges, pending
}

// tick calls Tick and checks that the deadline it returns is in the
// future: nothing due is left behind.
func (m *fetchModel) tick(step int, now time.Duration, f *Fetcher, o *InOrder[uint64], timeout time.Duration) {
	m.t.Helper()
	rd := f.Tick(now)
	if rd.Deadline <= now {
		m.fatalf(step, "Tick(%v) returned deadline %v", now, rd.Deadline)
	}
	m.apply(step, now, f, o, rd, timeout)
}

// TestPropertyFetchEveryNumberResolvedOnce drives a Fetcher and an InOrder
// with seeded random Wants, successes, failures, lost answers, duplicate
// and stale results and time jumps, then lets every answer succeed, and
// checks that:
//   - no number is started while an attempt of it is outstanding, first
//     attempts of a producer go in ascending order, and only wanted,
//     unresolved numbers start;
//   - no producer has more than Window in progress, and no more than
//     MaxOutstanding are outstanding in all;
//   - every wanted number is fetched or given up exactly once, and the
//     InOrder releases each in order, once, buffering at most Window−1
//     per producer.
func TestPropertyFetchEveryNumberResolvedOnce(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 99))
		cfg := testFetchConfig(seed)
		cfg.Window = 1 + r.IntN(6)
		cfg.MaxOutstanding = 1 + r.IntN(12)
		cfg.MaxAttempts = 1 + r.IntN(4)
		cfg.StallAfter = 1 + r.IntN(4)
		cfg.SupersededBacklog = uint64(r.IntN(10))
		cfg.AttemptTimeout = time.Second
		cfg.GiveUpAfter = time.Duration(r.IntN(3)) * 3 * time.Second
		f, err := NewFetcher(cfg, 0)
		if err != nil {
			t.Fatal(err)
		}
		o := NewInOrder[uint64](cfg.Window)
		m := newFetchModel(t, seed, cfg.Window, cfg.MaxOutstanding)
		var now time.Duration
		nodes := []Name{nm("a"), nm("b"), nm("c")}
		for step := range 400 {
			var rd FetchReady
			ticked := false
			switch k := r.IntN(10); {
			case k < 2:
				node := nodes[r.IntN(len(nodes))]
				boot := uint64(1 + r.IntN(2))
				key := Key{node, boot}
				low := m.horizon[key] + 1
				if r.IntN(8) == 0 {
					low += uint64(r.IntN(3)) // a range the caller already has
				}
				high := low + uint64(r.IntN(12))
				m.want(key, low, high)
				o.Want(node, boot, low, high)
				rd = f.Want(now, node, boot, low, high)
			case k < 7:
				ft, ok := m.pick(r)
				if !ok {
					now += time.Duration(r.Int64N(int64(time.Second)))
					ticked = true
					break
				}
				now += time.Duration(r.Int64N(int64(50 * time.Millisecond)))
				switch c := r.IntN(10); {
				case c < 6:
					before := f.Stats().Succeeded
					rd = f.Succeeded(now, ft)
					if f.Stats().Succeeded > before {
						m.succeeded(step, ft, o)
					} else if !m.wanted[Key{ft.Node, ft.Boot}][ft.Seq] {
						m.fatalf(step, "success of unresolved %v refused", ft)
					}
				case c < 8:
					before := f.Stats().Failed
					rd = f.Failed(now, ft, FetchError(1+r.IntN(4)))
					if f.Stats().Failed > before {
						delete(m.active[Key{ft.Node, ft.Boot}], ft.Seq) // it ended
					}
				case c < 9:
					stale := ft
					stale.Attempt--
					before := f.Stats()
					rd = f.Failed(now, stale, FetchTimeout)
					if after := f.Stats(); after.Failed != before.Failed || after.Late != before.Late+1 {
						m.fatalf(step, "a stale failure counted: %+v -> %+v", before, after)
					}
				default:
					ticked = true // the answer is lost
				}
			default:
				if d := f.Deadline(); d != NoDeadline && r.IntN(2) == 0 {
					now = max(now, d)
				} else {
					now += time.Duration(r.Int64N(int64(2 * time.Second)))
				}
				ticked = true
			}
			if ticked {
				m.tick(step, now, f, o, cfg.AttemptTimeout)
				continue
			}
			m.apply(step, now, f, o, rd, cfg.AttemptTimeout)
		}
		// Drain: every answer now comes back.
		for step := 400; ; step++ {
			if step > 100000 {
				t.Fatalf("seed %d: no end: %+v", seed, f.Stats())
			}
			ft, ok := m.pickActive(f)
			if ok {
				now += time.Millisecond
				before := f.Stats().Succeeded
				rd := f.Succeeded(now, ft)
				if f.Stats().Succeeded > before {
					m.succeeded(step, ft, o)
				}
				m.apply(step, now, f, o, rd, cfg.AttemptTimeout)
				continue
			}
			d := f.Deadline()
			if d == NoDeadline {
				break
			}
			now = max(now, d)
			m.tick(step, now, f, o, cfg.AttemptTimeout)
		}
		s := f.Stats()
		if s.Outstanding != 0 || s.Waiting != 0 || s.Pending != 0 {
			t.Fatalf("seed %d: not drained: %+v", seed, s)
		}
		total := 0
		for k, ss := range m.wanted {
			for s, resolved := range ss {
				if !resolved {
					t.Fatalf("seed %d: %v %d never resolved", seed, k, s)
				}
				total++
			}
			if n, owes := o.Next(k.Node, k.Boot); owes {
				t.Fatalf("seed %d: %v: InOrder still owes %d", seed, k, n)
			}
		}
		if m.released != total {
			t.Fatalf("seed %d: InOrder released %d of %d", seed, m.released, total)
		}
		if b := o.Stats().Buffered; b != 0 {
			t.Fatalf("seed %d: InOrder still buffers %d", seed, b)
		}
	}
}

// pick returns a random attempt the model holds as outstanding (it may be
// one the Fetcher already timed out).
func (m *fetchModel) pick(r *rand.Rand) (Fetch, bool) {
	var all []Fetch
	for _, k := range m.keys() {
		for _, s := range sortedKeys(m.active[k]) {
			all = append(all, m.active[k][s])
		}
	}
	if len(all) == 0 {
		return Fetch{}, false
	}
	return all[r.IntN(len(all))], true
}

// pickActive returns an attempt the model holds that the Fetcher still
// holds in progress.
func (m *fetchModel) pickActive(f *Fetcher) (Fetch, bool) {
	for _, k := range m.keys() {
		if f.InProgress(k.Node, k.Boot) == 0 {
			continue
		}
		for _, s := range sortedKeys(m.active[k]) {
			return m.active[k][s], true
		}
	}
	return Fetch{}, false
}

func (m *fetchModel) keys() []Key {
	ks := make([]Key, 0, len(m.active))
	for k := range m.active {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b Key) int {
		if c := CompareNames(a.Node, b.Node); c != 0 {
			return c
		}
		return cmpUint(a.Boot, b.Boot)
	})
	return ks
}

func sortedKeys[V any](mp map[uint64]V) []uint64 {
	ks := make([]uint64, 0, len(mp))
	for k := range mp {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
