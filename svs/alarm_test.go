package svs

import (
	"testing"
	"time"
)

// The alarm fires at the earliest deadline asked since it last fired: a
// later one never postpones it, an earlier one brings it forward.
func TestAlarmFiresAtTheEarliestDeadline(t *testing.T) {
	a := newAlarm()
	defer a.stop()
	start := time.Now()
	a.want(start.Add(time.Hour))
	a.want(start.Add(30 * time.Millisecond))
	a.want(start.Add(time.Minute)) // later: ignored
	select {
	case <-a.c():
	case <-time.After(5 * time.Second):
		t.Fatal("the alarm did not fire at the earliest deadline")
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("fired after %v, before the deadline", d)
	}
	a.fired()
	// Fired: the next deadline is taken whatever it is.
	a.want(time.Now().Add(time.Hour))
	a.want(time.Now().Add(10 * time.Millisecond))
	select {
	case <-a.c():
	case <-time.After(5 * time.Second):
		t.Fatal("the alarm did not fire again")
	}
	a.fired()
	a.want(time.Now().Add(10 * time.Millisecond))
	a.stop()
	select {
	case <-a.c():
		t.Fatal("a stopped alarm fired")
	case <-time.After(50 * time.Millisecond):
	}
}
