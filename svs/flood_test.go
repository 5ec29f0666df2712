package svs

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// Three members on bare faces of the real (in-process) forwarder, as the
// node runs them, while an attacker's face sends 150,000 fake member names
// in 2 s (500 Sync Interests of 300 names, 7.5 KB each) to the group: the
// members keep learning each other's publications, each within a bound of
// the quiet latency, and their vectors stay within MaxMembers.
func TestFloodOfFakeNamesWithARealForwarder(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	var ms []*member
	for i := range 3 {
		ms = append(ms, newMemberOn(t, group, fmt.Sprintf("/real/%d", i), changed, nil, true))
	}
	ctx := context.Background()
	// publish makes m publish and returns how long until every other
	// member has learned it.
	publish := func(m *member) time.Duration {
		t.Helper()
		start := time.Now()
		seq, err := m.s.PublishSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !heard(changed, 10*time.Second, func() bool {
			for _, o := range ms {
				if o != m && o.get(m.key()) != seq {
					return false
				}
			}
			return true
		}) {
			t.Fatalf("%s's publication %d not learned: %s", m.name, seq, describeKey(m, m.key()))
		}
		return time.Since(start)
	}
	var quiet []time.Duration
	for range 5 {
		for _, m := range ms {
			quiet = append(quiet, publish(m))
		}
	}

	attacker := fwtest.BareFace(t, testFwd)
	attacker.OnPacket(func([]byte) {})
	attacker.OnError(func(error) {})
	if err := attacker.Open(); err != nil {
		t.Fatal(err)
	}
	const total, per = 150_000, 300
	packets := make([][]byte, total/per)
	for p := range packets {
		v := &core.Vector{}
		for k := range per {
			v.Set(core.Name(fmt.Sprintf("\x08\x0bfake%07d", p*per+k)), uint64(time.Now().Unix()), 1)
		}
		packets[p] = goodInterest(t, group, v)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Second / time.Duration(len(packets)))
		defer tick.Stop()
		for _, pkt := range packets {
			<-tick.C
			if err := attacker.Send(enc.Wire{pkt}); err != nil {
				return
			}
		}
	}()
	var flood []time.Duration
	for i := 0; ; i++ {
		select {
		case <-done:
		default:
			flood = append(flood, publish(ms[i%3]))
			continue
		}
		break
	}
	for _, m := range ms {
		flood = append(flood, publish(m))
	}
	slices.Sort(quiet)
	slices.Sort(flood)
	for _, m := range ms {
		st := m.s.Stats()
		if n := m.s.State().Len(); n > core.DefaultMaxMembers+3 {
			t.Errorf("%s: %d pairs", m.name, n)
		}
		t.Logf("%s: %d pairs, received %d, refused %d names, inbox dropped %d, partial %d", m.name, m.s.State().Len(), st.Received, st.Engine.RefusedMembers, st.InboxDropped, st.Engine.Partial)
		m.checkErrs(t)
	}
	t.Logf("time for a publication to reach both others: quiet median %v max %v; during the flood (%d publications) median %v max %v",
		quiet[len(quiet)/2], quiet[len(quiet)-1], len(flood), flood[len(flood)/2], flood[len(flood)-1])
	if flood[len(flood)/2] > 10*quiet[len(quiet)/2]+50*time.Millisecond {
		t.Errorf("median latency during the flood %v, quiet %v", flood[len(flood)/2], quiet[len(quiet)/2])
	}
}
