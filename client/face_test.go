package client

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

func TestBackoffBounds(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		n        int
		min, max time.Duration
		u        float64
		want     time.Duration
	}{
		{0, 10 * ms, 2000 * ms, 0, 5 * ms},
		{0, 10 * ms, 2000 * ms, 0.999999, 10 * ms},
		{1, 10 * ms, 2000 * ms, 0, 10 * ms},
		{3, 10 * ms, 2000 * ms, 0.5, 60 * ms},
		{8, 10 * ms, 2000 * ms, 0, 1000 * ms}, // 2560 capped at 2000
		{1000, 10 * ms, 2000 * ms, 0.999999, 2000 * ms},
		{5, 0, 0, 0, 500 * time.Microsecond}, // defaults to 1 ms, max = min
	} {
		got := backoff(c.n, c.min, c.max, c.u)
		if d := got - c.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("backoff(%d, %v, %v, %v) = %v, want %v", c.n, c.min, c.max, c.u, got, c.want)
		}
		if got > max(c.max, time.Millisecond) {
			t.Errorf("backoff(%d) = %v above max %v", c.n, got, c.max)
		}
	}
}

func TestParseTransport(t *testing.T) {
	for _, c := range []struct {
		uri, want string
		local     bool
		bad       bool
	}{
		{uri: "unix:///run/nfd/nfd.sock", want: "unix:///run/nfd/nfd.sock", local: true},
		{uri: "tcp://127.0.0.1", want: "tcp://127.0.0.1:6363"},
		{uri: "tcp4://192.0.2.1:7000", want: "tcp4://192.0.2.1:7000"},
		{uri: "tcp6://[::1]", want: "tcp6://[::1]:6363"},
		{uri: "udp://192.0.2.1", bad: true},
		{uri: "unix://", bad: true},
		{uri: "tcp://", bad: true},
		{uri: "%", bad: true},
	} {
		ep, err := parseTransport(c.uri)
		if c.bad {
			if !errors.Is(err, ErrTransport) {
				t.Errorf("%q: err %v, want ErrTransport", c.uri, err)
			}
			continue
		}
		if err != nil || ep.String() != c.want || ep.local != c.local {
			t.Errorf("%q: %v local=%v err=%v, want %s local=%v", c.uri, ep, ep.local, err, c.want, c.local)
		}
	}
}

