// Command pubmember is an SVS member with a publication layer, attached to
// a running ndnsvs-node through the client package's face (its unix
// socket), for the end-to-end tests of publications (internal/publab,
// internal/restart). It publishes payloads of the sizes it is given and
// reports, as JSON lines on stdout, every publication it made and every
// one it received, each with the SHA-256 of its payload, so that a test
// can check that every acknowledged publication reached every member
// intact.
//
// Lines on stdout (each written with one write(2) before the next event:
// a line about an acknowledged publication is in the pipe before the
// program goes on, so a SIGKILL right after cannot lose it):
//
//	{"ev":"start","boot":B,"seq":S}   the member's incarnation and the sequence number it resumes from
//	{"ev":"up"}                       the face to the node came up
//	{"ev":"pub","boot":B,"seq":S,"size":N,"sha":"..."}   Publish returned: stored and announced
//	{"ev":"msg","node":"/n","boot":B,"seq":S,"size":N,"sha":"..."}   a publication of another member
//	{"ev":"missed","node":"/n","boot":B,"low":L,"high":H,"reason":"..."}
//	{"ev":"err","err":"..."}          a publication failed (other than the face being down)
//	{"ev":"report",...}               in answer to "report" or "stop" (see Report)
//
// On stdin: "pub" starts publishing (-count more publications, -interval
// apart, sizes cycling through -sizes; -count 0 publishes until "stop"),
// "stop" stops publishing, "report" asks for a report. With -autostart it
// publishes at once. It exits 0 on SIGTERM or when stdin closes.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	ndnlog "github.com/named-data/ndnd/std/log"

	"github.com/ndnsvs/ndnsvs-node/client"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/boltstore"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Report is the answer to "report" and "stop".
type Report struct {
	Ev   string `json:"ev"`
	Node string `json:"node"`
	Boot uint64 `json:"boot"`
	// Published counts acknowledged publications of this run; Received
	// the publications of others delivered.
	Published, Received uint64
	// Vector is the member's state vector: every (node, boot, seq) it
	// holds.
	Vector []Entry
	Stats  svs.DataStats
}

// Entry is one entry of Report.Vector.
type Entry struct {
	Node string `json:"node"`
	Boot uint64 `json:"boot"`
	Seq  uint64 `json:"seq"`
}

type out struct {
	mu sync.Mutex
	w  *os.File
}

// print writes v as one line with one write: the line is whole in the
// pipe once print returns.
func (o *out) print(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = o.w.Write(append(b, '\n'))
}

func main() {
	var c cfg
	flag.StringVar(&c.transport, "transport", "", "the node's transport URI (default: client.DefaultTransport())")
	flag.StringVar(&c.group, "group", "/ndn/svs", "sync group prefix")
	flag.StringVar(&c.node, "node", "", "this member's name (required)")
	flag.StringVar(&c.store, "store", "", "bbolt store `FILE` (default: in memory, a new incarnation each run)")
	flag.StringVar(&c.sizes, "sizes", "100", "payload sizes in bytes, comma-separated, used in turn")
	flag.IntVar(&c.count, "count", 0, "publications to make after \"pub\" (0: until \"stop\")")
	flag.DurationVar(&c.interval, "interval", 0, "time between publications")
	flag.IntVar(&c.segWindow, "segwindow", 0, "segments of one publication asked for at once (0: the library's default)")
	flag.BoolVar(&c.autostart, "autostart", false, "publish at once, without waiting for \"pub\"")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "pubmember:", err)
		os.Exit(1)
	}
}

