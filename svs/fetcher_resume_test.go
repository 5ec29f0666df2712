package svs

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	sig "github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// A failed attempt keeps the segments it received: a producer that
// answers 68 segment Interests, then drops the next 32, and so on, goes
// silent long enough to end every attempt of a 1 MiB publication (132
// segments, no segment retries) before it completes; the publication is
// still delivered intact, each retry asking only for what is missing.
func TestFetchResumesFailedAttempts(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	m := newPubMember(t, group, "/resume/m", changed, true, func(c *Config) {
		c.Data.SegmentLifetime = 100 * time.Millisecond
		c.Data.SegmentRetries = -1 // an unanswered segment ends its attempt
		c.Data.Fetch = core.FetchConfig{MaxAttempts: 5, BackoffBase: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond}
	})
	announcer := newMember(t, group, "/resume/p", changed, nil)
	e, af := newEngine(t)
	prefix := group.Append(mustName("/resume/p")...)
	if err := testFwd.AddRoute(prefix, af.FaceID(), 0, fw.OriginApp); err != nil {
		t.Fatal(err)
	}
	const size = 1 << 20
	want := payload(1, size)
	var mu sync.Mutex
	var segs [][]byte // encoded once, under mu
	asked := map[uint64]int{}
	got := 0
	err := e.AttachHandler(prefix, func(args ndn.InterestHandlerArgs) {
		name := args.Interest.Name()
		seg := name[len(name)-1].NumberVal()
		mu.Lock()
		defer mu.Unlock()
		got++
		asked[seg]++
		if got%100 > 68 || got%100 == 0 {
			return
		}
		if segs == nil {
			s, err := encodeSegments(name[:len(name)-1], want, sig.NewSha256Signer())
			if err != nil {
				t.Error(err)
				return
			}
			segs = s
		}
		if seg >= uint64(len(segs)) {
			t.Errorf("segment %d asked, of %d", seg, len(segs))
			return
		}
		_ = args.Reply(enc.Wire{segs[seg]})
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := announcer.s.PublishSeq(ctx); err != nil {
		t.Fatal(err)
	}
	pk := announcer.key()
	waitUntil(t, changed, 30*time.Second, func() bool { return len(m.received(pk)) == 1 || len(m.missedCopy()) > 0 },
		func() string { return fmt.Sprintf("%+v", m.s.DataStats()) })
	if ms := m.missedCopy(); len(ms) != 0 {
		t.Fatalf("missed %+v; %+v", ms, m.s.DataStats())
	}
	if msg := m.received(pk)[0]; !bytes.Equal(msg.Bytes(), want) {
		t.Errorf("payload of %d bytes differs from the %d published", msg.Size(), size)
	}
	st := m.s.DataStats()
	mu.Lock()
	defer mu.Unlock()
	// Every attempt but the last failed; the segments asked more than
	// once are those lost (each retry asks for the missing ones only).
	again := 0
	for _, n := range asked {
		again += n - 1
	}
	if st.FetchFailures == 0 || again > got/2 {
		t.Errorf("%d failed attempts, %d of %d Interests asked again for a segment", st.FetchFailures, again, got)
	}
	t.Logf("%d Interests for %d segments (%d asked again), %d failed attempts", got, len(asked), again, st.FetchFailures)
}

// The partials of failed attempts stay within maxPartialBytes per member:
// the oldest is dropped first, one over the bound alone is not kept, and
// nothing is kept after the last attempt or from an attempt that got no
// segment.
func TestFetchWorkerBoundsPartials(t *testing.T) {
	w := &fetchWorker{cfg: &DataConfig{Fetch: core.FetchConfig{MaxAttempts: 3}}}
	job := func(key string, attempt, bytes int) *fetchJob {
		got := 0
		if bytes > 0 {
			got = 1
		}
		return &fetchJob{f: core.Fetch{Attempt: attempt}, key: key, got: got, bytes: bytes}
	}
	third := maxPartialBytes / 3
	w.keep(job("a", 1, third))
	w.keep(job("b", 1, third))
	w.keep(job("c", 2, third))
	if len(w.partials) != 3 || w.partialBytes != 3*third {
		t.Fatalf("kept %d partials, %d bytes; want 3, %d", len(w.partials), w.partialBytes, 3*third)
	}
	w.keep(job("d", 1, third)) // over: a, the oldest, goes
	if _, ok := w.partials["a"]; ok || len(w.partials) != 3 || w.partialBytes > maxPartialBytes {
		t.Errorf("after d: %d partials, %d bytes, a kept %v", len(w.partials), w.partialBytes, w.partials["a"] != nil)
	}
	if j := w.resume("b"); j == nil || w.partials["b"] != nil || w.partialBytes != 2*third {
		t.Errorf("resume b: %v, %d bytes left", j, w.partialBytes)
	}
	w.keep(job("e", 3, third)) // the last attempt: given up
	w.keep(job("f", 1, 0))     // nothing received
	if len(w.partials) != 2 {
		t.Errorf("%d partials, want c and d", len(w.partials))
	}
	w.keep(job("g", 1, maxPartialBytes+1)) // alone over the bound
	if len(w.partials) != 0 || w.partialBytes != 0 {
		t.Errorf("after g: %d partials, %d bytes; want none", len(w.partials), w.partialBytes)
	}
}

// A fetch asks as many segments at once as the producer's previous
// publication had (fetchWorker.guess): the second of two 5-segment
// publications has all 5 asked before its producer answers any; a
// 1-segment publication after them is delivered although 4 of the
// Interests for it asked for segments that do not exist, and the next
// asks for its one segment alone.
func TestFetchGuessesTheProducersSize(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	m := newPubMember(t, group, "/guess/m", changed, true, nil)
	announcer := newMember(t, group, "/guess/p", changed, nil)
	e, af := newEngine(t)
	prefix := group.Append(mustName("/guess/p")...)
	if err := testFwd.AddRoute(prefix, af.FaceID(), 0, fw.OriginApp); err != nil {
		t.Fatal(err)
	}
	sizes := []int{5*SegmentSize - 1, 5 * SegmentSize, 100, 10}
	var mu sync.Mutex
	segs := map[uint64][][]byte{}  // per seq, encoded once
	asked := map[uint64][]uint64{} // per seq, the segments asked, in order
	held := map[uint64][]func(){}  // per seq, the replies not sent yet
	firstReply := map[uint64]int{} // per seq, segments asked before the first reply
	err := e.AttachHandler(prefix, func(args ndn.InterestHandlerArgs) {
		name := args.Interest.Name()
		seg := name[len(name)-1].NumberVal()
		seq := name[len(name)-3].NumberVal()
		mu.Lock()
		defer mu.Unlock()
		if seq < 1 || seq > uint64(len(sizes)) {
			t.Errorf("asked %s", name)
			return
		}
		if segs[seq] == nil {
			s, err := encodeSegments(name[:len(name)-1], payload(seq, sizes[seq-1]), sig.NewSha256Signer())
			if err != nil {
				t.Error(err)
				return
			}
			segs[seq] = s
		}
		asked[seq] = append(asked[seq], seg)
		if seg >= uint64(len(segs[seq])) {
			return // no such segment: silence, as dataServer.serve
		}
		reply := func() { _ = args.Reply(enc.Wire{segs[seq][seg]}) }
		if seq != 2 {
			reply()
			return
		}
		// The second publication is answered once all of its segments
		// are asked, or after 300 ms.
		held[seq] = append(held[seq], reply)
		flush := func() {
			if _, done := firstReply[seq]; !done {
				firstReply[seq] = len(asked[seq])
			}
			for _, r := range held[seq] {
				r()
			}
			held[seq] = nil
		}
		if len(asked[seq]) == len(segs[seq]) {
			flush()
		} else if len(held[seq]) == 1 {
			time.AfterFunc(300*time.Millisecond, func() { mu.Lock(); defer mu.Unlock(); flush() })
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	pk := announcer.key()
	for i := range sizes {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := announcer.s.PublishSeq(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		waitUntil(t, changed, 10*time.Second, func() bool { return len(m.received(pk)) == i+1 },
			func() string {
				return fmt.Sprintf("publication %d: %s", i+1, m.status())
			})
		if got := m.received(pk)[i].Bytes(); !bytes.Equal(got, payload(uint64(i+1), sizes[i])) {
			t.Errorf("publication %d: %d bytes, payload differs", i+1, len(got))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if asked[1][0] != 0 || len(asked[1]) != 5 {
		t.Errorf("first publication asked %v: want segment 0 first, then the 4 others", asked[1])
	}
	if firstReply[2] != 5 {
		t.Errorf("second publication: %d of its 5 segments asked before an answer (%v), want all", firstReply[2], asked[2])
	}
	if len(asked[3]) != 5 {
		t.Errorf("third publication (1 segment) asked %v: want the 5 guessed", asked[3])
	}
	if len(asked[4]) != 1 {
		t.Errorf("fourth publication (1 segment) asked %v: want its one segment", asked[4])
	}
	st := m.s.DataStats()
	if st.FetchFailures != 0 || st.Fetcher.Outstanding != 0 || st.Fetcher.Retried != 0 {
		t.Errorf("stats %+v: want no failure, no retry, nothing outstanding", st)
	}
	m.checkErrs(t)
}
