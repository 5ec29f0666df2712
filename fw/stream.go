package fw

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
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
	Close() error
}

// byteStream is a frameConn over a net.Conn.
type byteStream struct {
	c  net.Conn
	sr *link.StreamReader
	wb net.Buffers
}

func newByteStream(c net.Conn) *byteStream {
	return &byteStream{c: c, sr: link.NewStreamReader(c, link.MaxPacketSize)}
}

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

// streamSender queues a face's packets for its writer goroutine: a
// forwarding thread never waits on a slow reader. A full queue drops.
type streamSender struct {
	q    chan queued
	stop chan struct{}
	once sync.Once
}

func (s *streamSender) send(f *netFace, pkt *defn.Pkt, hdr *link.Header) bool {
	select {
	case s.q <- queued{pkt, *hdr}:
		return true
	default:
		return false
	}
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
	out := &streamSender{q: make(chan queued, fwd.cfg.FaceQueueSize), stop: make(chan struct{})}
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
	writeLoop(f, c, out, stop)
	c.Close()
	<-readDone
}

// writeLoop encodes queued packets and writes them, as many as are waiting
// in one write.
func writeLoop(f *netFace, c frameConn, out *streamSender, stop <-chan struct{}) {
	var (
		bufs   [][]byte // encoding space, one per frame of a batch
		frames [][]byte
	)
	const batch = 64
	for {
		var first queued
		select {
		case <-out.stop:
			return
		case <-stop:
			return
		case first = <-out.q:
		}
		frames = frames[:0]
		n := 0
		add := func(q queued) {
			if len(bufs) <= n {
				bufs = append(bufs, nil)
			}
			raw := rawOf(q.pkt)
			var frame []byte
			var err error
			bufs[n], err = link.Encode(bufs[n], raw, &q.hdr, link.MaxPacketSize, nil, func(b []byte) error {
				frame = b
				return nil
			})
			if err != nil {
				// The header does not fit beside a packet of the maximum
				// size: send the packet alone; its reply is matched by name.
				frame = raw
			}
			frames = append(frames, frame)
			f.ctr.outBytes.Add(uint64(len(frame)))
			n++
		}
		add(first)
	more:
		for n < batch {
			select {
			case q := <-out.q:
				add(q)
			default:
				break more
			}
		}
		if err := c.write(frames); err != nil {
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
