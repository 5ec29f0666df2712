package fw

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn/mgmt_2022"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// streamPair is a connected pair of unix stream sockets.
func streamPair(tb testing.TB) (a, b net.Conn) {
	tb.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		tb.Skipf("no socketpair: %v", err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	a, b = conn(fds[0]), conn(fds[1])
	tb.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// A stream face's packets reach its peer whole and in the order sent,
// whichever way each goes: written by the sender itself when the face was
// quiet (sendNow), through the writer goroutine when not, and, when the
// socket's buffer is full (the peer not reading), split between a write
// that takes part of a frame and the writer that finishes it before
// anything else.
func TestStreamSendKeepsFramesWholeAndInOrder(t *testing.T) {
	ours, peer := streamPair(t)
	rc, err := ours.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096) })
	f := testFwd.streamFace(newByteStream(ours), "unix", defn.MakeFDFaceURI(0), defn.MakeFDFaceURI(1),
		defn.Local, mgmt_2022.PersistencyOnDemand, nil, nil)
	defer f.Close()
	out := f.out.(*streamSender)

	direct := func() bool { // whether the next packet may go the direct way, as far as can be told
		if !out.mu.TryLock() {
			return false // the writer is writing (and may wait for the peer)
		}
		defer out.mu.Unlock()
		return out.dw != nil && out.unsent.Load() == 0 && len(out.pending) == 0
	}
	for deadline := time.Now().Add(5 * time.Second); !direct(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the face's connection not up after 5 s")
		}
	}
	var wires [][]byte
	for i := range 60 {
		name := fmt.Sprintf("/direct/%d/%s", i, strings.Repeat("x", 200+i*37%1800))
		wires = append(wires, interestWire(t, name))
	}
	sentDirect := 0
	for i, w := range wires {
		if i%3 != 2 {
			time.Sleep(2 * directGap) // quiet: the sender may write it itself
		}
		if direct() {
			sentDirect++ // a fair guess: only a race with the writer makes it wrong
		}
		if !out.send(f, &defn.Pkt{Raw: enc.Wire{w}}, &link.Header{}) {
			t.Fatalf("packet %d refused", i)
		}
	}
	if sentDirect == 0 {
		t.Fatal("no packet went the direct way")
	}
	sr := link.NewStreamReader(peer, 0)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i, want := range wires {
		got, err := sr.Next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d is %d bytes, not packet %d's %d", i, len(got), i, len(want))
		}
	}
}
