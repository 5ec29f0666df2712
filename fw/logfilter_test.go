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
	"syscall"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/face"
	enc "github.com/named-data/ndnd/std/encoding"
	ndnlog "github.com/named-data/ndnd/std/log"
	"github.com/named-data/ndnd/std/ndn"
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

// forwarderLogs are the two ways the forwarder's ndnd logger can be built:
// the slog handler (used when ndnd's Logger has the expected layout) and
// the writer filter (the fallback).
var forwarderLogs = []struct {
	name string
	make func(w io.Writer, level slog.Level, sink *lossSink) *ndnlog.Logger
}{
	{"handler", func(w io.Writer, level slog.Level, sink *lossSink) *ndnlog.Logger {
		return newForwarderLog(w, false, level, sink)
	}},
	{"handler-json", func(w io.Writer, level slog.Level, sink *lossSink) *ndnlog.Logger {
		return newForwarderLog(w, true, level, sink)
	}},
	{"writer", func(w io.Writer, level slog.Level, sink *lossSink) *ndnlog.Logger {
		l := ndnlog.NewText(newLogFilter(w, level, sink))
		l.SetLevel(ndndLevel(level))
		return l
	}},
}

func TestSetSlogFindsNdndsField(t *testing.T) {
	if !setSlog(ndnlog.NewText(io.Discard), slog.New(slog.DiscardHandler)) {
		t.Fatal("ndnd's Logger has no slog field: the forwarder falls back to the slower writer filter")
	}
}

// Lines under the configured level are dropped, lost packets are counted
// and logged on the node's logger at WARN once per reason per period, with
// the number held back.
func TestLogFilterCountsAndRateLimits(t *testing.T) {
	for _, fl := range forwarderLogs {
		t.Run(fl.name, func(t *testing.T) { testLogFilter(t, fl.make, fl.name != "writer") })
	}
}

