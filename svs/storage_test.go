package svs

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestStorageCheckReserve(t *testing.T) {
	for _, tc := range []struct {
		curBoot, cur, boot, seq uint64
		same                    bool
		err                     error
	}{
		{0, 0, 0, 0, true, nil},
		{0, 0, 100, 0, false, nil},
		{100, 10, 100, 10, true, nil},
		{100, 10, 100, 11, false, nil},
		{100, 10, 100, 9, false, ErrReservationBackwards},
		{100, 10, 101, 0, false, nil},
		{100, 10, 99, math.MaxUint64, false, ErrReservationBackwards},
		{100, math.MaxUint64, 100, math.MaxUint64, true, nil},
	} {
		same, err := CheckReserve(tc.curBoot, tc.cur, tc.boot, tc.seq)
		if same != tc.same || !errors.Is(err, tc.err) {
			t.Errorf("CheckReserve(%d, %d, %d, %d) = %v, %v; want %v, %v",
				tc.curBoot, tc.cur, tc.boot, tc.seq, same, err, tc.same, tc.err)
		}
	}
}

func TestStorageCovered(t *testing.T) {
	for _, tc := range []struct {
		resBoot, reserved, boot, seq uint64
		want                         bool
	}{
		{0, 0, 1, 1, false},
		{10, 5, 10, 5, true},
		{10, 5, 10, 6, false},
		{10, 5, 9, math.MaxUint64, true},
		{10, 5, 11, 1, false},
	} {
		if got := Covered(tc.resBoot, tc.reserved, tc.boot, tc.seq); got != tc.want {
			t.Errorf("Covered(%d, %d, %d, %d) = %v, want %v", tc.resBoot, tc.reserved, tc.boot, tc.seq, got, tc.want)
		}
	}
}

func TestStorageReserveAhead(t *testing.T) {
	for _, tc := range []struct {
		next, mark, step uint64
		want             uint64
		need             bool
	}{
		{1, 0, 0, 1 + DefaultReserveStep, true}, // nothing reserved yet
		{1, 100, 100, 100, false},               // 99 left: more than half a step
		{50, 100, 100, 100, false},              // exactly half a step left
		{51, 100, 100, 200, true},               // under half a step: extend from the mark
		{100, 100, 100, 200, true},              // the last reserved one
		{150, 100, 100, 250, true},              // past the mark: extend from next
		{1, 0, 1, 2, true},                      // step 1
		{math.MaxUint64 - 10, math.MaxUint64 - 20, 100, math.MaxUint64, true}, // no overflow
		{math.MaxUint64, math.MaxUint64, 100, math.MaxUint64, false},          // nothing left to reserve
	} {
		got, need := ReserveAhead(tc.next, tc.mark, tc.step)
		if got != tc.want || need != tc.need {
			t.Errorf("ReserveAhead(%d, %d, %d) = %d, %v; want %d, %v", tc.next, tc.mark, tc.step, got, need, tc.want, tc.need)
		}
	}
}

// TestStorageReserveAheadCovers: whatever the pace, following
// ReserveAhead keeps every handed-out number under a durable mark, and
// writes once per half step at most.
func TestStorageReserveAheadCovers(t *testing.T) {
	const step = 64
	var mark uint64
	writes := 0
	for next := uint64(1); next <= 10_000; next++ {
		if m, need := ReserveAhead(next, mark, step); need {
			if m < mark || m < next {
				t.Fatalf("next %d: mark %d → %d", next, mark, m)
			}
			mark = m
			writes++
		}
		if next > mark {
			t.Fatalf("next %d handed out above the mark %d", next, mark)
		}
	}
	if writes > 10_000/(step/2)+1 {
		t.Fatalf("%d reservation writes for 10,000 numbers with step %d", writes, step)
	}
}

