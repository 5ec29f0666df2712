// Command members runs many members of one SVS v3 sync group in one
// process, for the big-vector test (internal/bigvector). Each member is
// what any Go application would be: an ndnd std engine on a unix
// connection of its own to the node's socket (engine.NewUnixFace,
// engine.NewBasicEngine), and this module's svs.New on it. Every member
// publishes once when it starts, so that its entry is in the group's state
// vector; the first one (-publisher) then publishes -pubs more times when
// told to.
//
// It reads commands on stdin, one per line:
//
//	publish   the publisher publishes -pubs times, every -interval
//	stats     print one "stats" event
//
// and prints one JSON line per event on stdout:
//
//	{"ev":"up","n":133,"t":<unix ns>}                      every member runs and has published once
//	{"ev":"status","up":133,"full":120,"min":390,"max":400,"bytes":13214}
//	{"ev":"pub","node":"/bigvector/m0001","seq":2,"t":<unix ns>}    t: just before Publish
//	{"ev":"learn","m":"/bigvector/m0150","node":"/bigvector/m0001","seq":2,"t":<unix ns>}
//	{"ev":"stats",...}                                     counters summed over the members
//	{"ev":"err","m":"/bigvector/m0150","err":"...","t":<unix ns>}
//
// status is printed every -status: how many members run, how many hold
// -expect pairs in their vector, the fewest and most pairs held, and the
// size of the largest vector encoded whole (StateVector TLV). learn lines
// are printed only for the names given in -watch, one per learned sequence
// number. It runs until SIGINT or SIGTERM.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

