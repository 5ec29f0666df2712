package fw

import (
	"bytes"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/named-data/ndnd/std/engine"
	stdface "github.com/named-data/ndnd/std/engine/face"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// udpListener opens a UDP listener on a free loopback port of the test
// forwarder, closed at cleanup.
func udpListener(t *testing.T) *udpSocket {
	t.Helper()
	s, err := testFwd.listenUDP(testAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	testFwd.mu.Lock()
	testFwd.udpSockets = append(testFwd.udpSockets, s)
	testFwd.mu.Unlock()
	t.Cleanup(func() {
		testFwd.mu.Lock()
		for i, x := range testFwd.udpSockets {
			if x == s {
				testFwd.udpSockets = append(testFwd.udpSockets[:i], testFwd.udpSockets[i+1:]...)
				break
			}
		}
		testFwd.mu.Unlock()
		s.Close()
	})
	return s
}

func interestWire(t *testing.T, name string) []byte {
	t.Helper()
	i, err := spec.Spec{}.MakeInterest(mustName(t, name), &ndn.InterestConfig{
		Lifetime: optionalDur(2 * time.Second),
		Nonce:    optional.Some(rand.Uint32()),
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return i.Wire.Join()
}

// A raw UDP peer sends an Interest in fragments, a producer answers with a
// Data larger than the MTU, and the peer gets it back in fragments that
// reassemble to the producer's Data: fragmentation both ways.
func TestUDPFragmentationBothWays(t *testing.T) {
	s := udpListener(t)
	e, af := newEngine(t)
	content := bytes.Repeat([]byte("sync"), 1500) // a 6000-byte Data, over the 1420 MTU
	serve(t, e, af.FaceID(), mustName(t, "/frag/test"), content)

	peer, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(testAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	to := s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	seq := uint64(100)
	_, err = link.Encode(nil, interestWire(t, "/frag/test/1"), &link.Header{}, 600, &seq, func(b []byte) error {
		// An Interest this small needs no fragments at an MTU of 600: send
		// it in two by hand to exercise reassembly on the way in.
		half := len(b) / 2
		for i, piece := range [][]byte{b[:half], b[half:]} {
			frame := lpFragment(200, uint64(i), 2, piece)
			if _, err := peer.WriteToUDPAddrPort(frame, to); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := link.NewReassembler(link.DefaultLimits(), link.NewBudget(1<<20))
	buf := make([]byte, 9000)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	frags := 0
	for {
		n, err := peer.Read(buf)
		if err != nil {
			t.Fatalf("after %d fragments: %v; faces %+v; counters %+v", frags, err, testFwd.Faces(), testFwd.Counters())
		}
		if n > testFwd.cfg.UDPMTU {
			t.Fatalf("a datagram of %d bytes, over the %d MTU", n, testFwd.cfg.UDPMTU)
		}
		var lp link.Lp
		if err := link.DecodeLp(buf[:n], &lp); err != nil {
			t.Fatal(err)
		}
		frags++
		whole, _, err := r.Add(time.Now(), netip.AddrPort{}, &lp)
		if err != nil {
			t.Fatal(err)
		}
		if whole == nil {
			continue
		}
		if !bytes.Contains(whole, content) {
			t.Fatalf("reassembled %d bytes without the content", len(whole))
		}
		if frags < 5 {
			t.Fatalf("a 6000-byte Data in %d fragments", frags)
		}
		return
	}
}

// lpFragment builds fragment index of count carrying piece, with the given
// sequence number's base.
func lpFragment(base, index, count uint64, piece []byte) []byte {
	var in []byte
	in = append(in, 0x51, 8, 0, 0, 0, 0, 0, 0, 0, byte(base+index))
	in = append(in, 0x52, 1, byte(index), 0x53, 1, byte(count))
	in = append(in, 0x50)
	in = appendLen(in, len(piece))
	in = append(in, piece...)
	return append(appendLen([]byte{0x64}, len(in)), in...)
}

func appendLen(b []byte, n int) []byte {
	if n < 253 {
		return append(b, byte(n))
	}
	return append(b, 253, byte(n>>8), byte(n))
}

// Each new source port makes an on-demand face only up to the bound; what
// comes beyond it is dropped and counted, and hostile datagrams make no
// face at all.
func TestOnDemandFacesAreBounded(t *testing.T) {
	s := udpListener(t)
	to := s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	saved := testFwd.lim.maxOnDemand
	testFwd.lim.maxOnDemand = testFwd.lim.onDemand.Load() + 20
	defer func() { testFwd.lim.maxOnDemand = saved }()
	before := testFwd.Counters()

	hostile := []byte{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00}
	good := interestWire(t, "/ondemand/x")
	var socks []*net.UDPConn
	for i := range 60 {
		c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(to))
		if err != nil {
			t.Fatal(err)
		}
		socks = append(socks, c)
		c.Write(hostile)
		if i%2 == 0 {
			c.Write(good)
		}
	}
	defer func() {
		for _, c := range socks {
			c.Close()
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c := testFwd.Counters()
		if c.OnDemandRefused+c.OnDemandEvicted-before.OnDemandRefused-before.OnDemandEvicted >= 10 &&
			c.MalformedFrames-before.MalformedFrames >= 60 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	c := testFwd.Counters()
	if got := len(s.faces); got != 20 {
		t.Errorf("%d faces on the listener, want the bound, 20", got)
	}
	// Each of the 10 senders over the bound is refused, or, on a machine
	// slow enough that a face made first has been quiet for a second by
	// then, takes that face's place.
	refused, evicted := c.OnDemandRefused-before.OnDemandRefused, c.OnDemandEvicted-before.OnDemandEvicted
	if refused+evicted != 10 {
		t.Errorf("%d datagrams refused and %d faces evicted at the bound, want 10 in all", refused, evicted)
	}
	if n := c.MalformedFrames - before.MalformedFrames; n < 60 {
		t.Errorf("%d malformed frames counted, want 60", n)
	}
}

// A stream that claims an impossible length is closed at once; the
// forwarder goes on, and the number of connections is bounded.
func TestStreamFacesCloseOnImpossibleLengthsAndAreBounded(t *testing.T) {
	for _, frame := range [][]byte{
		{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00},
		{0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0},
	} {
		c, err := net.Dial("unix", testSock)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(frame)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 10)); err == nil || strings.Contains(err.Error(), "timeout") {
			t.Errorf("% x: connection not closed: %v", frame, err)
		}
		c.Close()
	}
	saved := testFwd.lim.maxStreams
	testFwd.lim.maxStreams = settledStreams() + 3
	defer func() { testFwd.lim.maxStreams = saved }()
	before := testFwd.Counters().StreamsRefused
	var conns []net.Conn
	for range 6 {
		c, err := net.Dial("unix", testSock)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for testFwd.Counters().StreamsRefused-before < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := testFwd.Counters().StreamsRefused - before; n != 3 {
		t.Errorf("%d connections refused over the bound, want 3", n)
	}
}

// A second listener on an address in use fails, with the address in the
// error: two nodes cannot share a port silently.
func TestListenAddressInUseIsAnError(t *testing.T) {
	s := udpListener(t)
	a := s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	if _, err := testFwd.listenUDP(a); err == nil || !strings.Contains(err.Error(), a.String()) {
		t.Errorf("second UDP listener on %s: %v", a, err)
	}
	tl, err := testFwd.listenTCP(testAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	ta := tl.ln.Addr().String()
	if _, err := testFwd.listenTCP(testAddrPort(ta)); err == nil || !strings.Contains(err.Error(), ta) {
		t.Errorf("second TCP listener on %s: %v", ta, err)
	}
}

// A TCP client on loopback is a local face, and reaches a producer.
func TestTCPFaceReachesProducer(t *testing.T) {
	tl, err := testFwd.listenTCP(testAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	e, af := newEngine(t)
	serve(t, e, af.FaceID(), mustName(t, "/tcp/face"), []byte("hello"))
	c, err := net.Dial("tcp", tl.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(interestWire(t, "/tcp/face/1")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	frame, err := link.NewStreamReader(c, 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(frame, []byte("hello")) {
		t.Fatalf("reply % x", frame)
	}
	found := false
	for _, fi := range testFwd.Faces() {
		if strings.HasPrefix(fi.Remote, "tcp4://127.0.0.1:") {
			found = true
			if fi.Scope != "local" || fi.InInterests != 1 || fi.OutData != 1 {
				t.Errorf("tcp face %+v", fi)
			}
		}
	}
	if !found {
		t.Errorf("no tcp face in %+v", testFwd.Faces())
	}
}

// An ndnd client on TCP from loopback registers its prefix the way ndnd's
// clients do on every transport but unix (/localhop/nfd/rib/register), and
// a consumer in the process reaches it.
func TestTCPClientRegistersThroughLocalhop(t *testing.T) {
	tl, err := testFwd.listenTCP(testAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	// ndnd's stream face exits the process when its connection goes down:
	// the engine is stopped (deferred after the listener's Close, so run
	// first) before anything closes the face.
	prod := engine.NewBasicEngine(stdface.NewStreamFace("tcp4", tl.ln.Addr().String(), false))
	if err := prod.Start(); err != nil {
		t.Fatal(err)
	}
	defer prod.Stop()
	serve(t, prod, 0, mustName(t, "/tcp/localhop"), []byte("registered"))
	cons, _ := newEngine(t)
	got, err := fetch(t, cons, mustName(t, "/tcp/localhop/1"))
	if err != nil || string(got) != "registered" {
		t.Fatalf("fetch through the TCP producer: %q %v", got, err)
	}
}

// WebSocket connections count against the stream bound from accept: ones
// that never finish their handshake cannot hold descriptors past it, and
// each gives its slot back when it closes.
func TestWebSocketHandshakesCountAgainstTheBound(t *testing.T) {
	wl, err := testFwd.listenWebSocket(WebSocketConfig{Enabled: true, Listen: testAddrPort("127.0.0.1:0")})
	if err != nil {
		t.Fatal(err)
	}
	defer wl.Close()
	base := settledStreams()
	saved := testFwd.lim.maxStreams
	testFwd.lim.maxStreams = base + 3
	defer func() { testFwd.lim.maxStreams = saved }()
	before := testFwd.Counters().StreamsRefused
	var conns []net.Conn
	for range 6 {
		c, err := net.Dial("tcp", wl.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	deadline := time.Now().Add(5 * time.Second)
	for testFwd.Counters().StreamsRefused-before < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := testFwd.Counters().StreamsRefused - before; n != 3 {
		t.Errorf("%d half-open connections refused over the bound, want 3", n)
	}
	for _, c := range conns {
		c.Close()
	}
	for testFwd.lim.streams.Load() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := testFwd.lim.streams.Load(); n != base {
		t.Errorf("%d stream slots held after the connections closed, want %d", n, base)
	}
}

// settledStreams returns the number of stream connections once it holds
// still: connections closed just before (by this test or an earlier one)
// give their slots back asynchronously.
func settledStreams() int64 {
	n := testFwd.lim.streams.Load()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		m := testFwd.lim.streams.Load()
		if m == n {
			break
		}
		n = m
	}
	return n
}
