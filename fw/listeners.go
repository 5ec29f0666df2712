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
	"github.com/named-data/ndnd/fw/face"
	"github.com/named-data/ndnd/fw/face/impl"
	"github.com/named-data/ndnd/std/ndn/mgmt_2022"
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
		l, err := listenUnix(f.cfg.Unix.Path, f.cfg.Unix.Mode)
		if err != nil {
			return err
		}
		add(l)
		f.log.Info("listening", "face", "unix", "path", f.cfg.Unix.Path, "mode", fmt.Sprintf("%#o", f.cfg.Unix.Mode))
	}
	if f.cfg.UDP.Enabled {
		for _, a := range f.cfg.UDP.Listen {
			l, err := listenUDP(a)
			if err != nil {
				return err
			}
			add(l)
			f.log.Info("listening", "face", "udp", "addr", a)
		}
	}
	if f.cfg.TCP.Enabled {
		for _, a := range f.cfg.TCP.Listen {
			l, err := listenTCP(a)
			if err != nil {
				return err
			}
			add(l)
			f.log.Info("listening", "face", "tcp", "addr", a)
		}
	}
	if f.cfg.WebSocket.Enabled {
		l, err := listenWebSocket(f.cfg.WebSocket)
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
func listenUnix(path string, mode os.FileMode) (*streamListener, error) {
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
	uri := defn.MakeUnixFaceURI(path)
	return serveStream(ln, func(conn net.Conn, n int) error {
		t, err := face.MakeUnixStreamTransport(defn.MakeFDFaceURI(n), uri, conn)
		if err != nil {
			return err
		}
		opts := face.MakeNDNLPLinkServiceOptions()
		opts.IsFragmentationEnabled = false // reliable stream
		face.MakeNDNLPLinkService(t, opts).Run(nil)
		return nil
	}), nil
}

// family returns the network name for a, e.g. "udp4" or "udp6".
func family(proto string, a netip.AddrPort) string {
	if a.Addr().Is6() && !a.Addr().Is4In6() {
		return proto + "6"
	}
	return proto + "4"
}

// udpListener receives datagrams on one address and creates an on-demand
// face for each new remote endpoint.
type udpListener struct {
	conn net.PacketConn
	uri  *defn.URI
	wg   sync.WaitGroup
}

func listenUDP(a netip.AddrPort) (*udpListener, error) {
	lc := net.ListenConfig{Control: impl.SyscallReuseAddr}
	conn, err := lc.ListenPacket(context.Background(), family("udp", a), a.String())
	if err != nil {
		return nil, fmt.Errorf("fw: udp listener: %w", err)
	}
	l := &udpListener{conn: conn, uri: addrURI("udp", a)}
	l.wg.Add(1)
	go l.run()
	return l, nil
}

func (l *udpListener) run() {
	defer l.wg.Done()
	buf := make([]byte, defn.MaxNDNPacketSize)
	for {
		n, from, err := l.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if isTemporary(err) {
				time.Sleep(10 * time.Millisecond) // back off while out of descriptors
				continue
			}
			return
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		remote := addrURI("udp", ua.AddrPort())
		if remote == nil || !remote.IsCanonical() {
			continue
		}
		// A datagram for an existing face arrived on the listener before the
		// face's connected socket took over: drop it, as ndnd does.
		if face.FaceTable.GetByURI(remote) != nil {
			continue
		}
		t, err := face.MakeUnicastUDPTransport(remote, l.uri, mgmt_2022.PersistencyOnDemand)
		if err != nil {
			continue
		}
		// Run copies nothing: hand it its own copy of the first frame.
		first := append([]byte(nil), buf[:n]...)
		face.MakeNDNLPLinkService(t, face.MakeNDNLPLinkServiceOptions()).Run(first)
	}
}

func (l *udpListener) Close() error {
	err := l.conn.Close()
	l.wg.Wait()
	return err
}

// listenTCP binds a TCP listener; each connection becomes a persistent face.
func listenTCP(a netip.AddrPort) (*streamListener, error) {
	lc := net.ListenConfig{Control: impl.SyscallReuseAddr}
	ln, err := lc.Listen(context.Background(), family("tcp", a), a.String())
	if err != nil {
		return nil, fmt.Errorf("fw: tcp listener: %w", err)
	}
	uri := addrURI("tcp", a)
	return serveStream(ln, func(conn net.Conn, _ int) error {
		t, err := face.AcceptUnicastTCPTransport(conn, uri, mgmt_2022.PersistencyPersistent)
		if err != nil {
			return err
		}
		opts := face.MakeNDNLPLinkServiceOptions()
		opts.IsFragmentationEnabled = false // reliable stream
		face.MakeNDNLPLinkService(t, opts).Run(nil)
		return nil
	}), nil
}

// wsListener accepts WebSocket connections (browsers, NDNts) as faces.
type wsListener struct {
	srv  *http.Server
	done chan struct{}
}

func listenWebSocket(c WebSocketConfig) (*wsListener, error) {
	ln, err := net.Listen("tcp", c.Listen.String())
	if err != nil {
		return nil, fmt.Errorf("fw: websocket listener: %w", err)
	}
	scheme := "ws"
	if c.TLSCert != "" {
		scheme = "wss"
	}
	local := defn.DecodeURIString(fmt.Sprintf("%s://%s", scheme, ln.Addr()))
	up := websocket.Upgrader{
		CheckOrigin:     func(*http.Request) bool { return true },
		ReadBufferSize:  defn.MaxNDNPacketSize,
		WriteBufferSize: defn.MaxNDNPacketSize,
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, err := up.Upgrade(w, r, nil)
			if err != nil {
				return // Upgrade has answered the client
			}
			opts := face.MakeNDNLPLinkServiceOptions()
			opts.IsFragmentationEnabled = false
			face.MakeNDNLPLinkService(face.NewWebSocketTransport(local, conn), opts).Run(nil)
		}),
	}
	l := &wsListener{srv: srv, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		if c.TLSCert != "" {
			_ = srv.ServeTLS(ln, c.TLSCert, c.TLSKey)
		} else {
			_ = srv.Serve(ln)
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

// openMulticast creates one multicast face per IPv4 address of each up,
// non-loopback interface (or of the configured ones). Configured interfaces
// that are missing or down are an error; with none configured, a machine
// with no usable interface simply gets no multicast face.
func (f *Forwarder) openMulticast() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("fw: multicast: %w", err)
	}
	want := map[string]bool{}
	for _, n := range f.cfg.Multicast.Interfaces {
		want[n] = false
	}
	for _, ifc := range ifaces {
		if len(want) > 0 {
			if _, ok := want[ifc.Name]; !ok {
				continue
			}
			want[ifc.Name] = true
		}
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || ifc.Flags&net.FlagMulticast == 0 {
			if len(want) > 0 {
				return fmt.Errorf("fw: multicast: interface %s is down, loopback or not multicast-capable", ifc.Name)
			}
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			return fmt.Errorf("fw: multicast: interface %s: %w", ifc.Name, err)
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil || ipn.IP.IsLoopback() {
				continue
			}
			ip, _ := netip.AddrFromSlice(ipn.IP.To4())
			uri := addrURI("udp", netip.AddrPortFrom(ip, f.cfg.Multicast.Group.Port()))
			t, err := face.MakeMulticastUDPTransport(uri)
			if err != nil {
				return fmt.Errorf("fw: multicast on %s (%s): %w", ifc.Name, ip, err)
			}
			ls := face.MakeNDNLPLinkService(t, face.MakeNDNLPLinkServiceOptions())
			ls.Run(nil)
			f.mu.Lock()
			f.netFaces = append(f.netFaces, ls.FaceID())
			f.mu.Unlock()
			f.log.Info("multicast face", "iface", ifc.Name, "addr", ip, "group", f.cfg.Multicast.Group, "face", ls.FaceID())
		}
	}
	for n, seen := range want {
		if !seen {
			return fmt.Errorf("fw: multicast: no interface named %s", n)
		}
	}
	return nil
}

func isTemporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EINTR)
}