func TestStorageNewBoot(t *testing.T) {
	for _, tc := range []struct {
		last uint64
		now  time.Time
		boot uint64
		wait time.Duration
	}{
		{0, time.Unix(1000, 250e6), 1001, 750 * time.Millisecond},
		{0, time.Unix(1000, 0), 1001, time.Second},
		{1000, time.Unix(1000, 900e6), 1001, 100 * time.Millisecond},
		{1001, time.Unix(1000, 900e6), 1002, 1100 * time.Millisecond}, // last ahead of the clock
		{5, time.Unix(1000, 0), 1001, time.Second},
		{math.MaxUint64, time.Unix(1000, 0), math.MaxUint64, 0},
		{0, time.Unix(-5, 0), 1, 6 * time.Second},
	} {
		boot, wait := NewBoot(tc.last, tc.now)
		if boot != tc.boot || wait != tc.wait {
			t.Errorf("NewBoot(%d, %v) = %d, %v; want %d, %v", tc.last, tc.now.Unix(), boot, wait, tc.boot, tc.wait)
		}
	}
}

// TestStorageNewBootNeverRepeats: two incarnations started one after the
// other, each waiting as told, never share a boot, however close together
// they start and even with no state passed between them.
func TestStorageNewBootNeverRepeats(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	prev := uint64(0)
	for i := range 1000 {
		boot, wait := NewBoot(0, now) // no state: last unknown
		now = now.Add(wait)           // it claims boot at now
		if boot <= prev {
			t.Fatalf("start %d: boot %d after %d", i, boot, prev)
		}
		prev = boot
		now = now.Add(time.Duration(i%7) * 100 * time.Millisecond) // killed and restarted soon after
	}
}

func TestStorageRetentionKeep(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name   string
		r      Retention
		count  int
		bytes  int64
		age    time.Duration
		newest bool
		want   bool
	}{
		{"unbounded", Retention{}, 1e9, 1e18, 1e6 * time.Hour, false, true},
		{"count at bound", Retention{MaxCount: 10}, 10, 0, 0, false, true},
		{"count over bound", Retention{MaxCount: 10}, 11, 0, 0, false, false},
		{"count over, newest", Retention{MaxCount: 10}, 11, 0, 0, true, true},
		{"bytes at bound", Retention{MaxBytes: 100}, 3, 100, 0, false, true},
		{"bytes over", Retention{MaxBytes: 100}, 3, 101, 0, false, false},
		{"bytes over, newest", Retention{MaxBytes: 100}, 1, 5000, 0, true, true},
		{"age at bound", Retention{MaxAge: time.Hour}, 1, 0, time.Hour, false, true},
		{"age over", Retention{MaxAge: time.Hour}, 1, 0, time.Hour + 1, false, false},
		{"age over, newest too", Retention{MaxAge: time.Hour}, 1, 0, time.Hour + 1, true, false},
	} {
		if got := tc.r.Keep(tc.count, tc.bytes, t0, t0.Add(tc.age), tc.newest); got != tc.want {
			t.Errorf("%s: Keep = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStoragePublicationCheck(t *testing.T) {
	seg := [][]byte{{1}}
	for _, tc := range []struct {
		name    string
		p       Publication
		fetched bool
		ok      bool
	}{
		{"own", Publication{Boot: 1, Seq: 1, Segments: seg}, false, true},
		{"own boot 0", Publication{Boot: 0, Seq: 1, Segments: seg}, false, true},
		{"seq 0", Publication{Boot: 1, Seq: 0, Segments: seg}, false, false},
		{"no segments", Publication{Boot: 1, Seq: 1}, false, false},
		{"empty segment", Publication{Boot: 1, Seq: 1, Segments: [][]byte{{1}, nil}}, false, false},
		{"fetched", Publication{Node: "n", Boot: 1, Seq: 1, Segments: seg}, true, true},
		{"fetched without node", Publication{Boot: 1, Seq: 1, Segments: seg}, true, false},
	} {
		err := tc.p.Check(tc.fetched)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidPublication)) {
			t.Errorf("%s: Check = %v", tc.name, err)
		}
	}
	if got := (Publication{Segments: [][]byte{make([]byte, 10), make([]byte, 7)}}).Size(); got != 17 {
		t.Errorf("Size = %d, want 17", got)
	}
}
