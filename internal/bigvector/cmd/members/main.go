// Command members runs many members of one SVS v3 sync group in one
// process, for the big-vector test (internal/bigvector). Each member is
// what any Go application would be: an ndnd std engine on a unix
// connection of its own to the node's socket (engine.NewUnixFace,
// engine.NewBasicEngine), and this module's svs.New on it. Every member
// publishes once when it starts, so that its entry is in the group's state
// vector.
//
// The first -resident members stay until the end; the first of them is the
// publisher, which publishes -pubs more times when told to. The others,
// members that existed earlier, come in waves of -wave after the
// residents: each member of a wave starts and publishes once, and the wave
// leaves (closes its members and their connections) once every resident
// of this process holds all of its entries; from then on the residents
// carry them. So the vector holds -count entries from this process while
// only -resident + -wave members run at once: every Sync Interest reaches
// every running member on its own unix connection, and with all 400 of
// them running at once joining costs O(n²) deliveries of packets of up to
// 8 KB (see the package comment of internal/bigvector).
//
// It reads commands on stdin, one per line:
//
//	publish   the publisher publishes -pubs times, every -interval
//	stats     print one "stats" event
//
// and prints one JSON line per event on stdout:
//
//	{"ev":"up","n":10,"left":124,"t":<unix ns>}            the residents run, every wave has come and gone
//	{"ev":"status","up":10,"left":124,"full":10,"min":403,"max":403,"bytes":13214,"counts":{...}}
//	{"ev":"pub","node":"/bigvector/m0001","seq":2,"t":<unix ns>}    t: just before Publish
//	{"ev":"learn","m":"/bigvector/m0150","node":"/bigvector/m0001","seq":2,"t":<unix ns>}
//	{"ev":"published","m":"/bigvector/m0001","t":<unix ns>} the publisher is done
//	{"ev":"stats","n":10,"counts":{...}}                   counters summed over every member, gone ones included
//	{"ev":"err","m":"/bigvector/m0150","err":"...","t":<unix ns>}
//
// status is printed every -status: how many residents run and how many
// members have left, how many residents hold -expect pairs of members
// under -prefix in their vector, the fewest and most such pairs a resident
// holds, the size of the
// largest vector encoded whole (StateVector TLV), and the counters. learn
// lines are printed only for the names given in -watch, one per learned
// sequence number. It runs until SIGINT or SIGTERM.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
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
	Left   int    `json:"left,omitempty"`
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
	RegisterRetries                                              uint64
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

// registerTries is how many times a member sends the route registration
// command before it gives up.
const registerTries = 5

// registerRetries counts registration commands that failed (and were sent
// again, unless it was the last try).
var registerRetries atomic.Uint64

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
	resident, wave      int
	waveWait            time.Duration
	expect              int
	watch               map[string]bool
	pubs                int
	interval, stagger   time.Duration
	waveStagger         time.Duration
	status, periodic    time.Duration
	log                 *slog.Logger
}

