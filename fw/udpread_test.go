package fw

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// readUDP hands on every datagram, whole, with its sender's address and
// port, from several senders and both families, however many are waiting
// at once (recvmmsg takes a batch on Linux); a datagram over the largest
// packet arrives cut to one byte more than it, so that it is refused.
func TestReadUDPBatches(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			local := "127.0.0.1:0"
			if network == "udp6" {
				local = "[::1]:0"
			}
			c, err := net.ListenPacket(network, local)
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			conn := c.(*net.UDPConn)
			type got struct {
				n    int
				from netip.AddrPort
			}
			var mu sync.Mutex
			var seen []got
			done := make(chan struct{})
			startReader := func() {
				go func() {
					defer close(done)
					readUDP(conn, func(dg []byte, from netip.AddrPort, _ time.Time) {
						mu.Lock()
						seen = append(seen, got{len(dg), from})
						mu.Unlock()
					})
				}()
			}
			sizes := []int{1, 100, 1400, link.MaxPacketSize, link.MaxPacketSize + 200}
			var senders []*net.UDPConn
			want := map[got]int{}
			for range 2 {
				s, err := net.DialUDP(network, nil, conn.LocalAddr().(*net.UDPAddr))
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				senders = append(senders, s)
			}
			count := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(seen)
			}
			// The first round's datagrams wait in the socket before the
			// reader starts: one batch of them all. A round fits the
			// socket's receive buffer; the next waits for it to be read.
			for round := range 4 {
				if round == 1 {
					startReader()
				}
				deadline := time.Now().Add(5 * time.Second)
				for count() < round*len(senders)*len(sizes) && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				for _, s := range senders {
					for _, n := range sizes {
						if _, err := s.Write(make([]byte, n)); err != nil {
							t.Fatal(err)
						}
						from := s.LocalAddr().(*net.UDPAddr).AddrPort()
						want[got{min(n, link.MaxPacketSize+1), netip.AddrPortFrom(from.Addr().Unmap(), from.Port())}]++
					}
				}
			}
			total := 4 * len(senders) * len(sizes)
			deadline := time.Now().Add(5 * time.Second)
			for count() < total && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			conn.Close()
			<-done
			mu.Lock()
			defer mu.Unlock()
			for _, g := range seen {
				want[g]--
			}
			for g, left := range want {
				if left != 0 {
					t.Errorf("%d bytes from %v: %d more than read (want each once)", g.n, g.from, left)
				}
			}
			if len(seen) != total {
				t.Errorf("read %d datagrams, sent %d", len(seen), total)
			}
		})
	}
}

// readUDP never leaves a datagram waiting in the socket while it waits for
// more (it waits without reading again once a read found the socket dry):
// each burst, of every size around a batch's, is read whole before the
// next is sent, and so is a datagram that follows an ICMP error (port
// unreachable, kept by a connected socket) on the reader's socket.
func TestReadUDPLeavesNothingWaiting(t *testing.T) {
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no udp4 loopback: %v", err)
	}
	peerAddr := peer.LocalAddr().(*net.UDPAddr)
	conn, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, peerAddr)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 4*readBatch)
	done := make(chan struct{})
	go func() {
		defer close(done)
		readUDP(conn, func(dg []byte, _ netip.AddrPort, _ time.Time) { got <- len(dg) })
	}()
	receive := func(what string, n int) {
		t.Helper()
		for i := range n {
			select {
			case <-got:
			case <-time.After(2 * time.Second):
				t.Fatalf("%s: datagram %d of %d not read after 2 s", what, i+1, n)
			}
		}
	}
	for round := range 3 {
		for burst := 1; burst <= 2*readBatch+1; burst++ {
			for range burst {
				if _, err := peer.WriteToUDP([]byte{5, 0}, conn.LocalAddr().(*net.UDPAddr)); err != nil {
					t.Fatal(err)
				}
			}
			receive(fmt.Sprintf("round %d, burst of %d", round, burst), burst)
			if round == 2 {
				time.Sleep(time.Duration(burst) * 100 * time.Microsecond) // the reader parked
			}
		}
	}
	// An ICMP error: the peer's port closed, a datagram to it, the port
	// open again; what the peer sends then is still read.
	peer.Close()
	if _, err := conn.Write([]byte{5, 0}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	peer, err = net.ListenUDP("udp4", peerAddr)
	if err != nil {
		t.Skipf("peer's port taken meanwhile: %v", err)
	}
	defer peer.Close()
	for burst := 1; burst <= readBatch+1; burst++ {
		for range burst {
			if _, err := peer.WriteToUDP([]byte{5, 0}, conn.LocalAddr().(*net.UDPAddr)); err != nil {
				t.Fatal(err)
			}
		}
		receive(fmt.Sprintf("after an ICMP error, burst of %d", burst), burst)
	}
	conn.Close()
	<-done
}

