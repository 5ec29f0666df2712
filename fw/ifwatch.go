package fw

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Multicast faces follow the interfaces. The set of interfaces is read
// again (rescan) whenever the kernel says a link or an IPv4 address changed
// (a netlink subscription on Linux, ifwatch_linux.go), and every
// ifPollEvery anyway: an interface that comes up after the start (an edge
// device's Wi-Fi, a container's link added by its orchestrator after it
// started, as containerlab wires nodes) gets its face, and one that goes
// down or loses its address loses it, with the routes on it. A rescan
// applies the rules of the start (multicastCapable, an IPv4 address, the
// configured names if any), except that a configured interface that is
// missing or down is waited for instead of refused.

// ifPollEvery is how often the interfaces are read without a kernel event:
// the fallback where netlink is not available, and a bound on a missed
// event.
const ifPollEvery = 30 * time.Second

// ifSettle is how long a rescan waits after the first kernel event, so
// that the burst of events of one change (link up, address added, route
// added) makes one rescan that sees them all.
const ifSettle = 100 * time.Millisecond

// ifWatcher runs the rescans until closed.
type ifWatcher struct {
	fwd     *Forwarder
	kick    chan struct{} // a kernel event (cap 1)
	done    chan struct{}
	closing sync.Once
	wg      sync.WaitGroup
	stop    func() // closes the event source
}

func newIfWatcher(fwd *Forwarder) *ifWatcher {
	w := &ifWatcher{fwd: fwd, kick: make(chan struct{}, 1), done: make(chan struct{})}
	w.stop = watchLinks(w.kick, fwd.log)
	w.wg.Add(1)
	go w.run()
	return w
}

func (w *ifWatcher) run() {
	defer w.wg.Done()
	t := time.NewTicker(ifPollEvery)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		case <-w.kick:
			select {
			case <-w.done:
				return
			case <-time.After(ifSettle):
			}
			select {
			case <-w.kick:
			default:
			}
		}
		w.fwd.rescanMulticast()
	}
}

// Close stops the watcher and its event source; the faces stay (the
// forwarder's Close closes them). Safe to call more than once.
func (w *ifWatcher) Close() error {
	w.closing.Do(func() {
		w.stop()
		close(w.done)
	})
	w.wg.Wait()
	return nil
}

// rescanMulticast opens the multicast faces of interfaces that became
// usable and closes those of interfaces that went away, went down or
// changed their IPv4 address.
func (fwd *Forwarder) rescanMulticast() {
	ifaces, err := net.Interfaces()
	if err != nil {
		fwd.log.Warn("multicast: cannot list interfaces", "err", err)
		return
	}
	named := map[string]bool{}
	for _, n := range fwd.cfg.Multicast.Interfaces {
		named[n] = true
	}
	type usable struct {
		ifi net.Interface
		ip  netip.Addr
	}
	want := map[int]usable{}
	for _, ifi := range ifaces {
		if len(named) > 0 && !named[ifi.Name] || !multicastCapable(ifi) {
			continue
		}
		if ip, ok := ifaceIPv4(ifi); ok {
			want[ifi.Index] = usable{ifi, ip}
		}
	}
	fwd.mu.Lock()
	have := map[int]netip.Addr{}
	for idx, m := range fwd.mcast {
		have[idx] = m.self
	}
	fwd.mu.Unlock()
	for idx, ip := range have {
		switch u, ok := want[idx]; {
		case !ok:
			fwd.dropMcast(idx, "interface gone, down or without an IPv4 address")
		case u.ip != ip:
			fwd.dropMcast(idx, "IPv4 address changed")
		}
	}
	for idx, u := range want {
		if ip, ok := have[idx]; ok && ip == u.ip {
			continue
		}
		if err := fwd.addMcast(u.ifi, u.ip); err != nil {
			fwd.log.Warn("multicast: cannot open a face", "iface", u.ifi.Name, "addr", u.ip, "err", err)
		}
	}
}
