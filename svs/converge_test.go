package svs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// Every member learns every sequence number of every other member, through
// the real forwarder, with publishers rotating: each OnUpdate range starts
// right after the previous one (in order, no duplicates, no gaps) and the
// last one ends exactly at what was published. Members run on ndn engines
// (New), on bare in-process faces (NewOnFace), or half and half.
func TestMembersConverge(t *testing.T) {
	for _, tc := range []struct {
		members, perMember int
		bare               func(i int) bool
		kind               string
	}{
		{3, 20, func(int) bool { return false }, "engines"},
		{10, 8, func(int) bool { return false }, "engines"},
		{3, 20, func(int) bool { return true }, "bare faces"},
		{10, 8, func(i int) bool { return i%2 == 1 }, "mixed"},
	} {
		t.Run(fmt.Sprintf("%d members on %s", tc.members, tc.kind), func(t *testing.T) {
			group := testGroup(t)
			changed := newSignal()
			ms := make([]*member, tc.members)
			for i := range ms {
				ms[i] = newMemberOn(t, group, fmt.Sprintf("/node/%d", i), changed, nil, tc.bare(i))
			}
			published := map[core.Key]uint64{}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for k := range tc.members * tc.perMember {
				m := ms[k%tc.members]
				seq, err := m.s.PublishSeq(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want := published[m.key()] + 1; seq != want {
					t.Fatalf("%s published seq %d, want %d", m.name, seq, want)
				}
				published[m.key()] = seq
				if k%7 == 0 {
					// Now and then let the group catch up, so that both
					// single-seq and multi-seq ranges occur.
					waitUntil(t, changed, 10*time.Second, func() bool { return converged(ms, published) },
						func() string { return describe(ms, published) })
				}
			}
			waitUntil(t, changed, 10*time.Second, func() bool { return converged(ms, published) },
				func() string { return describe(ms, published) })
			for _, m := range ms {
				m.checkErrs(t)
				if got := m.s.Seq(); got != published[m.key()] {
					t.Errorf("%s: Seq() = %d, want %d", m.name, got, published[m.key()])
				}
				st := m.s.Stats()
				if st.Malformed+st.Invalid+st.InboxDropped+st.SendErrors+st.Ignored != 0 {
					t.Errorf("%s: unexpected drops or errors: %+v", m.name, st)
				}
				v := m.s.State()
				for k, seq := range published {
					if got := v.Get(k.Node, k.Boot); got != seq {
						t.Errorf("%s: State() has %q=%d, want %d", m.name, k.Node, got, seq)
					}
				}
			}
		})
	}
}
