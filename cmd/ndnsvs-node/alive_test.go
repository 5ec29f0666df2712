package main

import (
	"testing"
	"time"
)

// Two alive apps attached to one node see each other come; when one
// stops, the other sees it expire within --expire beat intervals.
func TestAliveAttached(t *testing.T) {
	attachTestNode(t)
	a := startApp(t, "alive", nil, "-n", "/alice", "-i", "0.1", "--attach", "yes")
	b := startApp(t, "alive", nil, "-n", "/bob", "-i", "0.1", "--attach", "yes")
	a.out.waitFor(t, "alice", "[ALIVE] /bob", 10*time.Second)
	b.out.waitFor(t, "bob", "[ALIVE] /alice", 10*time.Second)
	for _, s := range []string{a.out.String(), b.out.String()} {
		if !containsAll(s, "alive: ", "/ndn/svs/health", "attached to the node at unix://") {
			t.Errorf("banner missing:\n%s", s)
		}
	}
	if code := b.stop(t); code != exitOK {
		t.Errorf("bob exit %d:\n%s", code, b.errs.String())
	}
	stopped := time.Now()
	a.out.waitFor(t, "alice", "[EXPIRED] /bob", 10*time.Second)
	if d := time.Since(stopped); d > time.Second {
		t.Errorf("bob expired %v after it stopped, want about 3 × 0.1 s", d)
	}
	b2 := startApp(t, "alive", nil, "-n", "/bob", "-i", "0.1", "--attach", "yes")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("second bob:\n%s%s", b2.out.String(), b2.errs.String())
		}
	})
	a.out.waitFor(t, "alice", "[BACK] /bob", 10*time.Second)
	b2.out.waitFor(t, "bob", "[ALIVE] /alice", 10*time.Second)
}
