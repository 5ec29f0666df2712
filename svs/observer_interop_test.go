//go:build !race

// ndnd v1.5.3's SvSync races on its own (see interop_test.go): left out of
// -race builds.

package svs

import (
	"testing"
	"time"
)

// ndnd v1.5.3 writes no SignatureTime: what its vectors bring is counted
// as news without a time, and no latency is made up for it.
func TestSyncLatencyUntimedFromNdnd(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	var lat latencies
	ours := newMember(t, group, "/ours/untimed", changed, func(c *Config) { c.Observer.SyncLatency = lat.observe })
	theirs := newNdndMember(t, group, "/ndnd/untimed", changed)
	// SvSync gives no readiness signal: publish until heard (as
	// TestInteropNdndSvSync does).
	var seq uint64
	for attempt := 0; ; attempt++ {
		seq = theirs.sv.IncrSeqNo(theirs.name)
		if heard(changed, 200*time.Millisecond, func() bool { return ours.get(theirs.key()) == seq }) {
			break
		}
		if attempt == 20 {
			t.Fatal("the ndnd member was never heard")
		}
	}
	st := ours.s.Stats()
	if st.News == 0 || st.NewsUntimed != st.News || st.NewsNegative != 0 {
		t.Errorf("news %d, untimed %d, negative %d: want every vector with news untimed", st.News, st.NewsUntimed, st.NewsNegative)
	}
	if got := lat.all(); len(got) != 0 {
		t.Errorf("latencies observed without a SignatureTime: %v", got)
	}
	ms := ours.s.Members()
	found := false
	for _, m := range ms {
		if m.Node == theirs.key().Node && m.Boot == theirs.key().Boot {
			found = m.Seq == seq && !m.LastHeard.IsZero()
		}
	}
	if !found {
		t.Errorf("members %+v lack the ndnd member at seq %d, heard", ms, seq)
	}
}
