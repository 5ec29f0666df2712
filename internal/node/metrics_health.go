package node

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/ndnsvs/ndnsvs-node/svs"
)

// health answers /healthz and /readyz for a node.
type health struct {
	fwd interface {
		Ready() <-chan struct{}
		Done() <-chan struct{}
	}
	sup    *supervisor
	groups []groupMember
	want   int // configured groups
}

// joined reports whether a group member has joined its group: its Run is
// running and has announced the member (which it does once its face is
// open and its prefix registered).
func joined(s interface {
	Stats() svs.Stats
	Done() <-chan struct{}
}) bool {
	select {
	case <-s.Done():
		return false
	default:
	}
	return s.Stats().SentBy[svs.SentAnnounce] > 0
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// problems lists why the node is not ready, or not alive (liveOnly): what
// a liveness probe checks is that the node is not stopping (the forwarder
// stopped, or something the node supervises failed); readiness adds that
// the forwarder is up and every configured group joined.
func (h health) problems(liveOnly bool) []string {
	var out []string
	if closed(h.fwd.Done()) {
		out = append(out, "forwarder stopped")
	}
	if h.sup != nil && closed(h.sup.Failed()) {
		out = append(out, fmt.Sprintf("failed: %v", h.sup.Err()))
	}
	if liveOnly {
		return out
	}
	if !closed(h.fwd.Ready()) {
		out = append(out, "forwarder not started")
	}
	if len(h.groups) != h.want {
		out = append(out, fmt.Sprintf("%d of %d groups started", len(h.groups), h.want))
	}
	for _, g := range h.groups {
		if !joined(g.sync) {
			out = append(out, "group "+g.prefix+" not joined")
		}
	}
	return out
}

// healthz is the liveness probe: 200 "ok" unless the node is stopping.
func (h health) healthz(w http.ResponseWriter, _ *http.Request) {
	h.answer(w, h.problems(true), "ok")
}

// readyz is the readiness probe: 200 "ready" once the forwarder is up and
// every group joined, else 503 with one reason a line.
func (h health) readyz(w http.ResponseWriter, _ *http.Request) {
	h.answer(w, h.problems(false), "ready")
}

func (health) answer(w http.ResponseWriter, problems []string, good string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintln(w, strings.Join(problems, "\n"))
		return
	}
	_, _ = fmt.Fprintln(w, good)
}