type cfg struct {
	transport, group, node, store, sizes string
	count, segWindow                     int
	interval                             time.Duration
	autostart                            bool
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > svs.MaxPayloadSize {
			return nil, fmt.Errorf("bad -sizes element %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func hash(p []byte) string {
	h := sha256.Sum256(p)
	return hex.EncodeToString(h[:])
}

func run(c cfg) error {
	ndnlog.Default().SetLevel(ndnlog.LevelFatal)
	groupName, err := enc.NameFromStr(c.group)
	if err != nil {
		return err
	}
	nodeName, err := enc.NameFromStr(c.node)
	if err != nil || c.node == "" {
		return fmt.Errorf("bad -node %q", c.node)
	}
	sizes, err := parseSizes(c.sizes)
	if err != nil {
		return err
	}
	o := &out{w: os.Stdout}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	var storage svs.Storage
	if c.store != "" {
		st, err := boltstore.Open(c.store, boltstore.Options{StorageConfig: svs.StorageConfig{
			Own:     svs.Retention{MaxCount: 1_000_000},
			Fetched: svs.Retention{MaxCount: 1_000_000},
		}})
		if err != nil {
			return err
		}
		defer st.Close()
		storage = st
	}

	f, err := client.New(client.Config{
		Transport:  c.transport,
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
		Logger:     logger,
	})
	if err != nil {
		return err
	}
	f.OnUp(func() { o.print(map[string]any{"ev": "up"}) })
	e := engine.NewBasicEngine(f)
	if err := e.Start(); err != nil {
		return err
	}
	defer func() { _ = e.Stop() }()

	var mu sync.Mutex
	var published, received uint64
	s, err := svs.New(e, svs.Config{
		Group: groupName, Node: nodeName, Register: f.Register, Logger: logger,
		Data: &svs.DataConfig{
			Storage:       storage,
			SegmentWindow: c.segWindow,
			OnMessage: func(m svs.Message) {
				mu.Lock()
				received++
				mu.Unlock()
				o.print(map[string]any{"ev": "msg", "node": m.Node.String(), "boot": m.Boot, "seq": m.Seq,
					"size": m.Size(), "sha": hash(m.Bytes())})
			},
			OnMissed: func(m svs.Missed) {
				o.print(map[string]any{"ev": "missed", "node": m.Node.String(), "boot": m.Boot,
					"low": m.Low, "high": m.High, "reason": m.Reason})
			},
		},
	})
	if err != nil {
		return err
	}
	o.print(map[string]any{"ev": "start", "boot": s.Boot(), "seq": s.Seq()})

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	report := func() {
		mu.Lock()
		r := Report{Ev: "report", Node: c.node, Boot: s.Boot(), Published: published, Received: received, Stats: s.DataStats()}
		mu.Unlock()
		s.State().Each(func(e core.Entry) {
			n, err := wire.CoreToName(e.Node)
			if err == nil {
				r.Vector = append(r.Vector, Entry{Node: n.String(), Boot: e.Boot, Seq: e.Seq})
			}
		})
		o.print(r)
	}

	start := make(chan struct{}, 1)
	stop := make(chan struct{}, 1)
	if c.autostart {
		start <- struct{}{}
	}
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			switch sc.Text() {
			case "pub":
				select {
				case start <- struct{}{}:
				default:
				}
			case "stop":
				stop <- struct{}{}
			case "report":
				report()
			}
		}
		cancel()
	}()

	// Payloads are random (seeded by the node and the time), so that a
	// mix-up of two publications shows in their hashes.
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(len(c.node))))
	publish := func(i int) {
		p := make([]byte, sizes[i%len(sizes)])
		for j := range p {
			p[j] = byte(r.Uint32())
		}
		pub, err := s.Publish(ctx, p)
		switch {
		case err == nil:
			mu.Lock()
			published++
			mu.Unlock()
			o.print(map[string]any{"ev": "pub", "boot": pub.Boot, "seq": pub.Seq, "size": len(p), "sha": hash(p)})
		case errors.Is(err, svs.ErrFaceDown), ctx.Err() != nil:
		default:
			o.print(map[string]any{"ev": "err", "err": err.Error()})
		}
	}

	var tick <-chan time.Time
	if c.interval > 0 {
		t := time.NewTicker(c.interval)
		defer t.Stop()
		tick = t.C
	}
	// done counts every publication (payload sizes cycle over it); run
	// those since the last "pub", which -count bounds.
	publishing, done, run := false, 0, 0
	for {
		if publishing && tick == nil {
			// No interval: publish back to back, still answering stop.
			select {
			case <-stop:
				publishing = false
				report()
				continue
			case err := <-runErr:
				return fmt.Errorf("svs Run: %w", err)
			default:
			}
		} else {
			select {
			case <-ctx.Done():
				<-runErr
				return nil
			case err := <-runErr:
				return fmt.Errorf("svs Run: %w", err)
			case <-start:
				publishing, run = true, 0
				continue
			case <-stop:
				publishing = false
				report()
				continue
			case <-tick:
				if !publishing {
					continue
				}
			}
		}
		if ctx.Err() != nil {
			<-runErr
			return nil
		}
		publish(done)
		done++
		run++
		if c.count > 0 && run >= c.count {
			publishing = false
			o.print(map[string]any{"ev": "done", "count": run})
		}
	}
}
