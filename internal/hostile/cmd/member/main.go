// Command member is one member of an SVS v3 sync group for the hostile-input
// suite (internal/hostile): it attaches to a node through the node's unix
// socket (ndnd's std engine, as any Go application would), publishes about
// every -interval (each wait drawn from half to one and a half of it), and
// prints one JSON line per event on stdout:
//
//	{"ev":"ready","node":"/m1","t":<unix ns>}
//	{"ev":"pub","node":"/m1","seq":7,"t":<unix ns>}      t: just before Publish
//	{"ev":"learn","node":"/m2","seq":7,"t":<unix ns>}    one line per learned seq
//	{"ev":"err","err":"...","t":<unix ns>}
//	{"ev":"stats","stats":{...},"t":<unix ns>}            every second: svs.Stats
//
// The suite runs every member on the same machine, so publish and learn
// times share one clock. It runs until SIGINT or SIGTERM (or until ndnd's
// client face exits the process when the node goes away: code 106).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

type event struct {
	Ev   string `json:"ev"`
	Node string `json:"node,omitempty"`
	Boot uint64 `json:"boot,omitempty"`
	Seq  uint64 `json:"seq,omitempty"`
	T    int64  `json:"t"`
	Err  string `json:"err,omitempty"`
	// Stats, every second: the member's counters (svs.Stats).
	Stats *svs.Stats `json:"stats,omitempty"`
}

type printer struct {
	mu sync.Mutex
	w  *bufio.Writer
	e  *json.Encoder
}

func newPrinter() *printer {
	w := bufio.NewWriter(os.Stdout)
	return &printer{w: w, e: json.NewEncoder(w)}
}

func (p *printer) print(e event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.e.Encode(e)
	_ = p.w.Flush()
}

func main() {
	sock := flag.String("socket", "", "the node's unix socket")
	group := flag.String("group", "/ndn/svs", "sync group prefix")
	name := flag.String("name", "", "this member's node name")
	interval := flag.Duration("interval", 100*time.Millisecond, "time between publications")
	flag.Parse()
	if err := run(*sock, *group, *name, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "member:", err)
		os.Exit(1)
	}
}

func run(sock, groupURI, nameURI string, interval time.Duration) error {
	if sock == "" || nameURI == "" {
		return fmt.Errorf("-socket and -name are required")
	}
	group, err := enc.NameFromStr(groupURI)
	if err != nil {
		return fmt.Errorf("-group: %w", err)
	}
	name, err := enc.NameFromStr(nameURI)
	if err != nil {
		return fmt.Errorf("-name: %w", err)
	}
	out := newPrinter()
	eng := engine.NewBasicEngine(engine.NewUnixFace(sock))
	if err := eng.Start(); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	defer func() { _ = eng.Stop() }()

	s, err := svs.New(eng, svs.Config{
		Group: group,
		Node:  name,
		OnUpdate: func(u svs.Update) {
			now := time.Now().UnixNano()
			n, _ := wire.CoreToName(u.Node)
			for seq := u.Low; seq <= u.High; seq++ {
				out.print(event{Ev: "learn", Node: n.String(), Boot: u.Boot, Seq: seq, T: now})
			}
		},
		// The group prefix, as the node's own member and NDNts register
		// it: a /<group>/v=3 route would hide theirs.
		Register: func(enc.Name) error { return eng.RegisterRoute(group) },
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	// Each wait is drawn from [interval/2, 3*interval/2): with a fixed
	// period the members' phases would stay as they happened to start for
	// the whole run, and the latency measured would depend on whether
	// their publications happen to collide.
	tick := time.NewTimer(interval)
	defer tick.Stop()
	stats := time.NewTicker(time.Second)
	defer stats.Stop()
	ready := false
	for {
		select {
		case <-ctx.Done():
			_ = s.Close()
			return nil
		case err := <-runErr:
			return fmt.Errorf("sync stopped: %w", err)
		case <-stats.C:
			st := s.Stats()
			out.print(event{Ev: "stats", Stats: &st, T: time.Now().UnixNano()})
			continue
		case <-tick.C:
			tick.Reset(interval/2 + rand.N(interval))
		}
		if !ready {
			ready = true
			out.print(event{Ev: "ready", Node: name.String(), T: time.Now().UnixNano()})
		}
		t := time.Now().UnixNano()
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		seq, err := s.PublishSeq(pctx)
		cancel()
		if err != nil {
			out.print(event{Ev: "err", Err: err.Error(), T: time.Now().UnixNano()})
			continue
		}
		out.print(event{Ev: "pub", Node: name.String(), Boot: s.Boot(), Seq: seq, T: t})
	}
}
