package e2e

import (
	"strings"
	"testing"
)

// Two nodes on one LAN, with no configuration but a short heartbeat: each
// logs the other as alive, and the survivor logs the other gone when it
// stops, then back when it returns (the [health] table).
func TestNodesLogPeersComingAndGoing(t *testing.T) {
	l := newLAN(t, 2)
	cfg := `
[node]
name = "/health/%s"
[faces.udp]
enabled = true
listen = ["0.0.0.0:6363"]
[faces.multicast]
enabled = true
[health]
interval = "200ms"
expire = 3
`
	a := startNode(t, l.hosts[0], strings.Replace(cfg, "%s", "a", 1))
	b := startNode(t, l.hosts[1], strings.Replace(cfg, "%s", "b", 1))
	waitLog(t, a, "msg=\"peer alive\" group=/ndn/svs peer=/health/b", 0)
	waitLog(t, b, "msg=\"peer alive\" group=/ndn/svs peer=/health/a", 0)

	mark := len(a.logs())
	b.stop()
	waitLog(t, a, "msg=\"peer expired\" group=/ndn/svs peer=/health/b", mark)

	mark = len(a.logs())
	startNode(t, l.hosts[1], strings.Replace(cfg, "%s", "b", 1))
	waitLog(t, a, "peer=/health/b", mark)
	if logs := a.logs()[mark:]; !strings.Contains(logs, "msg=\"peer back\"") && !strings.Contains(logs, "msg=\"peer alive\"") {
		t.Errorf("the returning peer is not logged:\n%s", logs)
	}
}
