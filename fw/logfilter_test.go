package fw

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/face"
	enc "github.com/named-data/ndnd/std/encoding"
	ndnlog "github.com/named-data/ndnd/std/log"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"
)

type tag string

func (t tag) String() string { return string(t) }

// Every message the filter counts is one ndnd v1.5.3 logs, word for word:
// a message that changed in ndnd would silently stop being counted.
func TestLogFilterMessagesAreNdnds(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/named-data/ndnd").Output()
	if err != nil {
		t.Skipf("cannot locate ndnd's source: %v", err)
	}
	var src bytes.Buffer
	root := filepath.Join(strings.TrimSpace(string(out)), "fw")
	err = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		src.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for msg := range ndndMessages {
		if !bytes.Contains(src.Bytes(), []byte(`"`+msg+`"`)) {
			t.Errorf("ndnd's fw/ never logs %q", msg)
		}
	}
}

func TestRecordLevelAndMessage(t *testing.T) {
	for _, json := range []bool{false, true} {
		var buf bytes.Buffer
		l := ndnlog.NewText(&buf)
		if json {
			l = ndnlog.NewJson(&buf)
		}
		l.SetLevel(ndnlog.LevelDebug)
		for _, tc := range []struct {
			level slog.Level
			msg   string
			log   func(ndnlog.Tag, string, ...any)
		}{
			{slog.LevelDebug, "No nexthop for Interest", l.Debug},
			{slog.LevelInfo, "Attempted to send frame over MTU on link without fragmentation - DROP", l.Info},
			{slog.LevelWarn, "one", l.Warn},
			{slog.LevelError, "Interest dropped due to full queue", l.Error},
		} {
			buf.Reset()
			tc.log(tag("fw-thread-0"), tc.msg, "name", "/a/b", "err", `quoted "x" msg=no`)
			level, ok := recordLevel(buf.Bytes())
			if !ok || level != tc.level {
				t.Errorf("json=%v %q: level %v %v, want %v", json, buf.String(), level, ok, tc.level)
			}
			if got := string(recordMessage(buf.Bytes())); got != tc.msg {
				t.Errorf("json=%v %q: message %q", json, buf.String(), got)
			}
		}
	}
}

// Lines under the configured level are dropped, lost packets are counted
// and logged on the node's logger at WARN once per reason per period, with
// the number held back.
func TestLogFilterCountsAndRateLimits(t *testing.T) {
	var fwOut, nodeOut bytes.Buffer
	var ev logEvents
	node := slog.New(slog.NewTextHandler(&nodeOut, nil))
	f := newLogFilter(&fwOut, slog.LevelWarn, &ev, node)
	now := time.Unix(1000, 0)
	f.limit.now = func() time.Time { return now }
	l := ndnlog.NewText(f)
	l.SetLevel(ndndLevel(slog.LevelWarn))
	th := tag("fw-thread-1")

	for range 3 {
		l.Debug(th, "No nexthop for Interest", "name", "/x")
	}
	l.Debug(th, "Interest is looping (DNL)", "name", "/x")
	l.Info(th, "Attempted to send frame over MTU on link without fragmentation - DROP")
	l.Debug(th, "Dropped packet due to congestion")
	l.Error(th, "Data dropped due to full queue")
	l.Error(th, "Unable to decode incoming frame", "err", "bad")
	l.Warn(th, "an operator's warning")

	if got := fwOut.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "an operator's warning") {
		t.Errorf("forwarder log got:\n%s", got)
	}
	if ev.noRoute.Load() != 3 || ev.overMTU.Load() != 1 || ev.faceQueue.Load() != 1 ||
		ev.queueDrops.Load() != 1 || ev.malformed.Load() != 1 {
		t.Errorf("counts: no route %d, over MTU %d, face queue %d, fw queue %d, malformed %d",
			ev.noRoute.Load(), ev.overMTU.Load(), ev.faceQueue.Load(), ev.queueDrops.Load(), ev.malformed.Load())
	}
	lines := strings.Split(strings.TrimSpace(nodeOut.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("node log has %d lines, want one per reason (4):\n%s", len(lines), nodeOut.String())
	}
	for _, want := range []string{`reason="no route"`, `reason="over MTU"`, `reason="face queue full"`, `reason="forwarding queue full"`} {
		if !strings.Contains(nodeOut.String(), want) {
			t.Errorf("node log lacks %s:\n%s", want, nodeOut.String())
		}
	}
	if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "suppressed=0") {
		t.Errorf("first line: %s", lines[0])
	}

	nodeOut.Reset()
	now = now.Add(logEvery - time.Millisecond)
	l.Debug(th, "No nexthop for Interest", "name", "/x")
	if nodeOut.Len() != 0 {
		t.Errorf("logged again within the period: %s", nodeOut.String())
	}
	now = now.Add(time.Millisecond)
	l.Debug(th, "No nexthop for Interest", "name", "/x")
	if got := nodeOut.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "suppressed=3") {
		t.Errorf("after the period: %s", got)
	}
	if ev.noRoute.Load() != 5 {
		t.Errorf("no route counted %d, want 5", ev.noRoute.Load())
	}

	// At DEBUG, counted lines reach the forwarder's log too.
	fwOut.Reset()
	fd := newLogFilter(&fwOut, slog.LevelDebug, &ev, nil)
	ld := ndnlog.NewText(fd)
	ld.SetLevel(ndndLevel(slog.LevelDebug))
	ld.Debug(th, "No nexthop for Interest")
	ld.Trace(th, "not at trace")
	if got := fwOut.String(); !strings.Contains(got, "No nexthop for Interest") || strings.Contains(got, "trace") {
		t.Errorf("debug forwarder log: %s", got)
	}
}

