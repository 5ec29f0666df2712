package svs

import "sync"

// mailbox hands items from any goroutine to one reader without ever
// blocking the writer: a slice under a mutex and a one-slot wake-up
// channel. It is unbounded by itself; every use states what bounds it.
type mailbox[T any] struct {
	mu    sync.Mutex
	items []T
	spare []T
	wake  chan struct{}
}

func newMailbox[T any]() *mailbox[T] {
	return &mailbox[T]{wake: make(chan struct{}, 1)}
}

// put appends v and wakes the reader.
func (m *mailbox[T]) put(v T) {
	m.mu.Lock()
	m.items = append(m.items, v)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// putBounded appends v unless limit items already wait; it reports
// whether v was taken.
func (m *mailbox[T]) putBounded(v T, limit int) bool {
	m.mu.Lock()
	if len(m.items) >= limit {
		m.mu.Unlock()
		return false
	}
	m.items = append(m.items, v)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return true
}

// putLazy appends v and wakes the reader only once limit items wait; it
// reports whether the box was empty before, so that the writer can tell
// the reader, once, that items wait for its next round (a reader that
// batches them on a timer of its own).
func (m *mailbox[T]) putLazy(v T, limit int) (first bool) {
	m.mu.Lock()
	first = len(m.items) == 0
	m.items = append(m.items, v)
	full := len(m.items) >= limit
	m.mu.Unlock()
	if full {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
	return first
}

// take returns everything waiting, in order, and leaves the box empty.
// The returned slice is the reader's until its next take.
func (m *mailbox[T]) take() []T {
	m.mu.Lock()
	out := m.items
	clear(m.spare)
	m.items = m.spare[:0]
	m.spare = out
	m.mu.Unlock()
	return out
}

// len returns how many items wait.
func (m *mailbox[T]) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}
