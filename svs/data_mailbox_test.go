package svs

import "testing"

// TestMailboxPutLazy: putLazy reports the first item of an empty box, and
// wakes the reader only when the limit is reached.
func TestMailboxPutLazy(t *testing.T) {
	m := newMailbox[int]()
	woken := func() bool {
		select {
		case <-m.wake:
			return true
		default:
			return false
		}
	}
	if !m.putLazy(1, 3) {
		t.Error("first item of an empty box not reported")
	}
	if m.putLazy(2, 3) {
		t.Error("second item reported as first")
	}
	if woken() {
		t.Error("woken below the limit")
	}
	m.putLazy(3, 3)
	if !woken() {
		t.Error("not woken at the limit")
	}
	if got := m.take(); len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Errorf("take = %v, want [1 2 3]", got)
	}
	if !m.putLazy(4, 3) {
		t.Error("first item after take not reported")
	}
}