func testLogFilter(t *testing.T, mk func(io.Writer, slog.Level, *lossSink) *ndnlog.Logger, stripsSource bool) {
	var fwOut, nodeOut bytes.Buffer
	var ev logEvents
	sink := newLossSink(&ev, slog.New(slog.NewTextHandler(&nodeOut, nil)))
	now := time.Unix(1000, 0)
	sink.limit.now = func() time.Time { return now }
	l := mk(&fwOut, slog.LevelWarn, sink)
	th := tag("fw-thread-1")

	// Below INFO, ndnd drops its lines itself, before any caller lookup
	// or formatting: losses it logs at DEBUG are not counted.
	for range 3 {
		l.Debug(th, "No nexthop found - DROP", "name", "/x")
	}
	l.Debug(th, "Dropped packet due to congestion")
	l.Debug(th, "Interest is looping (DNL)", "name", "/x")
	for range 2 {
		l.Info(th, "Attempted to send frame over MTU on link without fragmentation - DROP")
	}
	l.Error(th, "Data dropped due to full queue")
	l.Error(th, "Unable to decode incoming frame", "err", "bad")
	l.Warn(th, "an operator's warning")

	if got := fwOut.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "an operator's warning") ||
		!strings.Contains(got, "WARN") {
		t.Errorf("forwarder log got:\n%s", got)
	}
	if got := fwOut.String(); stripsSource && strings.Contains(got, "source") {
		t.Errorf("ndnd's DEBUG-only source attribute in a WARN line:\n%s", got)
	}
	if ev.noRoute.Load() != 0 || ev.overMTU.Load() != 2 || ev.faceQueue.Load() != 0 ||
		ev.queueDrops.Load() != 1 || ev.malformed.Load() != 1 {
		t.Errorf("counts: no route %d, over MTU %d, face queue %d, fw queue %d, malformed %d",
			ev.noRoute.Load(), ev.overMTU.Load(), ev.faceQueue.Load(), ev.queueDrops.Load(), ev.malformed.Load())
	}
	lines := strings.Split(strings.TrimSpace(nodeOut.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("node log has %d lines, want one per reason (2):\n%s", len(lines), nodeOut.String())
	}
	for _, want := range []string{`reason="over MTU"`, `reason="forwarding queue full"`} {
		if !strings.Contains(nodeOut.String(), want) {
			t.Errorf("node log lacks %s:\n%s", want, nodeOut.String())
		}
	}
	if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "suppressed=0") {
		t.Errorf("first line: %s", lines[0])
	}

	nodeOut.Reset()
	now = now.Add(logEvery - time.Millisecond)
	overMTU := "Attempted to send frame larger than MTU"
	l.Warn(th, overMTU)
	if nodeOut.Len() != 0 {
		t.Errorf("logged again within the period: %s", nodeOut.String())
	}
	now = now.Add(time.Millisecond)
	l.Warn(th, overMTU)
	if got := nodeOut.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "suppressed=2") {
		t.Errorf("after the period: %s", got)
	}
	if ev.overMTU.Load() != 4 {
		t.Errorf("over MTU counted %d, want 4", ev.overMTU.Load())
	}

	// Configured at DEBUG, ndnd's DEBUG losses are counted too, and
	// counted lines reach the forwarder's log; a lone member's Sync
	// Interest is counted but not warned about.
	fwOut.Reset()
	nodeOut.Reset()
	ld := mk(&fwOut, slog.LevelDebug, sink)
	ld.Debug(th, "No nexthop for Interest")
	ld.Debug(th, "No nexthop found - DROP", "name", "/x")
	ld.Trace(th, "not at trace")
	if got := fwOut.String(); !strings.Contains(got, "No nexthop for Interest") || strings.Contains(got, "trace") {
		t.Errorf("debug forwarder log: %s", got)
	}
	if ev.noRoute.Load() != 2 {
		t.Errorf("no route counted %d at DEBUG, want 2", ev.noRoute.Load())
	}
	if strings.Contains(nodeOut.String(), multicastAlone) {
		t.Errorf("a lone member's Sync Interest warned about:\n%s", nodeOut.String())
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

// Packets the running forwarder drops are counted from ndnd's log (here a
// frame over a face's MTU, which ndnd logs at INFO), and no DEBUG line
// reaches the forwarder's log (the test forwarder logs at INFO; ndnd's
// DEBUG losses, such as an Interest with no route, are counted only at
// DEBUG: testLogFilter).
func TestLostPacketsAreCounted(t *testing.T) {
	e, _ := newEngine(t)
	expressNoWait(t, e, mustName(t, "/lossnoroute/1"), nil)

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
	before := testFwd.Counters().DropsOverMTU
	expressNoWait(t, e, mustName(t, "/lossmtu/1"), make([]byte, 1000))
	waitCounter(t, "DropsOverMTU", func(c Counters) uint64 { return c.DropsOverMTU }, before)

	if got := fwLog.String(); strings.Contains(got, "level=DEBUG") {
		t.Errorf("DEBUG lines in the forwarder's INFO log")
	}
}

// BenchmarkLogFilter measures what running ndnd's logger at DEBUG costs
// per DEBUG line that is then dropped, against ndnd's own early return at
// WARN: with the handler, and with the writer filter (where ndnd formats
// the line first). cpu-ns/op is the process's CPU time (getrusage), which
// other load on the machine does not inflate as it does ns/op.
func BenchmarkLogFilter(b *testing.B) {
	name, _ := enc.NameFromStr("/ndn/svs/v=3/chat/member-17/seq=42")
	var ev logEvents
	sink := newLossSink(&ev, slog.New(slog.DiscardHandler))
	for _, bc := range []struct {
		what string
		mk   func() *ndnlog.Logger
		msg  string
	}{
		{"ndnd at WARN (before)", func() *ndnlog.Logger {
			l := ndnlog.NewText(io.Discard)
			l.SetLevel(ndnlog.LevelWarn)
			return l
		}, "Interest is looping (DNL)"},
		{"handler DEBUG dropped", func() *ndnlog.Logger { return forwarderLogs[0].make(io.Discard, slog.LevelWarn, sink) }, "Interest is looping (DNL)"},
		{"handler DEBUG loss counted", func() *ndnlog.Logger { return forwarderLogs[0].make(io.Discard, slog.LevelWarn, sink) }, "No nexthop for Interest"},
		{"writer DEBUG dropped", func() *ndnlog.Logger { return forwarderLogs[2].make(io.Discard, slog.LevelWarn, sink) }, "Interest is looping (DNL)"},
		{"writer DEBUG loss counted", func() *ndnlog.Logger { return forwarderLogs[2].make(io.Discard, slog.LevelWarn, sink) }, "No nexthop for Interest"},
	} {
		b.Run(bc.what, func(b *testing.B) {
			l := bc.mk()
			th := tag("fw-thread-0")
			b.ReportAllocs()
			cpu0 := cpuTime()
			for i := 0; b.Loop(); i++ {
				l.Debug(th, bc.msg, "name", name, "nonce", uint32(i))
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The limiter lets one event per key through per period, reports the ones
// held back, and forgets its keys rather than grow past maxRateKeys.
func TestRateLimiter(t *testing.T) {
	r := newRateLimiter(time.Second)
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	type res struct {
		ok bool
		n  uint64
	}
	allow := func(k string) res { ok, n := r.allow(k); return res{ok, n} }
	got := []res{allow("a"), allow("a"), allow("b"), allow("a")}
	now = now.Add(time.Second)
	got = append(got, allow("a"), allow("b"))
	want := []res{{true, 0}, {false, 0}, {true, 0}, {false, 0}, {true, 2}, {true, 0}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for i := range 3 * maxRateKeys {
		r.allow(fmt.Sprint(i))
	}
	if n := len(r.keys); n > maxRateKeys {
		t.Errorf("%d keys kept, bound %d", n, maxRateKeys)
	}
}
