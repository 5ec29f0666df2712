package fw

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/face"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/utils"
)

// One forwarder serves every test in this package: ndnd's globals allow one
// per process.
var (
	testFwd  *Forwarder
	testSock string
	fwLog    syncBuffer
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ndnsvs-fw-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testSock = filepath.Join(dir, "nfd.sock")
	cfg := DefaultConfig()
	cfg.Unix = UnixConfig{Enabled: true, Path: testSock, Mode: 0o660}
	cfg.ForwarderLogWriter = &fwLog
	cfg.ForwarderLogLevel = slog.LevelInfo
	testFwd, err = New(cfg)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = testFwd.Start(ctx)
		cancel()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "start forwarder:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := testFwd.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close forwarder:", err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newEngine starts an engine on a new in-process face.
func newEngine(t testing.TB) (ndn.Engine, *Face) {
	t.Helper()
	af, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	e := engine.NewBasicEngine(af)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop() })
	return e, af
}

// newUnixEngine starts an engine on a unix-socket face, as an external
// application would.
func newUnixEngine(t testing.TB) ndn.Engine {
	t.Helper()
	e := engine.NewBasicEngine(engine.NewUnixFace(testSock))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop() })
	return e
}

// serve attaches a producer for prefix that answers every Interest with
// content, and routes prefix to it.
func serve(t testing.TB, e ndn.Engine, faceID uint64, prefix enc.Name, content []byte) {
	t.Helper()
	sg := signer.NewSha256Signer()
	err := e.AttachHandler(prefix, func(args ndn.InterestHandlerArgs) {
		data, err := e.Spec().MakeData(args.Interest.Name(), &ndn.DataConfig{}, enc.Wire{content}, sg)
		if err != nil {
			return
		}
		_ = args.Reply(data.Wire)
	})
	if err != nil {
		t.Fatal(err)
	}
	if faceID != 0 {
		if err := testFwd.AddRoute(prefix, faceID, 0, OriginApp); err != nil {
			t.Fatal(err)
		}
	} else if err := e.RegisterRoute(prefix); err != nil {
		t.Fatal(err)
	}
}