// The transport is found as NFD clients find it: the environment, then
// client.conf files in order, then the node's default socket.
func TestDefaultTransportOrder(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "user.conf")
	sys := filepath.Join(dir, "etc.conf")
	missing := filepath.Join(dir, "missing.conf")
	if err := os.WriteFile(user, []byte("; comment\n# transport=tcp://ignored\nprotocol=nfd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sys, []byte("transport = unix:///etc/sock\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	confs := []string{missing, user, sys}
	if got := defaultTransport("tcp://env", confs, "/s"); got != "tcp://env" {
		t.Errorf("env: %q", got)
	}
	if got := defaultTransport("", confs, "/s"); got != "unix:///etc/sock" {
		t.Errorf("conf: %q", got)
	}
	if got := defaultTransport("", []string{missing}, "/run/x/nfd.sock"); got != "unix:///run/x/nfd.sock" {
		t.Errorf("fallback: %q", got)
	}
	t.Setenv("NDN_CLIENT_TRANSPORT", "unix:///from/env")
	if got := DefaultTransport(); got != "unix:///from/env" {
		t.Errorf("DefaultTransport with env: %q", got)
	}
}

// newFace opens a face on n with fast backoff and records frames and
// up/down events.
type rec struct {
	mu     sync.Mutex
	frames [][]byte
	events []string
	got    chan struct{}
}

func (r *rec) event(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// waitEvents waits until n up/down events were recorded.
func (r *rec) waitEvents(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ev := r.eventList()
		if len(ev) >= n || time.Now().After(deadline) {
			return ev
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *rec) eventList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func newFace(t *testing.T, n *fakeNode, mod func(*Config)) (*Face, *rec) {
	t.Helper()
	cfg := Config{Transport: n.uri(), MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, CommandTimeout: 300 * time.Millisecond, Seed: 1}
	if mod != nil {
		mod(&cfg)
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &rec{got: make(chan struct{}, 100)}
	f.OnPacket(func(b []byte) {
		r.mu.Lock()
		r.frames = append(r.frames, append([]byte(nil), b...))
		r.mu.Unlock()
		r.got <- struct{}{}
	})
	f.OnUp(func() { r.event("up") })
	f.OnDown(func() { r.event("down") })
	t.Cleanup(func() {
		_ = f.Close()
		select {
		case <-f.Done():
		case <-time.After(5 * time.Second):
			t.Error("face goroutines did not end within 5s of Close")
		}
	})
	return f, r
}

func waitState(t *testing.T, f *Face, s State) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.WaitState(ctx, s); err != nil {
		t.Fatalf("state %v: %v (now %v)", s, err, f.State())
	}
}

func TestOpenFailsWhenNoNode(t *testing.T) {
	n := newFakeNode(t)
	n.stop()
	f, _ := newFace(t, n, nil)
	if err := f.Open(); err == nil {
		t.Fatal("Open succeeded with no node")
	}
	if f.State() != StateIdle {
		t.Errorf("state after failed Open: %v", f.State())
	}
	if err := f.Send(enc.Wire{{5, 0}}); !errors.Is(err, ErrDown) {
		t.Errorf("Send before Open: %v, want ErrDown", err)
	}
	// The node appears: the same face opens.
	n.start()
	if err := f.Open(); err != nil {
		t.Fatal(err)
	}
	if f.State() != StateUp || !f.IsRunning() || !f.IsLocal() {
		t.Errorf("after Open: %v running=%v local=%v", f.State(), f.IsRunning(), f.IsLocal())
	}
	if err := f.Open(); !errors.Is(err, ErrOpen) {
		t.Errorf("second Open: %v", err)
	}
}

func TestWaitForNode(t *testing.T) {
	n := newFakeNode(t)
	n.stop()
	f, _ := newFace(t, n, func(c *Config) { c.WaitForNode = true })
	opened := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		opened <- f.OpenContext(ctx)
	}()
	time.Sleep(100 * time.Millisecond) // the node starts late
	n.start()
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	if s := f.Stats(); s.DialFailures == 0 || s.Connects != 1 {
		t.Errorf("stats %+v", s)
	}
}

// The node goes away and comes back: OnDown, Send fails with ErrDown,
// OnUp after the routes were registered again on the new connection.
func TestReconnectsAndRegistersAgain(t *testing.T) {
	n := newFakeNode(t)
	f, r := newFace(t, n, nil)
	if err := f.Open(); err != nil {
		t.Fatal(err)
	}
	a, _ := enc.NameFromStr("/a")
	b, _ := enc.NameFromStr("/b/c")
	if err := f.Register(a); err != nil {
		t.Fatal(err)
	}
	if got := n.took(); !slices.Equal(got, []string{"localhost register /a"}) {
		t.Errorf("commands %q", got)
	}

	n.stop()
	waitState(t, f, StateDown)
	if err := f.Send(enc.Wire{{5, 0}}); !errors.Is(err, ErrDown) {
		t.Errorf("Send while down: %v, want ErrDown", err)
	}
	if err := f.Register(b); !errors.Is(err, ErrDown) {
		t.Errorf("Register while down: %v, want ErrDown", err)
	}

	upAgain := f.Changed()
	t0 := time.Now()
	n.start()
	waitState(t, f, StateUp)
	t.Logf("reconnected %v after the node came back", time.Since(t0).Round(time.Millisecond))
	<-upAgain
	got := n.took()
	slices.Sort(got)
	if !slices.Equal(got, []string{"localhost register /a", "localhost register /b/c"}) {
		t.Errorf("commands after reconnect %q", got)
	}
	if ev := r.waitEvents(t, 3); !slices.Equal(ev, []string{"up", "down", "up"}) {
		t.Errorf("events %q", ev)
	}
	if err := f.Unregister(b); err != nil {
		t.Fatal(err)
	}
	if got := n.took(); !slices.Equal(got, []string{"localhost unregister /b/c"}) {
		t.Errorf("commands %q", got)
	}
	if s := f.Stats(); s.Connects != 2 || s.Disconnects != 1 {
		t.Errorf("stats %+v", s)
	}
}

// RegisterCapture registers with NFD's Capture flag (2) and without
// ChildInherit, and registers so again after a reconnection; Register sends
// no flags (NFD's default, ChildInherit).
func TestRegisterCaptureKeepsItsFlag(t *testing.T) {
	n := newFakeNode(t)
	f, _ := newFace(t, n, nil)
	if err := f.Open(); err != nil {
		t.Fatal(err)
	}
	a, _ := enc.NameFromStr("/g/a")
	b, _ := enc.NameFromStr("/g")
	if err := f.RegisterCapture(a); err != nil {
		t.Fatal(err)
	}
	if err := f.Register(b); err != nil {
		t.Fatal(err)
	}
	want := []string{"localhost register /g/a flags=2", "localhost register /g"}
	if got := n.took(); !slices.Equal(got, want) {
		t.Errorf("commands %q, want %q", got, want)
	}
	n.stop()
	waitState(t, f, StateDown)
	n.start()
	waitState(t, f, StateUp)
	got := n.took()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("commands after reconnect %q, want %q", got, want)
	}
}

func TestRegisterErrors(t *testing.T) {
	n := newFakeNode(t)
	var mu sync.Mutex
	var reported []string
	f, _ := newFace(t, n, func(c *Config) {
		c.RegisterAttempts = 2
		c.OnRegisterError = func(p enc.Name, err error) {
			mu.Lock()
			reported = append(reported, p.String()+": "+err.Error())
			mu.Unlock()
		}
	})
	if err := f.Open(); err != nil {
		t.Fatal(err)
	}
	p, _ := enc.NameFromStr("/p")
	n.set(403, false)
	err := f.Register(p)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 403 || se.Command != "rib/register" {
		t.Fatalf("refused Register: %v", err)
	}
	n.set(0, true)
	t0 := time.Now()
	if err := f.Register(p); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("unanswered Register: %v", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("unanswered Register took %v (CommandTimeout 300ms)", d)
	}
	// Refused at reconnection: reported, and the face still comes up.
	n.set(403, false)
	n.stop()
	waitState(t, f, StateDown)
	n.start()
	waitState(t, f, StateUp)
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !strings.Contains(reported[0], "status 403") {
		t.Errorf("reported %q", reported)
	}
	if got := len(n.took()); got != 1+2+2 { // 1 refused, 2 silent, then 2 attempts
		t.Errorf("%d commands, want 5", got)
	}
}

// The 12 bytes that panic ndnd's stream framer (issue 211) close the
// connection; the face reconnects. Frames of a type no engine takes are
// dropped and counted, and the connection stays.
func TestHostileBytesFromNode(t *testing.T) {
	n := newFakeNode(t)
	f, r := newFace(t, n, nil)
	if err := f.Open(); err != nil {
		t.Fatal(err)
	}
	<-n.accepted
	if err := n.sendAll([]byte{0x07, 0x03, 0x08, 0x01, 'x'}); err != nil { // a Name, not a packet
		t.Fatal(err)
	}
	if err := n.sendAll([]byte{0x05, 0x00}); err != nil { // an (empty) Interest: handed over
		t.Fatal(err)
	}
	select {
	case <-r.got:
	case <-time.After(5 * time.Second):
		t.Fatal("frame not delivered")
	}
	if s := f.Stats(); s.Dropped != 1 || s.FramesIn != 1 || s.Disconnects != 0 {
		t.Errorf("stats %+v", s)
	}
	if err := n.sendAll([]byte{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00}); err != nil {
		t.Fatal(err)
	}
	<-n.accepted // the face dropped the connection and dialled again
	waitState(t, f, StateUp)
	if s := f.Stats(); s.Disconnects != 1 || s.Connects != 2 {
		t.Errorf("stats %+v", s)
	}
	// A length near 2^64 too.
	if err := n.sendAll([]byte{0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0x00}); err != nil {
		t.Fatal(err)
	}
	<-n.accepted
	waitState(t, f, StateUp)
	if ev := r.waitEvents(t, 5); !slices.Equal(ev, []string{"up", "down", "up", "down", "up"}) {
		t.Errorf("events %q", ev)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	n := newFakeNode(t)
	errc := make(chan error, 1)
	f, _ := newFace(t, n, func(c *Config) { c.MaxAttempts = 3 })
	f.OnError(func(err error) { errc <- err })
	if err := f.Open(); err != nil {
		t.Fatal(err)
	}
	n.stop()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrGaveUp) {
			t.Errorf("OnError(%v), want ErrGaveUp", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not give up")
	}
	<-f.Done()
	if f.State() != StateClosed || f.Stats().DialFailures != 3 {
		t.Errorf("state %v stats %+v", f.State(), f.Stats())
	}
	if err := f.Send(enc.Wire{{5, 0}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after giving up: %v", err)
	}
}

// Close while reconnecting returns at once and ends the goroutines; no
// OnDown at Close.
func TestCloseWhileDownAndWhileUp(t *testing.T) {
	n := newFakeNode(t)
	f, r := newFace(t, n, func(c *Config) { c.MinBackoff, c.MaxBackoff = time.Second, time.Second })
	if err := f.Open(); err != nil {
		t.Fatal(err)
	}
	n.stop()
	waitState(t, f, StateDown)
	t0 := time.Now()
	_ = f.Close()
	<-f.Done()
	if d := time.Since(t0); d > 500*time.Millisecond {
		t.Errorf("Close during a 1s backoff took %v", d)
	}
	_ = f.Close()

	n.start()
	g, rg := newFace(t, n, nil)
	if err := g.Open(); err != nil {
		t.Fatal(err)
	}
	_ = g.Close()
	<-g.Done()
	if ev := rg.eventList(); !slices.Equal(ev, []string{"up"}) {
		t.Errorf("events of g %q (no down at Close)", ev)
	}
	if ev := r.waitEvents(t, 2); !slices.Equal(ev, []string{"up", "down"}) {
		t.Errorf("events of f %q", ev)
	}
	if err := g.Register(enc.Name{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Register after Close: %v", err)
	}
}

// A node that stops reading cannot block Send longer than WriteTimeout.
func TestSendNeverBlocks(t *testing.T) {
	n := newFakeNode(t)
	f, _ := newFace(t, n, func(c *Config) { c.WriteTimeout = 200 * time.Millisecond })
	if err := f.Open(); err != nil {
		t.Fatal(err)
	}
	c := <-n.accepted
	_ = c // the fake node keeps reading; make one that does not:
	n.stop()
	// A listener that accepts and never reads.
	stuck, err := netListenNoRead(n.path)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck()
	waitState(t, f, StateUp)
	big := make([]byte, 8000)
	big[0], big[1], big[2], big[3] = 0x05, 0xFD, byte((8000-4)>>8), byte((8000-4)&0xff)
	t0 := time.Now()
	var sendErr error
	for i := 0; i < 10000 && sendErr == nil; i++ {
		sendErr = f.Send(enc.Wire{big})
	}
	if !errors.Is(sendErr, ErrDown) {
		t.Fatalf("Send to a node that never reads: %v", sendErr)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("filling the socket and timing out took %v", d)
	}
}

// Over TCP the node does not see the face as local: commands go to
// /localhop/nfd, at Register and at every reconnection.
func TestTCPRegistersOnLocalhop(t *testing.T) {
	n := newFakeTCPNode(t)
	f, _ := newFace(t, n, nil)
	if err := f.Open(); err != nil {
		t.Fatal(err)
	}
	if f.IsLocal() {
		t.Error("a TCP face is local")
	}
	p, _ := enc.NameFromStr("/tcp/app")
	if err := f.Register(p); err != nil {
		t.Fatal(err)
	}
	n.stop()
	waitState(t, f, StateDown)
	n.start()
	waitState(t, f, StateUp)
	if got := n.took(); !slices.Equal(got, []string{"localhop register /tcp/app", "localhop register /tcp/app"}) {
		t.Errorf("commands %q", got)
	}
}

// Close while Open waits for the node ends Open and the face; cancelling
// Open's context after it succeeded closes the face.
func TestOpenWaitsAndContextEnds(t *testing.T) {
	n := newFakeNode(t)
	n.stop()
	f, _ := newFace(t, n, func(c *Config) { c.WaitForNode = true })
	opened := make(chan error, 1)
	go func() { opened <- f.Open() }()
	time.Sleep(50 * time.Millisecond)
	_ = f.Close()
	select {
	case err := <-opened:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Open after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open did not return after Close")
	}
	<-f.Done()

	n.start()
	g, rg := newFace(t, n, nil)
	ctx, cancel := context.WithCancel(context.Background())
	if err := g.OpenContext(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-g.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("face still running after its context ended")
	}
	if g.State() != StateClosed {
		t.Errorf("state %v", g.State())
	}
	if ev := rg.eventList(); !slices.Equal(ev, []string{"up"}) {
		t.Errorf("events %q", ev)
	}

	// A context that ends while Open waits fails Open; the face stays idle.
	n.stop()
	h, _ := newFace(t, n, func(c *Config) { c.WaitForNode = true })
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.OpenContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open with an expired context: %v", err)
	}
	if h.State() != StateIdle {
		t.Errorf("state %v after a failed Open", h.State())
	}
}

// A Register whose command goes unanswered (a node too busy to answer in
// time, a command lost in a full queue) is sent again and succeeds; a
// refusal is not sent again.
func TestRegisterAgainWithoutAnswer(t *testing.T) {
	n := newFakeNode(t)
	f, _ := newFace(t, n, func(c *Config) { c.RegisterAttempts = 3 })
	if err := f.Open(); err != nil {
		t.Fatal(err)
	}
	waitState(t, f, StateUp)
	n.took()
	p, _ := enc.NameFromStr("/again")
	n.dropNext(2)
	if err := f.Register(p); err != nil {
		t.Fatalf("Register with two commands unanswered, three attempts: %v", err)
	}
	if got := n.took(); len(got) != 3 {
		t.Errorf("commands %q, want three", got)
	}
	n.set(403, false)
	var se *StatusError
	if err := f.Register(p); !errors.As(err, &se) {
		t.Fatalf("refused Register: %v", err)
	}
	if got := n.took(); len(got) != 1 {
		t.Errorf("a refusal was sent %d times, want once", len(got))
	}
}
