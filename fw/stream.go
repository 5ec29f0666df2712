package fw

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/std/ndn/mgmt_2022"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// frameConn is a connection a stream face reads whole frames from and
// writes frames to: a byte stream split by link.StreamReader (unix, TCP),
// or WebSocket messages, one frame each.
type frameConn interface {
	// next returns the next frame, valid until the following call.
	next() ([]byte, error)
	// write writes frames, in order, as one write where it can.
	write(frames [][]byte) error
	// direct returns the connection as a directWriter, or nil where a
	// forwarding thread may not write to it itself.
	direct() directWriter
	Close() error
}

// byteStream is a frameConn over a net.Conn.
type byteStream struct {
	c  net.Conn
	rc syscall.RawConn // tryWrite's, set by direct where the system has it
	sr *link.StreamReader
	wb net.Buffers
}

func newByteStream(c net.Conn) *byteStream {
	return &byteStream{c: c, sr: link.NewStreamReader(c, link.MaxPacketSize)}
}

// next reads through net.Conn, which reads until the socket would block
// before it waits. readUDP waits after a read that found its socket dry,
// saving the read that would find it dry again; a stream must not: a read
// that takes less than it asked for does not show an end of stream that
// came with the bytes it took (one readiness mark of the poller covers
// both), and a reader that waited then would wait for ever on a peer that
// wrote, shut its side and went quiet, its face never closed.
func (s *byteStream) next() ([]byte, error) { return s.sr.Next() }

func (s *byteStream) write(frames [][]byte) error {
	s.wb = append(s.wb[:0], frames...)
	_, err := s.wb.WriteTo(s.c) // one writev
	return err
}

func (s *byteStream) Close() error { return s.c.Close() }

// queued is a packet waiting for a stream face's writer.
type queued struct {
	pkt *defn.Pkt
	hdr link.Header
}

// streamSender hands a face's packets to its writer goroutine, so that a
// forwarding thread never waits on a slow reader (a full queue drops), or,
// when the face is not busy, writes a packet itself (sendNow).
type streamSender struct {
	q    chan queued
	stop chan struct{}
	once sync.Once

	wake   chan struct{} // the writer has pending bytes to write (cap 1)
	last   atomic.Int64  // when the face last sent, in UnixNano
	unsent atomic.Int64  // packets queued and not yet written: sendNow waits its turn behind them

	// mu is held by whoever writes to the connection: the writer goroutine
	// for a batch, or a forwarding thread in sendNow. It guards what
	// follows.
	mu      sync.Mutex
	dw      directWriter // the connection up, if it can be written without waiting; nil otherwise
	pending []byte       // the rest of a frame sendNow could not write whole
	enc     []byte       // sendNow's encoding space
}

// directWriter is a connection a forwarding thread may write to itself:
// tryWrite makes one write that never waits, and returns how much of b it
// wrote (0 and no error when the socket's buffer is full).
type directWriter interface {
	tryWrite(b []byte) (int, error)
}

// directGap is how long a face must have been quiet for a forwarding thread
// to write its packet itself. A packet at a time (a round trip at a time,
// a member's publications) then skips the writer goroutine's wake-up;
// packets closer together go through the queue, where the writer joins
// everything waiting into one write (writev), which costs less than a
// write each.
const directGap = 20 * time.Microsecond

func (s *streamSender) send(f *netFace, pkt *defn.Pkt, hdr *link.Header) bool {
	now := time.Now().UnixNano()
	if now-s.last.Swap(now) > int64(directGap) && s.mu.TryLock() {
		ok, done := s.sendNow(f, pkt, hdr)
		s.mu.Unlock()
		if done {
			return ok
		}
	}
	s.unsent.Add(1)
	select {
	case s.q <- queued{pkt, *hdr}:
		return true
	default:
		s.unsent.Add(-1)
		return false
	}
}

