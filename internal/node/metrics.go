package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/metrics"
	"github.com/ndnsvs/ndnsvs-node/svs"
)

// Bounds of the metrics listener ([metrics]). Prometheus scrapes with a
// 10 s timeout by default; a scrape of this node takes milliseconds.
const (
	// metricsReadHeaderTimeout bounds a client's request headers: a
	// connection that trickles them (slowloris) is closed.
	metricsReadHeaderTimeout = 5 * time.Second
	// metricsReadTimeout bounds a whole request (GET: no body).
	metricsReadTimeout = 10 * time.Second
	// metricsWriteTimeout bounds writing a response: above the scrape
	// timeout, so that a slow scrape gets its 503 rather than a cut.
	metricsWriteTimeout = 15 * time.Second
	// metricsIdleTimeout closes a kept-alive connection between scrapes
	// that Prometheus did not reuse.
	metricsIdleTimeout = 2 * time.Minute
	// metricsScrapeTimeout bounds gathering the metrics of one scrape.
	metricsScrapeTimeout = 10 * time.Second
	// metricsMaxInFlight scrapes are served at once; more get 503 at once.
	metricsMaxInFlight = 4
	// metricsRate scrapes a second on average, in bursts of up to
	// metricsBurst, are served; more get 503 before anything is gathered,
	// so that a client scraping in a loop does not take the group
	// members' CPU (a scrape of hundreds of faces takes milliseconds).
	// Prometheus scrapes every 15 s by default.
	metricsRate, metricsBurst = 5, 10
	// metricsShutdownTimeout bounds the wait for scrapes in flight when
	// the node stops; then their connections are closed.
	metricsShutdownTimeout = 2 * time.Second
	// metricsMaxHeaderBytes bounds a request's headers.
	metricsMaxHeaderBytes = 16 << 10
)

// nodeMetrics is the node's [metrics] part: the registry its group members
// report to, and the HTTP listener that serves it.
type nodeMetrics struct {
	reg    *metrics.Registry // nil while metrics are off, or before groupObserver
	regErr error             // why reg could not be made
	addr   net.Addr          // the listener's address once listening
	// data holds the groups whose member has a publication layer: only
	// they get the publications series.
	data map[string]bool
}

// registry returns the node's metrics registry, made on first use (the
// group members need their Observer before the listener starts), or nil
// when metrics are off or it could not be made (startMetrics then fails).
func (n *Node) registry() *metrics.Registry {
	m := &n.met
	if !n.cfg.Metrics.Enabled || m.regErr != nil {
		return nil
	}
	if m.reg == nil {
		m.reg, m.regErr = metrics.New(metrics.Options{
			PerMember: n.cfg.Metrics.PerMember,
			Forwarder: n.fwd,
			Logger:    n.log,
		})
	}
	return m.reg
}

// groupObserver is the svs.Observer of the node's member of group prefix:
// it feeds the group's Sync latency histogram and, for a member with a
// publication layer (withData: group[i].cache), its fetch duration and
// delivery latency histograms; with metrics off it observes nothing.
func (n *Node) groupObserver(prefix string, withData bool) svs.Observer {
	r := n.registry()
	switch {
	case r == nil:
		return svs.Observer{}
	case withData:
		if n.met.data == nil {
			n.met.data = map[string]bool{}
		}
		n.met.data[prefix] = true
		return r.DataObserver(prefix)
	}
	return r.Observer(prefix)
}

// MetricsAddr is the address the metrics listener listens on (with port 0
// in metrics.listen, the port picked), or nil when it does not run.
func (n *Node) MetricsAddr() net.Addr { return n.met.addr }

// startMetrics starts the metrics listener of [metrics], once the group
// members exist: it listens on metrics.listen at once, so that a bad or
// busy address fails Start with the address and the reason, and serves
// /metrics, /healthz and /readyz under the node's supervisor until the node
// stops. With metrics.enabled false it does nothing.
func (n *Node) startMetrics() error {
	if !n.cfg.Metrics.Enabled {
		return nil
	}
	reg := n.registry()
	if reg == nil {
		return fmt.Errorf("node: metrics: %w", n.met.regErr)
	}
	groups := make([]groupMember, len(n.syncs))
	copy(groups, n.syncs)
	for _, g := range groups {
		reg.AddGroup(g.prefix, g.sync)
		if n.met.data[g.prefix] {
			reg.AddDataGroup(g.prefix, g.sync)
		}
	}
	if n.trust != nil {
		if err := reg.AddTrust(n.trust); err != nil {
			return fmt.Errorf("node: %w", err)
		}
	}
	addr := n.cfg.Metrics.Listen
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("node: metrics.listen %s: %w", addr, err)
	}
	n.met.addr = ln.Addr()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.RateLimit(reg.Handler(metricsMaxInFlight, metricsScrapeTimeout), metricsRate, metricsBurst))
	h := health{fwd: n.fwd, sup: n.sup, groups: groups, want: len(n.cfg.Groups)}
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	n.registerStatus(mux, reg, groups, h) // the status page and /status.json (status.go)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: metricsReadHeaderTimeout,
		ReadTimeout:       metricsReadTimeout,
		WriteTimeout:      metricsWriteTimeout,
		IdleTimeout:       metricsIdleTimeout,
		MaxHeaderBytes:    metricsMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}
	n.log.Info("metrics listening", "addr", ln.Addr().String(), "per_member", n.cfg.Metrics.PerMember)
	n.sup.Go("metrics listener", func(ctx context.Context) error { return serveMetrics(ctx, srv, ln) })
	return nil
}

// serveMetrics serves srv on ln until ctx ends, then shuts it down: scrapes
// in flight get metricsShutdownTimeout to finish, then their connections
// are closed. It returns ctx's error then, or the error that stopped the
// server before (which fails the node: its metrics are part of it).
func serveMetrics(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics listener %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), metricsShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics listener %s: %w", ln.Addr(), err)
	}
	return ctx.Err()
}