// expressNoWait sends an Interest and ignores its outcome.
func expressNoWait(t *testing.T, e ndn.Engine, name enc.Name, appParam []byte) {
	t.Helper()
	var param enc.Wire
	if appParam != nil {
		param = enc.Wire{appParam}
	}
	in, err := e.Spec().MakeInterest(name, &ndn.InterestConfig{
		Lifetime: optional.Some(200 * time.Millisecond),
		Nonce:    optional.Some(uint32(time.Now().UnixNano())),
	}, param, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Express(in, func(ndn.ExpressCallbackArgs) {}); err != nil {
		t.Fatal(err)
	}
}

func waitCounter(t *testing.T, what string, get func(Counters) uint64, above uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for get(testFwd.Counters()) <= above {
		if time.Now().After(deadline) {
			t.Fatalf("%s stayed at %d", what, get(testFwd.Counters()))
		}
		time.Sleep(time.Millisecond)
	}
}

// Packets the running forwarder drops, some of which ndnd logs only at
// DEBUG, are counted, and the DEBUG lines stay out of the forwarder's log
// (the test forwarder logs at INFO).
func TestLostPacketsAreCounted(t *testing.T) {
	e, _ := newEngine(t)

	// No route: best-route (the default strategy) logs at DEBUG.
	before := testFwd.Counters().DropsNoRoute
	expressNoWait(t, e, mustName(t, "/lossnoroute/1"), nil)
	waitCounter(t, "DropsNoRoute", func(c Counters) uint64 { return c.DropsNoRoute }, before)

	// Over MTU: a face without fragmentation and a small MTU (ndnd logs
	// at INFO).
	opts := face.MakeNDNLPLinkServiceOptions()
	opts.IsFragmentationEnabled = false
	small := face.MakeNDNLPLinkService(face.MakeInternalTransport(), opts)
	small.Run(nil)
	t.Cleanup(func() { face.FaceTable.Remove(small.FaceID()) })
	small.SetMTU(300)
	prefix := mustName(t, "/lossmtu")
	if err := testFwd.AddRoute(prefix, small.FaceID(), 0, OriginStatic); err != nil {
		t.Fatal(err)
	}
	before = testFwd.Counters().DropsOverMTU
	expressNoWait(t, e, mustName(t, "/lossmtu/1"), make([]byte, 1000))
	waitCounter(t, "DropsOverMTU", func(c Counters) uint64 { return c.DropsOverMTU }, before)

	// A full face queue: a face whose other end never reads (ndnd logs at
	// DEBUG). Its queues hold 2 x FaceQueueSize packets.
	stuck := face.MakeNDNLPLinkService(face.MakeInternalTransport(), face.MakeNDNLPLinkServiceOptions())
	stuck.Run(nil)
	t.Cleanup(func() { face.FaceTable.Remove(stuck.FaceID()) }) // its transport is never closed: a blocked send would panic
	if err := testFwd.AddRoute(mustName(t, "/lossqueue"), stuck.FaceID(), 0, OriginStatic); err != nil {
		t.Fatal(err)
	}
	raw, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.OnPacket(func([]byte) {})
	raw.OnError(func(error) {})
	if err := raw.Open(); err != nil {
		t.Fatal(err)
	}
	before = testFwd.Counters().DropsFaceQueue
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; testFwd.Counters().DropsFaceQueue == before; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no face queue drop after %d Interests", i)
		}
		in, err := spec.Spec{}.MakeInterest(mustName(t, fmt.Sprintf("/lossqueue/%d", i)), &ndn.InterestConfig{
			Lifetime: optional.Some(time.Second), Nonce: optional.Some(uint32(i))}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = raw.Send(in.Wire)
		if i%256 == 255 {
			time.Sleep(time.Millisecond) // let the forwarding threads keep up
		}
	}

	if got := fwLog.String(); strings.Contains(got, "level=DEBUG") {
		t.Errorf("DEBUG lines in the forwarder's INFO log")
	}
}

// BenchmarkLogFilter measures what running ndnd's logger at DEBUG costs
// per DEBUG line that the filter then drops (ndnd formats the line and
// looks up its caller first), against ndnd's own early return at WARN.
func BenchmarkLogFilter(b *testing.B) {
	name, _ := enc.NameFromStr("/ndn/svs/v=3/chat/member-17/seq=42")
	var ev logEvents
	for _, bc := range []struct {
		what  string
		level ndnlog.Level
		msg   string
	}{
		{"ndnd at WARN (before)", ndnlog.LevelWarn, "Interest is looping (DNL)"},
		{"DEBUG line dropped", ndndLevel(slog.LevelWarn), "Interest is looping (DNL)"},
		{"DEBUG loss counted", ndndLevel(slog.LevelWarn), "No nexthop for Interest"},
	} {
		b.Run(bc.what, func(b *testing.B) {
			f := newLogFilter(io.Discard, slog.LevelWarn, &ev, slog.New(slog.DiscardHandler))
			l := ndnlog.NewText(f)
			l.SetLevel(bc.level)
			th := tag("fw-thread-0")
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				l.Debug(th, bc.msg, "name", name, "nonce", uint32(i))
			}
		})
	}
}