type event struct {
	Ev     string `json:"ev"`
	M      string `json:"m,omitempty"`
	Node   string `json:"node,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	T      int64  `json:"t,omitempty"`
	Err    string `json:"err,omitempty"`
	N      int    `json:"n,omitempty"`
	Up     int    `json:"up,omitempty"`
	Full   int    `json:"full,omitempty"`
	Min    int    `json:"min,omitempty"`
	Max    int    `json:"max,omitempty"`
	Bytes  int    `json:"bytes,omitempty"`
	Counts *stats `json:"counts,omitempty"`
}

// stats are svs.Stats summed over the process's members.
type stats struct {
	Sent, SendErrors, Received, InboxDropped, Malformed, Invalid uint64
	Updates, Suppressions, Partial, Omitted, Refused, Evicted    uint64
	Pruned, Published                                            uint64
}

func (s *stats) add(x svs.Stats) {
	s.Sent += x.Sent
	s.SendErrors += x.SendErrors
	s.Received += x.Received
	s.InboxDropped += x.InboxDropped
	s.Malformed += x.Malformed
	s.Invalid += x.Invalid
	s.Updates += x.Updates
	s.Suppressions += x.Engine.Suppressions
	s.Partial += x.Engine.Partial
	s.Omitted += x.Engine.Omitted
	s.Refused += x.Engine.RefusedMembers
	s.Evicted += x.Engine.EvictedMembers
	s.Pruned += x.Engine.Pruned
	s.Published += x.Engine.Published
}

type printer struct {
	mu sync.Mutex
	w  *bufio.Writer
	e  *json.Encoder
}

func (p *printer) print(e event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.e.Encode(e)
	_ = p.w.Flush()
}

type options struct {
	sock, group, prefix string
	from, count         int
	expect              int
	watch               map[string]bool
	pubs                int
	interval, stagger   time.Duration
	status, periodic    time.Duration
}

func main() {
	var o options
	var watch string
	flag.StringVar(&o.sock, "socket", "", "the node's unix socket")
	flag.StringVar(&o.group, "group", "/bigvector", "sync group prefix")
	flag.StringVar(&o.prefix, "prefix", "/bigvector", "member names are <prefix>/m<NNNN>")
	flag.IntVar(&o.from, "from", 1, "number of the first member")
	flag.IntVar(&o.count, "count", 1, "members to run; the first is the publisher")
	flag.IntVar(&o.expect, "expect", 0, "pairs a full vector holds (the whole group)")
	flag.StringVar(&watch, "watch", "", "comma-separated member names whose learned sequence numbers are printed")
	flag.IntVar(&o.pubs, "pubs", 20, "publications of the publisher on the publish command")
	flag.DurationVar(&o.interval, "interval", 200*time.Millisecond, "time between publications")
	flag.DurationVar(&o.stagger, "stagger", 20*time.Millisecond, "time between member starts")
	flag.DurationVar(&o.status, "status", 500*time.Millisecond, "time between status lines")
	flag.DurationVar(&o.periodic, "periodic", 0, "svs.Config.PeriodicTimeout (0: the default)")
	flag.Parse()
	o.watch = map[string]bool{}
	for w := range strings.SplitSeq(watch, ",") {
		if w != "" {
			o.watch[w] = true
		}
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "members:", err)
		os.Exit(1)
	}
}

type member struct {
	name enc.Name
	eng  ndn.Engine
	s    *svs.Sync
}

func run(o options) error {
	if o.sock == "" || o.count < 1 {
		return fmt.Errorf("-socket and -count are required")
	}
	group, err := enc.NameFromStr(o.group)
	if err != nil {
		return fmt.Errorf("-group: %w", err)
	}
	out := &printer{w: bufio.NewWriter(os.Stdout)}
	out.e = json.NewEncoder(out.w)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	var (
		mu      sync.Mutex
		members []*member
	)
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range members {
			_ = m.s.Close()
		}
		for _, m := range members {
			<-m.s.Done()
			_ = m.eng.Stop()
		}
	}()

	// Members start one by one, -stagger apart: each connects, registers
	// the group prefix and publishes once.
	started := make(chan error, 1)
	go func() {
		for i := range o.count {
			m, err := startMember(ctx, o, group, o.from+i, out)
			if err != nil {
				started <- err
				return
			}
			mu.Lock()
			members = append(members, m)
			mu.Unlock()
			select {
			case <-ctx.Done():
				started <- ctx.Err()
				return
			case <-time.After(o.stagger):
			}
		}
		started <- nil
	}()

	status := time.NewTicker(o.status)
	defer status.Stop()
	cmds := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- strings.TrimSpace(sc.Text())
		}
	}()
	snapshot := func() []*member {
		mu.Lock()
		defer mu.Unlock()
		return append([]*member(nil), members...)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-started:
			if err != nil {
				return err
			}
			out.print(event{Ev: "up", N: len(snapshot()), T: time.Now().UnixNano()})
		case <-status.C:
			ms := snapshot()
			e := event{Ev: "status", Up: len(ms), Min: -1}
			for _, m := range ms {
				v := m.s.State()
				n := v.Len()
				if n >= o.expect {
					e.Full++
				}
				if e.Min < 0 || n < e.Min {
					e.Min = n
				}
				if n > e.Max {
					e.Max = n
					e.Bytes = len(wire.EncodeStateVector(v))
				}
			}
			out.print(e)
		case c := <-cmds:
			ms := snapshot()
			switch c {
			case "publish":
				if len(ms) == 0 {
					return fmt.Errorf("publish: no member runs")
				}
				go publish(ctx, o, ms[0], out)
			case "stats":
				var st stats
				for _, m := range ms {
					st.add(m.s.Stats())
				}
				out.print(event{Ev: "stats", N: len(ms), Counts: &st})
			default:
				out.print(event{Ev: "err", Err: fmt.Sprintf("unknown command %q", c)})
			}
		}
	}
}

func startMember(ctx context.Context, o options, group enc.Name, i int, out *printer) (*member, error) {
	name, err := enc.NameFromStr(fmt.Sprintf("%s/m%04d", o.prefix, i))
	if err != nil {
		return nil, err
	}
	self := name.String()
	eng := engine.NewBasicEngine(engine.NewUnixFace(o.sock))
	if err := eng.Start(); err != nil {
		return nil, fmt.Errorf("%s: engine: %w", self, err)
	}
	s, err := svs.New(eng, svs.Config{
		Group:           group,
		Node:            name,
		PeriodicTimeout: o.periodic,
		OnUpdate: func(u svs.Update) {
			now := time.Now().UnixNano()
			n, _ := wire.CoreToName(u.Node)
			node := n.String()
			if !o.watch[node] {
				return
			}
			for seq := u.Low; seq <= u.High; seq++ {
				out.print(event{Ev: "learn", M: self, Node: node, Seq: seq, T: now})
			}
		},
		// The group prefix, as the node's own member and NDNts register
		// it: a /<group>/v=3 route would hide theirs.
		Register: func(enc.Name) error { return eng.RegisterRoute(group) },
	})
	if err != nil {
		_ = eng.Stop()
		return nil, err
	}
	go func() {
		if err := s.Run(ctx); err != nil && ctx.Err() == nil {
			out.print(event{Ev: "err", M: self, Err: "run: " + err.Error(), T: time.Now().UnixNano()})
		}
	}()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	seq, err := s.Publish(pctx)
	if err != nil {
		_ = s.Close()
		_ = eng.Stop()
		return nil, fmt.Errorf("%s: first publication: %w", self, err)
	}
	out.print(event{Ev: "pub", Node: self, Seq: seq, T: time.Now().UnixNano()})
	return &member{name: name, eng: eng, s: s}, nil
}

// publish makes m publish o.pubs times, o.interval apart.
func publish(ctx context.Context, o options, m *member, out *printer) {
	self := m.name.String()
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	for range o.pubs {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t := time.Now().UnixNano()
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		seq, err := m.s.Publish(pctx)
		cancel()
		if err != nil {
			out.print(event{Ev: "err", M: self, Err: "publish: " + err.Error(), T: time.Now().UnixNano()})
			continue
		}
		out.print(event{Ev: "pub", Node: self, Seq: seq, T: t})
	}
	out.print(event{Ev: "published", M: self, T: time.Now().UnixNano()})
}
