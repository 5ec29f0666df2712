package client

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// fakeNode is a node on a unix socket that speaks frames: it answers NFD
// rib commands (status 200 unless told otherwise), records them, and
// forwards every other Interest to every other connection (a multicast
// forwarder, enough for sync). It can be stopped and started again at the
// same path, and made to send arbitrary bytes.
type fakeNode struct {
	t       *testing.T
	network string // unix or tcp
	path    string // socket path, or host:port

	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]bool
	status   uint64 // answer to rib commands; 0 means 200
	silent   bool   // answer no command
	drop     int    // answer none of the next drop commands
	commands []string
	accepted chan net.Conn
	wg       sync.WaitGroup
}

func newFakeNode(t *testing.T) *fakeNode {
	t.Helper()
	dir, err := os.MkdirTemp("", "cl") // short: sun_path is 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	n := &fakeNode{t: t, network: "unix", path: filepath.Join(dir, "nfd.sock"), conns: map[net.Conn]bool{}, accepted: make(chan net.Conn, 64)}
	t.Cleanup(func() { n.stop(); os.RemoveAll(dir) })
	n.start()
	return n
}

// newFakeTCPNode is a fake node on a TCP port of the loopback address; it
// comes back on the same port.
func newFakeTCPNode(t *testing.T) *fakeNode {
	t.Helper()
	n := &fakeNode{t: t, network: "tcp", path: "127.0.0.1:0", conns: map[net.Conn]bool{}, accepted: make(chan net.Conn, 64)}
	t.Cleanup(n.stop)
	n.start()
	n.path = n.ln.Addr().String()
	return n
}

func (n *fakeNode) uri() string { return n.network + "://" + n.path }

func (n *fakeNode) start() {
	n.t.Helper()
	ln, err := net.Listen(n.network, n.path)
	if err != nil {
		n.t.Fatal(err)
	}
	n.mu.Lock()
	n.ln = ln
	n.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.mu.Lock()
			if n.ln != ln { // stopped meanwhile
				n.mu.Unlock()
				_ = c.Close()
				return
			}
			n.conns[c] = true
			n.mu.Unlock()
			select {
			case n.accepted <- c:
			default:
			}
			n.wg.Add(1)
			go n.serve(c)
		}
	}()
}

// stop closes the listener and every connection, as a killed node would.
func (n *fakeNode) stop() {
	n.mu.Lock()
	ln := n.ln
	n.ln = nil
	for c := range n.conns {
		_ = c.Close()
	}
	n.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	n.wg.Wait()
	if n.network == "unix" {
		_ = os.Remove(n.path)
	}
}

func (n *fakeNode) serve(c net.Conn) {
	defer n.wg.Done()
	defer func() {
		n.mu.Lock()
		delete(n.conns, c)
		n.mu.Unlock()
		_ = c.Close()
	}()
	r := link.NewStreamReader(c, 0)
	for {
		frame, err := r.Next()
		if err != nil {
			return
		}
		pkt, _, err := spec.ReadPacket(enc.NewBufferView(frame))
		if err != nil || pkt.Interest == nil {
			continue
		}
		name := pkt.Interest.NameV
		if len(name) >= 5 && (name[0].Equal(enc.LOCALHOST) || name[0].Equal(enc.LOCALHOP)) && name[2].String() == "rib" {
			n.command(c, pkt.Interest.NameV)
			continue
		}
		cp := append([]byte(nil), frame...)
		n.mu.Lock()
		for o := range n.conns {
			if o != c {
				_, _ = o.Write(cp)
			}
		}
		n.mu.Unlock()
	}
}

func (n *fakeNode) command(c net.Conn, name enc.Name) {
	params, err := mgmt.ParseControlParameters(enc.NewBufferView(name[4].Val), true)
	if err != nil || params.Val == nil {
		return
	}
	n.mu.Lock()
	cmd := name[0].String() + " " + name[3].String() + " " + params.Val.Name.String()
	if flags, ok := params.Val.Flags.Get(); ok {
		cmd += fmt.Sprintf(" flags=%d", flags)
	}
	n.commands = append(n.commands, cmd)
	status, silent := n.status, n.silent || n.drop > 0
	n.drop = max(n.drop-1, 0)
	n.mu.Unlock()
	if silent {
		return
	}
	if status == 0 {
		status = 200
	}
	resp := &mgmt.ControlResponse{Val: &mgmt.ControlResponseVal{StatusCode: status, StatusText: "fake", Params: params.Val}}
	data, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, resp.Encode(), sig.NewSha256Signer())
	if err != nil {
		n.t.Error(err)
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	_, _ = c.Write(data.Wire.Join())
}

// took returns the commands received so far and forgets them.
func (n *fakeNode) took() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.commands
	n.commands = nil
	return out
}

func (n *fakeNode) set(status uint64, silent bool) {
	n.mu.Lock()
	n.status, n.silent = status, silent
	n.mu.Unlock()
}

// dropNext makes the node leave the next k commands unanswered, as a node
// too busy to answer in time, or a command lost in a full queue.
func (n *fakeNode) dropNext(k int) {
	n.mu.Lock()
	n.drop = k
	n.mu.Unlock()
}

// sendAll writes b to every connection.
func (n *fakeNode) sendAll(b []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.conns) == 0 {
		return errors.New("no connection")
	}
	for c := range n.conns {
		if _, err := c.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// netListenNoRead listens at path and accepts connections it never reads
// from, until the returned function is called.
func netListenNoRead(path string) (stop func(), err error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	return func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		for _, c := range held {
			_ = c.Close()
		}
		mu.Unlock()
		_ = os.Remove(path)
	}, nil
}
