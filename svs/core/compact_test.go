package core

import (
	"fmt"
	"testing"
	"time"
	"unsafe"
)

// CompactNames keeps every entry as it was, its names now cut from one
// string in wire order, and lookups still find them.
func TestCompactNames(t *testing.T) {
	v := NewVector()
	for _, n := range []string{"/c", "/a", "/bb", "/a"} {
		// Each name a string of its own, as decoded packets give them.
		name := Name(string([]byte("\x08" + string(rune(len(n)-1)) + n[1:])))
		v.Set(name, uint64(len(n)), 7)
		v.Set(name, uint64(len(n))+1, 9)
	}
	before := v.Entries()
	v.CompactNames()
	after := v.Entries()
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("entries changed: %v, want %v", after, before)
	}
	base := unsafe.StringData(string(after[0].Node))
	off := 0
	for i, e := range after {
		if i > 0 && e.Node == after[i-1].Node {
			if unsafe.StringData(string(e.Node)) != unsafe.StringData(string(after[i-1].Node)) {
				t.Errorf("entry %d: the same node's name is a second string", i)
			}
			continue
		}
		if got := unsafe.StringData(string(e.Node)); got != (*byte)(unsafe.Add(unsafe.Pointer(base), off)) {
			t.Errorf("entry %d: name %q not at offset %d of one string", i, e.Node, off)
		}
		off += len(e.Node)
	}
	for _, e := range before {
		if got := v.Get(e.Node, e.Boot); got != e.Seq {
			t.Errorf("Get(%q, %d) = %d, want %d", e.Node, e.Boot, got, e.Seq)
		}
	}
}

// Receive compacts the local vector's names when nodes come, at every
// new node while the vector is small, and at most once per quarter of its
// size in new nodes beyond 256 entries.
func TestReceiveCompactsNewNames(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxMembers, c.AdmitBurst = 1000, 1000 })
	now := time.Duration(0)
	contiguous := func() bool {
		v := e.state
		for i := 1; i < len(v.entries); i++ {
			a, b := v.entries[i-1].Node, v.entries[i].Node
			if a == b {
				continue
			}
			if unsafe.StringData(string(b)) != (*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(string(a))), len(a))) {
				return false
			}
		}
		return true
	}
	add := func(from, to int) {
		in := NewVector()
		for i := from; i < to; i++ {
			in.Set(Name(fmt.Sprintf("\x08\x05n%04d", i)), testBoot, 1)
		}
		now += time.Millisecond
		e.Receive(now, testWall, in)
	}
	for i := range 10 {
		add(i, i+1)
		if !contiguous() {
			t.Fatalf("after node %d: names not in one string", i)
		}
	}
	add(10, 300) // over 256 entries: compacted (290 added)
	if !contiguous() {
		t.Fatal("after 290 nodes at once: names not in one string")
	}
	add(300, 301) // one more: not yet
	if contiguous() {
		t.Fatal("one node more over 256 entries compacted at once")
	}
	add(301, 400) // a quarter of the vector since: compacted
	if !contiguous() {
		t.Fatal("after a quarter more: names not in one string")
	}
}