func main() {
	var o options
	var watch string
	flag.StringVar(&o.sock, "socket", "", "the node's unix socket")
	flag.StringVar(&o.group, "group", "/bigvector", "sync group prefix")
	flag.StringVar(&o.prefix, "prefix", "/bigvector", "member names are <prefix>/m<NNNN>")
	flag.IntVar(&o.from, "from", 1, "number of the first member")
	flag.IntVar(&o.count, "count", 1, "members to run, residents included")
	flag.IntVar(&o.resident, "resident", 1, "members that stay (the first -resident of -count); the first is the publisher")
	flag.IntVar(&o.wave, "wave", 20, "members that come and go together, after the residents")
	flag.DurationVar(&o.waveWait, "wave-wait", 20*time.Second, "how long a wave may wait for the residents to hold its entries")
	flag.IntVar(&o.expect, "expect", 0, "pairs under -prefix a full vector holds (every member of the test)")
	flag.StringVar(&watch, "watch", "", "comma-separated member names whose learned sequence numbers are printed")
	flag.IntVar(&o.pubs, "pubs", 20, "publications of the publisher on the publish command")
	flag.DurationVar(&o.interval, "interval", 200*time.Millisecond, "time between publications")
	flag.DurationVar(&o.stagger, "stagger", 20*time.Millisecond, "time between resident starts")
	flag.DurationVar(&o.waveStagger, "wave-stagger", 120*time.Millisecond, "time between starts of the other members")
	flag.DurationVar(&o.status, "status", 500*time.Millisecond, "time between status lines")
	flag.DurationVar(&o.periodic, "periodic", 0, "svs.Config.PeriodicTimeout (0: the default)")
	level := flag.String("log", "warn", "the members' log level (svs.Config.Logger, on stderr)")
	flag.Parse()
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(os.Stderr, "members: -log:", err)
		os.Exit(2)
	}
	o.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
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
	if o.sock == "" || o.resident < 1 || o.count < o.resident || o.wave < 1 {
		return fmt.Errorf("want -socket, and 1 <= -resident <= -count, -wave >= 1")
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

	// The residents start one by one, -stagger apart: each connects,
	// registers the group prefix and publishes once. Then the others come
	// in waves and go: see the package comment.
	var gone stats // counters of the members that have left
	left := 0
	started := make(chan error, 1)
	go func() {
		started <- func() error {
			for i := range o.resident {
				m, err := startMember(ctx, o, group, o.from+i, out)
				if err != nil {
					return err
				}
				mu.Lock()
				members = append(members, m)
				mu.Unlock()
				if err := sleep(ctx, o.stagger); err != nil {
					return err
				}
			}
			for first := o.resident; first < o.count; first += o.wave {
				var wave []*member
				for i := first; i < min(first+o.wave, o.count); i++ {
					m, err := startMember(ctx, o, group, o.from+i, out)
					if err != nil {
						return err
					}
					wave = append(wave, m)
					if err := sleep(ctx, o.waveStagger); err != nil {
						return err
					}
				}
				// A member leaves once every resident holds its entry:
				// from then on the residents carry it.
				mu.Lock()
				residents := slices.Clone(members)
				mu.Unlock()
				deadline := time.Now().Add(o.waveWait)
				for !holdAll(residents, wave) {
					if time.Now().After(deadline) {
						var refused uint64
						for _, r := range residents {
							refused += r.s.Stats().Engine.RefusedMembers
						}
						return fmt.Errorf("the residents do not hold the entries of members %d..%d after %v (new names refused by the residents so far: %d; %s)",
							o.from+first, o.from+first+len(wave)-1, o.waveWait, refused, lacking(residents, wave))
					}
					if err := sleep(ctx, 20*time.Millisecond); err != nil {
						return err
					}
				}
				for _, m := range wave {
					_ = m.s.Close()
				}
				for _, m := range wave {
					<-m.s.Done()
					_ = m.eng.Stop()
					mu.Lock()
					gone.add(m.s.Stats())
					left++
					mu.Unlock()
				}
			}
			return nil
		}()
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
	snapshot := func() ([]*member, stats, int) {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(members), gone, left
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-started:
			if err != nil {
				return err
			}
			ms, _, left := snapshot()
			out.print(event{Ev: "up", N: len(ms), Left: left, T: time.Now().UnixNano()})
		case <-status.C:
			ms, gone, left := snapshot()
			e := event{Ev: "status", Up: len(ms), Left: left, Min: -1, Counts: &gone}
			e.Counts.RegisterRetries = registerRetries.Load()
			for _, m := range ms {
				e.Counts.add(m.s.Stats())
				v := m.s.State()
				n := ours(v, o.prefix)
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
			ms, gone, _ := snapshot()
			switch c {
			case "publish":
				if len(ms) == 0 {
					return fmt.Errorf("publish: no member runs")
				}
				go publish(ctx, o, ms[0], out)
			case "stats":
				st := gone
				st.RegisterRetries = registerRetries.Load()
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

// ours counts the pairs of v whose node name is under prefix (the members
// of the test, not the nodes' own members).
func ours(v *core.Vector, prefix string) int {
	n := 0
	v.Each(func(e core.Entry) {
		if name, err := wire.CoreToName(e.Node); err == nil && strings.HasPrefix(name.String(), prefix+"/") {
			n++
		}
	})
	return n
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// holdAll reports whether every resident's vector holds the entry of every
// member of wave.
// lacking says which resident lacks which members of wave, for the error.
func lacking(residents, wave []*member) string {
	var out []string
	for _, r := range residents {
		v := r.s.State()
		var miss []string
		for _, m := range wave {
			if v.Get(m.s.Node(), m.s.Boot()) == 0 {
				miss = append(miss, m.name.String())
			}
		}
		if len(miss) > 0 {
			st := r.s.Stats()
			out = append(out, fmt.Sprintf("%s lacks %s (pairs %d, engine %+v)", r.name, strings.Join(miss, " "), v.Len(), st.Engine))
		}
	}
	return strings.Join(out, "; ")
}

func holdAll(residents, wave []*member) bool {
	for _, r := range residents {
		v := r.s.State()
		for _, m := range wave {
			if v.Get(m.s.Node(), m.s.Boot()) == 0 {
				return false
			}
		}
	}
	return true
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
		Logger:          o.log.With("member", self),
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
		// it: a /<group>/v=3 route would hide theirs. ndnd's RegisterRoute
		// waits 1 s for the node's answer and never tries again; on a
		// loaded machine the command or its answer can take longer, so
		// an application tries again (counted in stats).
		Register: func(enc.Name) error {
			var err error
			for range registerTries {
				if err = eng.RegisterRoute(group); err == nil {
					return nil
				}
				registerRetries.Add(1)
			}
			return err
		},
	})
	if err != nil {
		_ = eng.Stop()
		return nil, err
	}
	runErr := make(chan error, 1)
	go func() {
		err := s.Run(ctx)
		runErr <- err
		if err != nil && ctx.Err() == nil {
			out.print(event{Ev: "err", M: self, Err: "run: " + err.Error(), T: time.Now().UnixNano()})
		}
	}()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	seq, err := s.PublishSeq(pctx)
	if err != nil {
		_ = s.Close()
		<-s.Done()
		_ = eng.Stop()
		return nil, fmt.Errorf("%s: first publication: %w (Run: %v)", self, err, <-runErr)
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
		seq, err := m.s.PublishSeq(pctx)
		cancel()
		if err != nil {
			out.print(event{Ev: "err", M: self, Err: "publish: " + err.Error(), T: time.Now().UnixNano()})
			continue
		}
		out.print(event{Ev: "pub", Node: self, Seq: seq, T: t})
	}
	out.print(event{Ev: "published", M: self, T: time.Now().UnixNano()})
}
