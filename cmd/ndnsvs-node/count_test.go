package main

import (
	"strings"
	"testing"
	"time"
)

// Two count apps attached to one node each print their own numbers and
// the other's, in order.
func TestCountAttached(t *testing.T) {
	attachTestNode(t)
	a := startApp(t, "count", nil, "-n", "/carol", "-i", "0.1", "--attach", "yes", "-gp", "/ndn/svs/count-test")
	b := startApp(t, "count", nil, "-n", "/dave", "-i", "0.1", "--attach", "yes", "-gp", "/ndn/svs/count-test")
	a.out.waitFor(t, "carol", "/dave: 5\n", 15*time.Second)
	b.out.waitFor(t, "dave", "/carol: 5\n", 15*time.Second)
	for _, tc := range []struct {
		who, screen, peer string
	}{{"carol", a.out.String(), "/dave"}, {"dave", b.out.String(), "/carol"}} {
		if !strings.Contains(tc.screen, "count: /"+tc.who+" in /ndn/svs/count-test, every 100ms (attached") {
			t.Errorf("%s: no banner:\n%s", tc.who, tc.screen)
		}
		var own, theirs []string
		for _, l := range strings.Split(tc.screen, "\n") {
			if n, ok := strings.CutPrefix(l, "YOU: "); ok {
				own = append(own, n)
			}
			if n, ok := strings.CutPrefix(l, tc.peer+": "); ok {
				theirs = append(theirs, n)
			}
		}
		for i, n := range theirs[:5] {
			if want := []string{"1", "2", "3", "4", "5"}[i]; n != want {
				t.Errorf("%s: the numbers of %s came as %q, want 1, 2, 3, 4, 5 first", tc.who, tc.peer, theirs)
				break
			}
		}
		if len(own) < 5 || own[0] != "1" || own[4] != "5" {
			t.Errorf("%s: own numbers %q", tc.who, own)
		}
	}
}