// FuzzReadUDP: whatever datagrams arrive, of any size (none, huge) and in
// any number at once, readUDP hands each on once, whole or cut to one byte
// over the largest packet, in order, and keeps reading: a probe sent
// after them always arrives, so the reader neither stopped nor left any
// datagram behind.
func FuzzReadUDP(f *testing.F) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		f.Skipf("no udp4 loopback: %v", err)
	}
	conn := c.(*net.UDPConn)
	got := make(chan []byte, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		readUDP(conn, func(dg []byte, _ netip.AddrPort, _ time.Time) { got <- bytes.Clone(dg) })
	}()
	f.Cleanup(func() { conn.Close(); <-done })
	peer, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { peer.Close() })
	probe := []byte("probe")
	f.Add([]byte{0, 5, 0x05, 0x03, 0x07, 0x01, 0x08}, uint16(0))
	f.Add([]byte{}, uint16(9000))
	f.Add(bytes.Repeat([]byte{0x05}, 40), uint16(3))
	f.Fuzz(func(t *testing.T, in []byte, big uint16) {
		// Datagrams: in cut into pieces whose lengths its bytes give,
		// then one of big bytes (over the largest packet when big is).
		var sent [][]byte
		for len(in) > 0 {
			n := min(int(in[0]), len(in)-1)
			sent, in = append(sent, in[1:1+n]), in[1+n:]
		}
		sent = append(sent, bytes.Repeat([]byte{0x06}, int(big)%(link.MaxPacketSize+600)))
		if len(sent) > 200 {
			sent = sent[:200] // within the socket's receive buffer
		}
		for _, dg := range sent {
			if _, err := peer.Write(dg); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := peer.Write(probe); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			select {
			case dg := <-got:
				if bytes.Equal(dg, probe) && i == len(sent) {
					return
				}
				if i >= len(sent) {
					t.Fatalf("datagram %d of %d: %d bytes more than sent", i, len(sent), len(dg))
				}
				want := sent[i][:min(len(sent[i]), link.MaxPacketSize+1)]
				if !bytes.Equal(dg, want) {
					t.Fatalf("datagram %d: %d bytes, want %d", i, len(dg), len(want))
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("after %d of %d datagrams and the probe: nothing for 2 s", i, len(sent))
			}
		}
	})
}

// A UDP socket can be closed while a flood keeps it full: readUDP must not
// hold it in one RawConn.Read for as long as full batches keep coming
// (net.Conn.Close waits for the read that holds the socket to return),
// or a node under a flood could not stop.
func TestReadUDPLetsCloseInUnderAFlood(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no udp4 loopback: %v", err)
	}
	var stop atomic.Bool
	var flooders sync.WaitGroup
	defer func() { stop.Store(true); flooders.Wait() }()
	for range 3 {
		s, err := net.DialUDP("udp4", nil, c.LocalAddr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		flooders.Add(1)
		go func() {
			defer flooders.Done()
			dg := []byte{0x05, 0x03, 0x07, 0x01, 0x08}
			for !stop.Load() {
				s.Write(dg)
			}
		}()
	}
	// A reader busy with each datagram, as a face is, falls behind the
	// flood: each batch it takes is full.
	var handled atomic.Int64
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		readUDP(c, func([]byte, netip.AddrPort, time.Time) {
			handled.Add(1)
			for t0 := time.Now(); time.Since(t0) < 20*time.Microsecond; {
			}
		})
	}()
	for deadline := time.Now().Add(5 * time.Second); handled.Load() < 1000; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the flood did not reach the reader: %d datagrams in 5 s", handled.Load())
		}
	}
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5 s under a flood")
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("readUDP did not return within 5 s of Close")
	}
}