// sendNow writes a packet at once, s.mu held; done is false when it cannot
// (no connection that allows it, or bytes still pending), and the packet
// is to be queued. What one write leaves of the frame waits in pending for
// the writer, which writes it before anything else.
func (s *streamSender) sendNow(f *netFace, pkt *defn.Pkt, hdr *link.Header) (ok, done bool) {
	if s.dw == nil || len(s.pending) > 0 || s.unsent.Load() > 0 {
		return false, false // not now, or not before what waits
	}
	var frame []byte
	s.enc, frame = encodeFrame(s.enc, pkt, hdr)
	n, err := s.dw.tryWrite(frame)
	if err != nil {
		// The connection failed; its reader or writer ends it.
		f.fwd.log.Debug("stream write failed", "face", f.FaceID(), "err", err)
		return false, true
	}
	f.ctr.outBytes.Add(uint64(len(frame)))
	if n < len(frame) {
		s.pending = append(s.pending[:0], frame[n:]...)
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return true, true
}

// encodeFrame encodes a packet into buf as a stream frame: an LpPacket
// when it has header fields, the packet alone otherwise or when the header
// does not fit beside a packet of the maximum size (its reply is then
// matched by name).
func encodeFrame(buf []byte, pkt *defn.Pkt, hdr *link.Header) ([]byte, []byte) {
	raw := rawOf(pkt)
	var frame []byte
	buf, err := link.Encode(buf, raw, hdr, link.MaxPacketSize, nil, func(b []byte) error {
		frame = b
		return nil
	})
	if err != nil {
		frame = raw
	}
	return buf, frame
}

func (s *streamSender) close() { s.once.Do(func() { close(s.stop) }) }

// streamFace runs a face over a connection: a receive goroutine and a
// writer goroutine. When either ends, for any reason (the peer left, a
// frame the stream cannot be re-synchronised after, a write error), the
// connection ends; the face closes with it, unless redial is set (a
// permanent face to a neighbour): then the face stays, down, and redial is
// called with backoff until it connects again or the face is closed.
func (fwd *Forwarder) streamFace(c frameConn, kind string, local, remote *defn.URI, scope defn.Scope,
	p mgmt_2022.Persistency, done func(), redial func() (frameConn, error)) *netFace {
	out := &streamSender{q: make(chan queued, fwd.cfg.FaceQueueSize), stop: make(chan struct{}), wake: make(chan struct{}, 1)}
	f := &netFace{
		kind:        kind,
		local:       local,
		remote:      remote,
		scope:       scope,
		linkType:    defn.PointToPoint,
		out:         out,
		consumerCtl: scope == defn.Local,
	}
	f.persistency.Store(uint64(p))
	var (
		mu  sync.Mutex
		cur = c
	)
	exited := make(chan struct{})
	f.onClose = func() {
		mu.Lock()
		if cur != nil {
			cur.Close()
		}
		mu.Unlock()
		go func() { // the supervisor may be the one closing
			<-exited
			if done != nil {
				done()
			}
		}()
	}
	fwd.addNetFace(f)
	go func() {
		defer close(exited)
		defer f.Close()
		backoff := time.Second
		for {
			f.connected.Store(true)
			runConn(f, c, out)
			f.connected.Store(false)
			if redial == nil {
				return
			}
			for {
				select {
				case <-out.stop:
					return
				case <-time.After(backoff):
				}
				nc, err := redial()
				if err == nil {
					mu.Lock()
					cur, c = nc, nc
					mu.Unlock()
					fwd.log.Info("neighbour reconnected", "face", f.FaceID(), "remote", remote)
					backoff = time.Second
					break
				}
				fwd.log.Debug("neighbour unreachable", "face", f.FaceID(), "remote", remote, "err", err)
				backoff = min(2*backoff, 30*time.Second)
			}
		}
	}()
	return f
}

// runConn runs one connection of a stream face until it ends.
func runConn(f *netFace, c frameConn, out *streamSender) {
	stop := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(stop)
		for {
			frame, err := c.next()
			if err != nil {
				if errors.Is(err, link.ErrTooLarge) || errors.Is(err, link.ErrMalformed) ||
					errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, websocket.ErrReadLimit) {
					f.malformed(err) // the peer's fault; a reset or a close is not
				}
				return
			}
			if len(frame) == 0 || !knownType(frame[0]) {
				f.malformed(errors.New("unknown frame type"))
				continue
			}
			f.receive(frame, netip.AddrPort{}, time.Now())
		}
	}()
	out.mu.Lock()
	out.dw = c.direct()
	out.mu.Unlock()
	writeLoop(f, c, out, stop)
	out.mu.Lock()
	out.dw, out.pending = nil, out.pending[:0]
	out.mu.Unlock()
	c.Close()
	<-readDone
}

// writeLoop encodes queued packets and writes them, as many as are waiting
// in one write, after what a forwarding thread's write left (pending).
func writeLoop(f *netFace, c frameConn, out *streamSender, stop <-chan struct{}) {
	var (
		bufs   [][]byte // encoding space, one per frame of a batch
		frames [][]byte
	)
	const batch = 64
	for {
		var first queued
		queuedOne := false
		select {
		case <-out.stop:
			return
		case <-stop:
			return
		case first = <-out.q:
			queuedOne = true
		case <-out.wake:
		}
		out.mu.Lock()
		frames = frames[:0]
		if len(out.pending) > 0 {
			frames = append(frames, out.pending)
		}
		n := 0
		add := func(q queued) {
			if len(bufs) <= n {
				bufs = append(bufs, nil)
			}
			var frame []byte
			bufs[n], frame = encodeFrame(bufs[n], q.pkt, &q.hdr)
			frames = append(frames, frame)
			f.ctr.outBytes.Add(uint64(len(frame)))
			n++
		}
		if queuedOne {
			add(first)
		}
	more:
		for n < batch {
			select {
			case q := <-out.q:
				add(q)
			default:
				break more
			}
		}
		var err error
		if len(frames) > 0 {
			err = c.write(frames)
			out.pending = out.pending[:0]
		}
		out.unsent.Add(-int64(n)) // written, or gone with the connection
		out.mu.Unlock()
		if err != nil {
			f.fwd.log.Debug("stream write failed", "face", f.FaceID(), "err", err)
			return
		}
	}
}

// acceptStreams accepts connections until ln is closed and makes each a
// face, within the forwarder's bound on stream faces.
func (fwd *Forwarder) acceptStreams(ln net.Listener, newFace func(c net.Conn, n int)) *streamListener {
	return serveStream(ln, func(conn net.Conn, n int) error {
		if !fwd.lim.takeStream() {
			fwd.lim.streamsRefused.Add(1)
			fwd.log.Debug("stream connection refused: at the bound", "bound", fwd.lim.maxStreams)
			return errors.New("at the bound")
		}
		newFace(conn, n)
		return nil
	})
}

// isLoopback reports whether a connection's peer is on this machine.
func isLoopback(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}

// tcpScope is NFD's rule: a TCP face to a loopback address is local.
func tcpScope(a net.Addr) defn.Scope {
	if isLoopback(a) {
		return defn.Local
	}
	return defn.NonLocal
}
