// Command app is an application attached to a node through the client
// package's face, for the restart test (internal/restart): an SVS v3 member
// on ndnd's std engine that publishes every -interval and survives the node.
//
// It prints one JSON line per event on stdout:
//
//	{"ev":"up","t":<unix ns>}     the face came up (Open, and after each reconnection)
//	{"ev":"down","t":<unix ns>}   the face lost the node
//	{"ev":"regerr","err":"..."}   a route was not registered after a reconnection
//	{"ev":"report", ...}          in answer to "report" or "stop" on stdin
//
// On stdin, "stop" stops publishing (the report that answers it is final
// for the published counts) and "report" asks for the current figures. It
// exits 0 on SIGTERM or when stdin closes, and only then.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	ndnlog "github.com/named-data/ndnd/std/log"

	"github.com/ndnsvs/ndnsvs-node/client"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Report is the answer to "report" and "stop".
type Report struct {
	Ev   string `json:"ev"`
	Node string `json:"node"`
	// OK counts publications that returned a sequence number; Last is the
	// highest. OKWhileDown counts those that returned while the face's
	// state was already down (the instant between the loss of the
	// connection and its notice).
	OK, Last, OKWhileDown uint64
	// FaceDown counts publications refused with svs.ErrFaceDown.
	FaceDown uint64
	// Other lists any other publication error (there should be none).
	Other []string `json:",omitempty"`
	// Learned is the highest sequence number learned of each other member.
	Learned map[string]uint64
	// Ups and Downs count the face's OnUp and OnDown calls.
	Ups, Downs uint64
	Stats      client.Stats
}

type app struct {
	mu  sync.Mutex
	out *json.Encoder
	r   Report
}

func (a *app) print(v any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_ = a.out.Encode(v)
}

func main() {
	transport := flag.String("transport", "", "the node's transport URI (default: client.DefaultTransport())")
	group := flag.String("group", "/ndn/svs", "sync group prefix")
	node := flag.String("node", "", "this member's name (required)")
	interval := flag.Duration("interval", 20*time.Millisecond, "time between publications")
	flag.Parse()
	if err := run(*transport, *group, *node, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

func run(transport, group, node string, interval time.Duration) error {
	ndnlog.Default().SetLevel(ndnlog.LevelFatal) // the engine logs every send on a down face at ERROR
	groupName, err := enc.NameFromStr(group)
	if err != nil {
		return err
	}
	nodeName, err := enc.NameFromStr(node)
	if err != nil || node == "" {
		return fmt.Errorf("bad -node %q", node)
	}
	w := bufio.NewWriter(os.Stdout)
	a := &app{out: json.NewEncoder(flushWriter{w}), r: Report{Ev: "report", Node: node, Learned: map[string]uint64{}}}

	f, err := client.New(client.Config{
		Transport:  transport,
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
		OnRegisterError: func(p enc.Name, err error) {
			a.print(map[string]any{"ev": "regerr", "prefix": p.String(), "err": err.Error()})
		},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	f.OnUp(func() {
		a.mu.Lock()
		a.r.Ups++
		a.mu.Unlock()
		a.print(map[string]any{"ev": "up", "t": time.Now().UnixNano()})
	})
	f.OnDown(func() {
		a.mu.Lock()
		a.r.Downs++
		a.mu.Unlock()
		a.print(map[string]any{"ev": "down", "t": time.Now().UnixNano()})
	})
	e := engine.NewBasicEngine(f)
	if err := e.Start(); err != nil {
		return err
	}
	defer func() { _ = e.Stop() }()

	s, err := svs.New(e, svs.Config{
		Group: groupName, Node: nodeName, Register: f.Register,
		PeriodicTimeout: 2 * time.Second,
		OnUpdate: func(u svs.Update) {
			n, err := wire.CoreToName(u.Node)
			if err != nil {
				return
			}
			a.mu.Lock()
			a.r.Learned[n.String()] = max(a.r.Learned[n.String()], u.High)
			a.mu.Unlock()
		},
	})
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	stop := make(chan struct{})
	var stopOnce sync.Once
	go func() { // stdin commands
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			switch sc.Text() {
			case "stop":
				stopOnce.Do(func() { close(stop) })
			case "report":
				a.report(f)
			}
		}
		cancel()
	}()

	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			<-runErr
			return nil
		case err := <-runErr:
			return fmt.Errorf("svs Run: %w", err)
		case <-stop:
			a.report(f) // final counts: nothing is published after this
			stop = nil
			tick.Stop()
		case <-tick.C:
			pctx, pcancel := context.WithTimeout(ctx, time.Second)
			seq, err := s.PublishSeq(pctx)
			pcancel()
			a.mu.Lock()
			switch {
			case err == nil:
				a.r.OK++
				a.r.Last = max(a.r.Last, seq)
				if f.State() == client.StateDown {
					a.r.OKWhileDown++
				}
			case errors.Is(err, svs.ErrFaceDown):
				a.r.FaceDown++
			case ctx.Err() != nil:
			default:
				if len(a.r.Other) < 20 {
					a.r.Other = append(a.r.Other, err.Error())
				}
			}
			a.mu.Unlock()
		}
	}
}

func (a *app) report(f *client.Face) {
	a.mu.Lock()
	r := a.r
	r.Learned = make(map[string]uint64, len(a.r.Learned))
	for k, v := range a.r.Learned {
		r.Learned[k] = v
	}
	r.Other = append([]string(nil), a.r.Other...)
	a.mu.Unlock()
	r.Stats = f.Stats()
	a.print(r)
}

// flushWriter flushes after every line, so the test reads events as they
// happen.
type flushWriter struct{ w *bufio.Writer }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.w.Flush()
	}
	return n, err
}