// fetch expresses one Interest and waits for its result.
func fetch(t testing.TB, e ndn.Engine, name enc.Name) ([]byte, error) {
	t.Helper()
	intr, err := e.Spec().MakeInterest(name, &ndn.InterestConfig{
		Lifetime: optionalDur(2 * time.Second),
		Nonce:    utils.ConvertNonce(e.Timer().Nonce()),
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan ndn.ExpressCallbackArgs, 1)
	if err := e.Express(intr, func(a ndn.ExpressCallbackArgs) { ch <- a }); err != nil {
		return nil, err
	}
	a := <-ch
	if a.Result != ndn.InterestResultData {
		return nil, fmt.Errorf("fetch %s: %s", name, a.Result)
	}
	return a.Data.Content().Join(), nil
}

func mustName(t testing.TB, s string) enc.Name {
	t.Helper()
	n, err := enc.NameFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInProcessFaceExchange(t *testing.T) {
	prod, pf := newEngine(t)
	cons, _ := newEngine(t)
	serve(t, prod, pf.FaceID(), mustName(t, "/test/inproc"), []byte("hello"))
	for i := range 100 {
		got, err := fetch(t, cons, mustName(t, fmt.Sprintf("/test/inproc/%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "hello" {
			t.Fatalf("content %q", got)
		}
	}
}

// An in-process face counts its own packets: ndnd's link service, whose
// counters the management listing shows, is bypassed.
func TestInProcessFaceCounters(t *testing.T) {
	prod, pf := newEngine(t)
	cons, cf := newEngine(t)
	serve(t, prod, pf.FaceID(), mustName(t, "/test/counters"), []byte("x"))
	for i := range 5 {
		if _, err := fetch(t, cons, mustName(t, fmt.Sprintf("/test/counters/%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	got := map[uint64]FaceInfo{}
	for _, fi := range testFwd.Faces() {
		got[fi.ID] = fi
	}
	c, p := got[cf.FaceID()], got[pf.FaceID()]
	if c.OutInterests != 0 || c.InInterests != 5 || c.OutData != 5 {
		t.Errorf("consumer face counters %+v", c)
	}
	if p.OutInterests != 5 || p.InData != 5 || p.Dropped != 0 {
		t.Errorf("producer face counters %+v", p)
	}
}

// A face with OnFrame gets each packet from the forwarding thread itself,
// counted, and may answer from inside the callback; once closed it gets
// nothing and leaves no route.
func TestInProcessFaceOnFrame(t *testing.T) {
	af, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	prefix := mustName(t, "/test/onframe")
	sg := signer.NewSha256Signer()
	var frames atomic.Int64
	af.OnFrame(func(frame []byte) {
		frames.Add(1)
		i, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(frame))
		if err != nil {
			t.Errorf("frame %x is not an Interest: %v", frame, err)
			return
		}
		data, err := spec.Spec{}.MakeData(i.Name(), &ndn.DataConfig{}, enc.Wire{[]byte("inline")}, sg)
		if err != nil {
			t.Error(err)
			return
		}
		if err := af.Send(data.Wire); err != nil {
			t.Error(err)
		}
	})
	af.OnError(func(error) {})
	if err := af.Open(); err != nil {
		t.Fatal(err)
	}
	if err := testFwd.AddRoute(prefix, af.FaceID(), 0, OriginApp); err != nil {
		t.Fatal(err)
	}
	cons, _ := newEngine(t)
	for i := range 20 {
		got, err := fetch(t, cons, prefix.Append(enc.NewSequenceNumComponent(uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "inline" {
			t.Fatalf("content %q", got)
		}
	}
	if n := frames.Load(); n != 20 {
		t.Errorf("%d frames, want 20", n)
	}
	listed := false
	for _, fi := range testFwd.Faces() {
		if fi.ID == af.FaceID() {
			listed = true
			if fi.OutInterests != 20 || fi.InData != 20 {
				t.Errorf("face counters %+v", fi)
			}
		}
	}
	if !listed {
		t.Error("the face is not in Faces()")
	}
	if err := af.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fetch(t, cons, prefix.Append(enc.NewSequenceNumComponent(99))); err == nil {
		t.Error("a closed face still answered")
	}
	if frames.Load() != 20 {
		t.Error("a closed face still got frames")
	}
}

// A route may reach a face before its application opens it: with OnFrame
// set, what arrived before Open waits and is handed over after.
func TestOnFrameGetsPacketsFromBeforeOpen(t *testing.T) {
	af, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	prefix := mustName(t, "/test/onframe-early")
	if err := testFwd.AddRoute(prefix, af.FaceID(), 0, OriginApp); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 4)
	af.OnFrame(func(frame []byte) { got <- bytes.Clone(frame) })
	af.OnError(func(error) {})
	cons, _ := newEngine(t)
	intr, err := cons.Spec().MakeInterest(prefix.Append(enc.NewGenericComponent("early")), &ndn.InterestConfig{
		Lifetime: optionalDur(time.Second),
		Nonce:    utils.ConvertNonce(cons.Timer().Nonce()),
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cons.Face().Send(intr.Wire); err != nil {
		t.Fatal(err)
	}
	// Wait until the forwarder has queued it for the closed face.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		sent := uint64(0)
		for _, fi := range testFwd.Faces() {
			if fi.ID == af.FaceID() {
				sent = fi.OutInterests
			}
		}
		if sent == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the Interest never reached the face")
		}
	}
	if err := af.Open(); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-got:
		i, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(f))
		if err != nil || !i.Name().Equal(intr.FinalName) {
			t.Fatalf("got %x (%v)", f, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the early Interest was not handed over after Open")
	}
}

func TestUnixSocketClientReachesInProcessProducer(t *testing.T) {
	prod, pf := newEngine(t)
	serve(t, prod, pf.FaceID(), mustName(t, "/test/fromunix"), []byte("via unix"))
	cons := newUnixEngine(t)
	got, err := fetch(t, cons, mustName(t, "/test/fromunix/1"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "via unix" {
		t.Fatalf("content %q", got)
	}
}

func TestUnixSocketProducerRegistersThroughManagement(t *testing.T) {
	prod := newUnixEngine(t)
	serve(t, prod, 0, mustName(t, "/test/unixprod"), []byte("registered"))
	cons, _ := newEngine(t)
	got, err := fetch(t, cons, mustName(t, "/test/unixprod/x"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "registered" {
		t.Fatalf("content %q", got)
	}
}

func TestUnixSocketMode(t *testing.T) {
	fi, err := os.Stat(testSock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode %v, want socket 0660", fi.Mode())
	}
}

func TestClosedFaceLeavesNoFaceAndNoRoute(t *testing.T) {
	prefix := mustName(t, "/test/closing")
	af, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	e := engine.NewBasicEngine(af)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	if err := testFwd.AddRoute(prefix, af.FaceID(), 0, OriginApp); err != nil {
		t.Fatal(err)
	}
	if !hasFace(af.FaceID()) || len(testFwd.NextHops(prefix)) != 1 {
		t.Fatalf("before close: face %v, next hops %v", hasFace(af.FaceID()), testFwd.NextHops(prefix))
	}
	down := make(chan struct{})
	af.OnDown(func() { close(down) })
	if err := e.Stop(); err != nil { // closes the face, asynchronously
		t.Fatal(err)
	}
	select {
	case <-down:
	case <-time.After(5 * time.Second):
		t.Fatal("face did not go down after the engine stopped")
	}
	if hasFace(af.FaceID()) {
		t.Error("face still in the face table after close")
	}
	if nh := testFwd.NextHops(prefix); len(nh) != 0 {
		t.Errorf("route left behind: next hops %v", nh)
	}
	if err := af.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if err := af.Send(enc.Wire{{0x05, 0x00}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
}

// hasFace reads the face table without touching ndnd's unsynchronised
// face counters.
func hasFace(id uint64) bool { return face.FaceTable.Get(id) != nil }

func TestSetStrategy(t *testing.T) {
	p := mustName(t, "/test/strategy/group")
	if err := testFwd.SetStrategy(p, "multicast"); err != nil {
		t.Fatal(err)
	}
	if got := testFwd.Strategy(p.Append(enc.NewGenericComponent("x"))).String(); got != "/localhost/nfd/strategy/multicast/v=1" {
		t.Errorf("strategy %s", got)
	}
	for _, bad := range []string{"nosuch", "/localhost/nfd/strategy/nosuch", "/localhost/nfd/strategy/multicast/v=99", "/localhost/nfd/strategy/multicast/x", "/not/a/strategy"} {
		if err := testFwd.SetStrategy(p, bad); err == nil {
			t.Errorf("SetStrategy(%q) accepted", bad)
		}
	}
	// An unversioned full name gets the newest version, never reaching
	// ndnd unversioned (which would kill the forwarding thread).
	if err := testFwd.SetStrategy(p, "/localhost/nfd/strategy/best-route"); err != nil {
		t.Fatal(err)
	}
	if got := testFwd.Strategy(p).String(); got != "/localhost/nfd/strategy/best-route/v=1" {
		t.Errorf("strategy %s", got)
	}
}

var mcastRun atomic.Uint64

func TestMulticastStrategyReachesEveryMember(t *testing.T) {
	// A name of its own per run: with -count=N an earlier run's PIT entry
	// for the same name would make the multicast strategy suppress this one.
	group := mustName(t, fmt.Sprintf("/test/mcast/%d", mcastRun.Add(1)))
	if err := testFwd.SetStrategy(group, "multicast"); err != nil {
		t.Fatal(err)
	}
	const n = 4
	got := make(chan int, n)
	var members []ndn.Engine
	for i := range n {
		e, af := newEngine(t)
		if err := e.AttachHandler(group, func(ndn.InterestHandlerArgs) { got <- i }); err != nil {
			t.Fatal(err)
		}
		if err := testFwd.AddRoute(group, af.FaceID(), 0, OriginApp); err != nil {
			t.Fatal(err)
		}
		members = append(members, e)
	}
	intr, err := members[0].Spec().MakeInterest(group.Append(enc.NewGenericComponent("sync")), &ndn.InterestConfig{
		Lifetime: optionalDur(time.Second),
		Nonce:    utils.ConvertNonce(members[0].Timer().Nonce()),
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := members[0].Express(intr, func(ndn.ExpressCallbackArgs) {}); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	timeout := time.After(5 * time.Second)
	for len(seen) < n-1 {
		select {
		case i := <-got:
			if i == 0 {
				t.Fatal("Interest came back to its sender")
			}
			seen[i] = true
		case <-timeout:
			t.Fatalf("Interest reached %d of %d other members", len(seen), n-1)
		}
	}
}

func TestGarbageOnUnixSocketIsDropped(t *testing.T) {
	for _, junk := range [][]byte{
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // huge VAR-NUMBER length
		{0x05, 0x03, 0x07, 0x01},                               // truncated Interest
		{0x64, 0x02, 0x50, 0x00},                               // LpPacket without fragment
		bytes.Repeat([]byte{0x06, 0x00}, 100),                  // empty Data packets
		{0x05, 0x05, 0x07, 0x03, 0x08, 0x01},                   // bad name
		bytes.Repeat([]byte{0x42, 0x00}, 10),                   // 10 complete frames of an unknown type
	} {
		c, err := net.Dial("unix", testSock)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(junk); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	// An oversized packet: a Data claiming 70000 bytes.
	c, err := net.Dial("unix", testSock)
	if err != nil {
		t.Fatal(err)
	}
	big := append([]byte{0x06, 0xfe, 0x00, 0x01, 0x11, 0x70}, make([]byte, 70000)...)
	_, _ = c.Write(big)
	c.Close()

	// The forwarder still forwards.
	prod, pf := newEngine(t)
	serve(t, prod, pf.FaceID(), mustName(t, "/test/aftergarbage"), []byte("alive"))
	cons := newUnixEngine(t)
	if got, err := fetch(t, cons, mustName(t, "/test/aftergarbage/1")); err != nil || string(got) != "alive" {
		t.Fatalf("after garbage: %q, %v", got, err)
	}

	// Dropped and counted, and not logged at the test's (info) level. Each
	// connection is read by its own goroutine: poll the counter briefly.
	deadline := time.Now().Add(5 * time.Second)
	for testFwd.Counters().MalformedFrames < 10 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if c := testFwd.Counters(); c.MalformedFrames < 10 {
		t.Errorf("MalformedFrames = %d, want at least 10", c.MalformedFrames)
	}
	if strings.Contains(fwLog.String(), "Unable to decode incoming frame") {
		t.Error("malformed frames logged above debug level")
	}
}

func TestSecondForwarderRefused(t *testing.T) {
	f, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(context.Background()); !errors.Is(err, ErrOnePerProcess) {
		t.Fatalf("second Start: %v, want ErrOnePerProcess", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestUnixSocketInUseIsAnError(t *testing.T) {
	_, err := testFwd.listenUnix(testSock, 0o660)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("listen on a live socket: %v", err)
	}
	notSock := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notSock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := testFwd.listenUnix(notSock, 0o660); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("listen on a regular file: %v", err)
	}
}

func TestStaleUnixSocketIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stale.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves the file, with nobody listening
	l, err := testFwd.listenUnix(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after close: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		field string
		mod   func(*Config)
	}{
		{"Threads", func(c *Config) { c.Threads = 0 }},
		{"Threads", func(c *Config) { c.Threads = 33 }},
		{"QueueSize", func(c *Config) { c.QueueSize = 0 }},
		{"FaceQueueSize", func(c *Config) { c.FaceQueueSize = -1 }},
		{"UDPMTU", func(c *Config) { c.UDPMTU = 100 }},
		{"ContentStore.Capacity", func(c *Config) { c.ContentStore.Capacity = 70000 }},
		{"Unix.Path", func(c *Config) { c.Unix = UnixConfig{Enabled: true, Path: "rel.sock", Mode: 0o660} }},
		{"Unix.Mode", func(c *Config) { c.Unix = UnixConfig{Enabled: true, Path: "/x.sock", Mode: 0o777} }},
		{"UDP.Listen", func(c *Config) { c.UDP.Enabled = true }},
		{"Multicast.Group", func(c *Config) { c.Multicast.Enabled = true; c.Multicast.Group = testAddrPort("10.0.0.1:56363") }},
		{"TCP.Listen", func(c *Config) { c.TCP.Enabled = true }},
		{"WebSocket", func(c *Config) {
			c.WebSocket = WebSocketConfig{Enabled: true, Listen: testAddrPort("127.0.0.1:9696"), TLSCert: "c.pem"}
		}},
	} {
		c := DefaultConfig()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v", tc.field, err)
		}
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted an invalid config", tc.field)
		}
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
}

var _ io.Writer = (*syncBuffer)(nil)
