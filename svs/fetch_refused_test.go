package svs

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
)

// refuseFirst is a Validator that refuses the first publication segment
// of each name it sees, as if a forger had answered first, and accepts the
// next, and every State Vector Data.
type refuseFirst struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *refuseFirst) Validate(d ndn.Data, _ enc.Wire) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := d.Name()
	if len(n) == 0 || n[len(n)-1].Typ != enc.TypeSegmentNameComponent {
		return nil
	}
	k := n.String()
	if !r.seen[k] {
		r.seen[k] = true
		return errors.New("forged")
	}
	return nil
}

// A fetched Data the Validator refuses says nothing about its producer:
// its segment is asked again at once, within the attempt, which still
// completes. Each refusal counts in Refused, none as a failed attempt.
func TestRefusedSegmentAskedAgainWithinTheAttempt(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	prod := newPubMember(t, group, "/refused/p", changed, true, nil)
	v := &refuseFirst{seen: map[string]bool{}}
	m := newPubMember(t, group, "/refused/m", changed, true, func(c *Config) { c.Validator = v })
	payload := bytes.Repeat([]byte("x"), 3*SegmentSize+10) // four segments
	publishOK(t, prod, payload)
	waitUntil(t, changed, 10*time.Second, func() bool { return len(m.received(prod.key())) == 1 },
		func() string { return fmt.Sprintf("%+v", m.s.DataStats()) })
	if got := m.received(prod.key())[0].Bytes(); !bytes.Equal(got, payload) {
		t.Fatalf("delivered %d bytes, not the %d published", len(got), len(payload))
	}
	st := m.s.DataStats()
	if st.Refused != 4 || st.BadData != 0 || st.FetchFailures != 0 || st.Fetcher.Started != 1 {
		t.Errorf("Refused %d, BadData %d, FetchFailures %d, attempts %d; want 4 refused segments asked again in one attempt",
			st.Refused, st.BadData, st.FetchFailures, st.Fetcher.Started)
	}
}
