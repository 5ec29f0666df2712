package fw

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/std/ndn/mgmt_2022"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// openListeners opens every configured listener and multicast face. Binding
// happens here, synchronously, so that an address that cannot be bound is an
// error of Start; ndnd's own listeners bind in their goroutine and exit the
// process on failure.
func (f *Forwarder) openListeners() error {
	add := func(c interface{ Close() error }) {
		f.mu.Lock()
		f.listeners = append(f.listeners, c)
		f.mu.Unlock()
	}
	if f.cfg.Unix.Enabled {
		l, err := f.listenUnix(f.cfg.Unix.Path, f.cfg.Unix.Mode)
		if err != nil {
			return err
		}
		add(l)
		f.log.Info("listening", "face", "unix", "path", f.cfg.Unix.Path, "mode", fmt.Sprintf("%#o", f.cfg.Unix.Mode))
	}
	if f.cfg.UDP.Enabled {
		for _, a := range f.cfg.UDP.Listen {
			l, err := f.listenUDP(a)
			if err != nil {
				return err
			}
			add(l)
			f.mu.Lock()
			f.udpSockets = append(f.udpSockets, l)
			f.mu.Unlock()
			f.log.Info("listening", "face", "udp", "addr", a)
		}
	}
	if f.cfg.TCP.Enabled {
		for _, a := range f.cfg.TCP.Listen {
			l, err := f.listenTCP(a)
			if err != nil {
				return err
			}
			add(l)
			f.log.Info("listening", "face", "tcp", "addr", a)
		}
	}
	if f.cfg.WebSocket.Enabled {
		l, err := f.listenWebSocket(f.cfg.WebSocket)
		if err != nil {
			return err
		}
		add(l)
		f.log.Info("listening", "face", "websocket", "addr", f.cfg.WebSocket.Listen, "tls", f.cfg.WebSocket.TLSCert != "")
	}
	if f.cfg.Multicast.Enabled {
		if err := f.openMulticast(); err != nil {
			return err
		}
	}
	return nil
}

// addrURI returns ndnd's canonical URI for a socket address.
func addrURI(scheme string, a netip.AddrPort) *defn.URI {
	u := defn.DecodeURIString(fmt.Sprintf("%s://%s", scheme, a))
	u.Canonize()
	return u
}

// streamListener accepts connections until closed and turns each into a
// face with newFace (n counts connections from 0).
type streamListener struct {
	ln net.Listener
	wg sync.WaitGroup
}

func serveStream(ln net.Listener, newFace func(conn net.Conn, n int) error) *streamListener {
	l := &streamListener{ln: ln}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for n := 0; ; n++ {
			conn, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) || !isTemporary(err) {
					return
				}
				time.Sleep(10 * time.Millisecond) // back off while out of descriptors
				continue
			}
			if err := newFace(conn, n); err != nil {
				conn.Close()
			}
		}
	}()
	return l
}

// Close stops accepting (a unix listener also removes its socket file) and
// waits for the accept loop to end.
func (l *streamListener) Close() error {
	err := l.ln.Close()
	l.wg.Wait()
	return err
}

