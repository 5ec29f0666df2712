package e2e

import (
	"strings"
	"testing"
	"time"
)

// An external NDN client, ndnd's own CLI, reaches the node through its unix
// socket: management answers, the group prefix has the multicast strategy,
// and an Interest/Data exchange with a producer attached to the node works.
func TestNdndCLIThroughUnixSocket(t *testing.T) {
	n := startNode(t, "", localOnly+`
[node]
name = "/e2e/node"
`)

	out, err := ndnd(t, n.sock, 10*time.Second, "fw", "strategy-list")
	if err != nil {
		t.Fatalf("strategy-list: %v\n%s", err, out)
	}
	if !strings.Contains(out, "prefix=/ndn/svs strategy=/localhost/nfd/strategy/multicast/v=1") {
		t.Errorf("strategy-list lacks multicast on /ndn/svs:\n%s", out)
	}

	out, err = ndnd(t, n.sock, 10*time.Second, "fw", "face-list")
	if err != nil {
		t.Fatalf("face-list: %v\n%s", err, out)
	}
	if !strings.Contains(out, "local=unix://"+n.sock) {
		t.Errorf("face-list does not show the CLI's own unix face:\n%s", out)
	}

	// The producer inside the node: its built-in ping responder.
	out = pingUntil(t, n.sock, "/e2e/node", 10*time.Second)
	if !strings.Contains(out, "content from /e2e/node") {
		t.Errorf("ping output:\n%s", out)
	}

	// A producer that registers its prefix through the node's management.
	startNdnd(t, n.sock, "pingserver", "/e2e/cli")
	out = pingUntil(t, n.sock, "/e2e/cli", 10*time.Second)
	if !strings.Contains(out, "0% lost") && !strings.Contains(out, "received") {
		t.Errorf("ping output:\n%s", out)
	}
	if !n.alive() {
		t.Fatal("node died")
	}
}
