package core

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fmtReleases prints releases as "1 2 [3-5 attempts] 6".
func fmtReleases(rs []Release[string]) string {
	var parts []string
	for _, r := range rs {
		if r.Gap != nil {
			parts = append(parts, fmt.Sprintf("[%d-%d %s]", r.Gap.Low, r.Gap.High, r.Gap.Reason))
			continue
		}
		parts = append(parts, r.Value)
	}
	return strings.Join(parts, " ")
}

func TestInOrderReleasesInSequenceOrder(t *testing.T) {
	o := NewInOrder[string](8)
	b := nm("b")
	o.Want(b, 1, 1, 6)
	step := func(seq uint64, want string) {
		t.Helper()
		rs, err := o.Arrived(b, 1, seq, fmt.Sprint(seq))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmtReleases(rs); got != want {
			t.Fatalf("after %d: released %q, want %q", seq, got, want)
		}
	}
	step(2, "")
	step(3, "")
	step(1, "1 2 3")
	step(1, "") // duplicate
	step(6, "")
	// 4 given up, 5 not yet: only 4 is released, as a gap.
	rs := o.GaveUp(GiveUp{Node: b, Boot: 1, Low: 4, High: 4, Attempts: 5, Last: FetchTimeout, Reason: GaveUpAttempts})
	if got := fmtReleases(rs); got != "[4-4 attempts]" {
		t.Fatalf("gap: %q", got)
	}
	if rs[0].Gap.Attempts != 5 || rs[0].Gap.Last != FetchTimeout {
		t.Errorf("gap keeps its report: %+v", rs[0].Gap)
	}
	step(5, "5 6")
	if _, owes := o.Next(b, 1); owes {
		t.Error("still owes")
	}
	if s := o.Stats(); s.Released != 5 || s.Gaps != 1 || s.Skipped != 1 || s.Duplicates != 1 || s.Buffered != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestInOrderHugeGapIsOneRelease(t *testing.T) {
	o := NewInOrder[string](8)
	b := nm("b")
	const huge = 1_000_000_000_000
	o.Want(b, 1, 1, huge)
	// The stall report arrives before the numbers in progress finish.
	if rs := o.GaveUp(GiveUp{Node: b, Boot: 1, Low: 3, High: huge, Reason: GaveUpStalled}); len(rs) != 0 {
		t.Fatalf("released early: %q", fmtReleases(rs))
	}
	// A publication inside a gap is a duplicate.
	if rs, _ := o.Arrived(b, 1, 7, "7"); len(rs) != 0 {
		t.Fatalf("released %q", fmtReleases(rs))
	}
	o.Arrived(b, 1, 2, "2")
	rs, _ := o.Arrived(b, 1, 1, "1")
	if got := fmtReleases(rs); got != "1 2 [3-1000000000000 stalled]" {
		t.Fatalf("released %q", got)
	}
	// More numbers after the gap.
	o.Want(b, 1, huge+1, huge+2)
	rs, _ = o.Arrived(b, 1, huge+1, "x")
	if got := fmtReleases(rs); got != "x" {
		t.Fatalf("released %q", got)
	}
	if s := o.Stats(); s.Skipped != huge-2 || s.Duplicates != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestInOrderSkipsNumbersNotWanted(t *testing.T) {
	o := NewInOrder[string](8)
	b := nm("b")
	o.Want(b, 1, 1, 2)
	o.Want(b, 1, 5, 6) // 3 and 4: the caller has them
	o.Want(b, 1, 1, 6) // wanted before: ignored
	o.Arrived(b, 1, 5, "5")
	o.Arrived(b, 1, 2, "2")
	if rs, _ := o.Arrived(b, 1, 3, "3"); len(rs) != 0 {
		t.Fatalf("3 not wanted, released %q", fmtReleases(rs))
	}
	rs, _ := o.Arrived(b, 1, 1, "1")
	if got := fmtReleases(rs); got != "1 2 5" {
		t.Fatalf("released %q", got)
	}
	// A gap spanning numbers not wanted reports only the wanted part.
	o.Want(b, 1, 9, 12)
	rs = o.GaveUp(GiveUp{Node: b, Boot: 1, Low: 6, High: 10, Reason: GaveUpSuperseded})
	if got := fmtReleases(rs); got != "[6-6 superseded] [9-10 superseded]" {
		t.Fatalf("released %q", got)
	}
	if n, ok := o.Next(b, 1); !ok || n != 11 {
		t.Errorf("next = %d %v, want 11", n, ok)
	}
}

func TestInOrderBufferIsBounded(t *testing.T) {
	o := NewInOrder[string](4)
	b := nm("b")
	o.Want(b, 1, 1, 100)
	for s := uint64(2); s <= 4; s++ {
		if _, err := o.Arrived(b, 1, s, "v"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.Arrived(b, 1, 5, "v"); !errors.Is(err, ErrTooFar) {
		t.Fatalf("5 with 1 missing and room for 4: %v, want ErrTooFar", err)
	}
	// A buffered publication inside a later gap is dropped with it.
	rs := o.GaveUp(GiveUp{Node: b, Boot: 1, Low: 1, High: 3, Reason: GaveUpAttempts})
	if got := fmtReleases(rs); got != "[1-3 attempts] v" {
		t.Fatalf("released %q", got)
	}
	if s := o.Stats(); s.Refused != 1 || s.Duplicates != 2 || s.Buffered != 0 {
		t.Errorf("stats = %+v", s)
	}
	// Unknown producers and bad gaps change nothing.
	if rs := o.GaveUp(GiveUp{Node: nm("z"), Boot: 1, Low: 1, High: 1}); rs != nil {
		t.Error("unknown producer released")
	}
	if rs := o.GaveUp(GiveUp{Node: b, Boot: 1, Low: 9, High: 8}); rs != nil {
		t.Error("empty gap released")
	}
	o.Forget(b, 1)
	if _, ok := o.Next(b, 1); ok {
		t.Error("forgotten producer still owes")
	}
}

// TestInOrderOverlappingGaps: a caller may add gaps of its own that overlap
// the Fetcher's; every number is still released once.
func TestInOrderOverlappingGaps(t *testing.T) {
	o := NewInOrder[string](8)
	b := nm("b")
	o.Want(b, 1, 1, 12)
	o.GaveUp(GiveUp{Node: b, Boot: 1, Low: 7, High: 12, Reason: GaveUpStalled})
	o.GaveUp(GiveUp{Node: b, Boot: 1, Low: 5, High: 10, Reason: GaveUpAttempts})
	if rs, _ := o.Arrived(b, 1, 11, "11"); len(rs) != 0 {
		t.Fatalf("11 is in a gap, released %q", fmtReleases(rs))
	}
	o.Arrived(b, 1, 2, "2")
	o.Arrived(b, 1, 3, "3")
	o.Arrived(b, 1, 4, "4")
	rs, _ := o.Arrived(b, 1, 1, "1")
	if got := fmtReleases(rs); got != "1 2 3 4 [5-10 attempts] [11-12 stalled]" {
		t.Fatalf("released %q", got)
	}
	if s := o.Stats(); s.Released != 4 || s.Skipped != 8 || s.Buffered != 0 || s.Duplicates != 1 {
		t.Errorf("stats = %+v", s)
	}
}