// listenUnix binds the socket for local NDN applications. A stale socket
// file (nothing answers on it) is replaced; a live one, or a file that is
// not a socket, is an error.
func (f *Forwarder) listenUnix(path string, mode os.FileMode) (*streamListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("fw: unix socket %s: %w", path, err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("fw: unix socket %s: file exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("fw: unix socket %s: in use by another process", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("fw: unix socket %s: removing stale socket: %w", path, err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("fw: unix socket: %w", err)
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("fw: unix socket %s: %w", path, err)
	}
	// The group is set before the first accept: until then the socket
	// keeps the process's group, which lets in no one new.
	if f.cfg.Unix.ChangeGroup {
		if err := os.Chown(path, -1, f.cfg.Unix.Group); err != nil {
			ln.Close()
			return nil, fmt.Errorf("fw: unix socket %s: setting group %d: %w", path, f.cfg.Unix.Group, err)
		}
	}
	local := defn.MakeUnixFaceURI(path)
	return f.acceptStreams(ln, func(conn net.Conn, n int) {
		f.streamFace(newByteStream(conn), "unix", local, defn.MakeFDFaceURI(n), defn.Local,
			mgmt_2022.PersistencyOnDemand, f.lim.giveStream, nil)
	}), nil
}

// family returns the network name for a, e.g. "udp4" or "udp6".
func family(proto string, a netip.AddrPort) string {
	if a.Addr().Is6() && !a.Addr().Is4In6() {
		return proto + "6"
	}
	return proto + "4"
}

// listenTCP binds a TCP listener; each connection becomes a face, local
// when its peer is on this machine (NFD's rule). The port is not shared
// (no SO_REUSEPORT), so a second node on the same address fails to start.
func (f *Forwarder) listenTCP(a netip.AddrPort) (*streamListener, error) {
	ln, err := net.Listen(family("tcp", a), a.String())
	if err != nil {
		return nil, fmt.Errorf("fw: tcp listener %s: %w", a, err)
	}
	local := addrURI("tcp", a)
	return f.acceptStreams(ln, func(conn net.Conn, _ int) {
		remote := addrURI("tcp", unmap(conn.RemoteAddr().(*net.TCPAddr).AddrPort()))
		f.streamFace(newByteStream(conn), "tcp", local, remote, tcpScope(conn.RemoteAddr()),
			mgmt_2022.PersistencyOnDemand, f.lim.giveStream, nil)
	}), nil
}

// wsListener accepts WebSocket connections (browsers, NDNts) as faces.
type wsListener struct {
	srv  *http.Server
	addr net.Addr
	done chan struct{}
}

// wsConn is a frameConn over a WebSocket: each binary message is one frame,
// checked whole as a datagram is. Its face's receive goroutine reads and its
// writer goroutine writes: one each, as gorilla/websocket allows.
type wsConn struct {
	c *websocket.Conn
}

func (w *wsConn) next() ([]byte, error) {
	for {
		typ, msg, err := w.c.ReadMessage()
		if err != nil {
			return nil, err
		}
		if typ != websocket.BinaryMessage {
			continue
		}
		if err := link.Datagram(msg, link.MaxPacketSize); err != nil {
			return nil, err
		}
		return msg, nil
	}
}

// direct: gorilla/websocket allows one writer, the face's writer goroutine.
func (w *wsConn) direct() directWriter { return nil }

func (w *wsConn) write(frames [][]byte) error {
	for _, fr := range frames {
		if err := w.c.WriteMessage(websocket.BinaryMessage, fr); err != nil {
			return err
		}
	}
	return nil
}

func (w *wsConn) Close() error { return w.c.Close() }

func (f *Forwarder) listenWebSocket(c WebSocketConfig) (*wsListener, error) {
	ln, err := net.Listen("tcp", c.Listen.String())
	if err != nil {
		return nil, fmt.Errorf("fw: websocket listener %s: %w", c.Listen, err)
	}
	scheme := "ws"
	if c.TLSCert != "" {
		scheme = "wss"
	}
	local := defn.DecodeURIString(fmt.Sprintf("%s://%s", scheme, ln.Addr()))
	up := websocket.Upgrader{
		CheckOrigin:     func(*http.Request) bool { return true },
		ReadBufferSize:  link.MaxPacketSize,
		WriteBufferSize: link.MaxPacketSize,
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    16 << 10,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, err := up.Upgrade(w, r, nil)
			if err != nil {
				return // Upgrade has answered the client
			}
			// A message over a packet ends the connection, before it is read.
			conn.SetReadLimit(link.MaxPacketSize)
			remote := defn.MakeWebSocketClientFaceURI(conn.RemoteAddr())
			// The connection's stream slot was taken at accept
			// (limitListener) and is given back when it closes.
			f.streamFace(&wsConn{c: conn}, "ws", local, remote, tcpScope(conn.RemoteAddr()),
				mgmt_2022.PersistencyOnDemand, nil, nil)
		}),
	}
	l := &wsListener{srv: srv, addr: ln.Addr(), done: make(chan struct{})}
	// Connections count against Limits.StreamFaces from accept, so that
	// handshakes that never finish cannot hold descriptors past the bound.
	lim := &limitListener{Listener: ln, fwd: f}
	go func() {
		defer close(l.done)
		if c.TLSCert != "" {
			_ = srv.ServeTLS(lim, c.TLSCert, c.TLSKey)
		} else {
			_ = srv.Serve(lim)
		}
	}()
	return l, nil
}

func (l *wsListener) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := l.srv.Shutdown(ctx)
	<-l.done
	return err
}

func isTemporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EINTR)
}

// limitListener holds each accepted connection to Limits.StreamFaces from
// accept to close: one over the bound is closed at once and counted.
type limitListener struct {
	net.Listener
	fwd *Forwarder
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.fwd.lim.takeStream() {
			l.fwd.lim.streamsRefused.Add(1)
			c.Close()
			continue
		}
		return &slotConn{Conn: c, give: l.fwd.lim.giveStream}, nil
	}
}

// slotConn gives its stream slot back once, at its first Close.
type slotConn struct {
	net.Conn
	once sync.Once
	give func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.give)
	return err
}
