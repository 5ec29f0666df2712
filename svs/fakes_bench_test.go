package svs

import (
	"context"
	"fmt"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// BenchmarkPublishAmongFakes is the time for a publication of one of three
// members on bare faces of the real forwarder to reach the other two, with
// 0 or 500 fake names (the most a flood of Sync Interests leaves in every
// vector, internal/hostile) already in their vectors.
func BenchmarkPublishAmongFakes(b *testing.B) {
	for _, fakes := range []int{0, 500} {
		b.Run(fmt.Sprintf("fakes-%d", fakes), func(b *testing.B) {
			group := testGroup(b)
			changed := newSignal()
			var ms []*member
			for i := range 3 {
				ms = append(ms, newMemberOn(b, group, fmt.Sprintf("/real/%d", i), changed, nil, true))
			}
			if fakes > 0 {
				attacker := fwtest.BareFace(b, testFwd)
				attacker.OnPacket(func([]byte) {})
				attacker.OnError(func(error) {})
				if err := attacker.Open(); err != nil {
					b.Fatal(err)
				}
				var pkts [][]byte
				for p := 0; p < fakes; p += 50 {
					v := &core.Vector{}
					for k := range 50 {
						v.Set(core.Name(fmt.Sprintf("\x08\x0bfake%07d", p+k)), uint64(time.Now().Unix()), 1)
					}
					pkts = append(pkts, goodInterest(b, group, v))
				}
				// Names over the admission rate are refused: send again
				// until every member holds them all.
				for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
					low := fakes
					for _, m := range ms {
						low = min(low, m.s.State().Len())
					}
					if low >= fakes {
						break
					}
					if time.Now().After(deadline) {
						b.Fatalf("fakes not learned: %d of %d", low, fakes)
					}
					for _, pkt := range pkts {
						if err := attacker.Send(enc.Wire{pkt}); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m := ms[i%3]
				seq, err := m.s.PublishSeq(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if !heard(changed, 10*time.Second, func() bool {
					for _, o := range ms {
						if o != m && o.get(m.key()) != seq {
							return false
						}
					}
					return true
				}) {
					b.Fatalf("publication %d not learned", seq)
				}
			}
		})
	}
}
