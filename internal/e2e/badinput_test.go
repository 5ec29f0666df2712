package e2e

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

var garbage = [][]byte{
	{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // absurd VAR-NUMBER length
	{0x05, 0x03, 0x07, 0x01},                               // truncated Interest
	{0x64, 0x02, 0x50, 0x00},                               // LpPacket without fragment
	{0x06, 0x00},                                           // empty Data
	{0x05, 0x05, 0x07, 0x03, 0x08, 0x05, 0x41},             // component longer than its name
	bytes.Repeat([]byte{0x42}, 1000),                       // not TLV at all
}

// Garbage frames and an oversized packet on UDP and on the unix socket are
// dropped by the node's own faces with a message (at debug level: a peer's garbage must not flood the
// log), and the node keeps forwarding.
func TestGarbageAndOversizedPacketsAreDropped(t *testing.T) {
	port := freeUDPPort(t)
	n := startNode(t, "", fmt.Sprintf(`
[node]
name = "/e2e/bad"
[log]
level = "debug" # malformed frames are logged at debug only
[faces.udp]
enabled = true
listen = ["127.0.0.1:%d"]
[faces.multicast]
enabled = false
`, port))

	udp, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	for _, g := range garbage {
		if _, err := udp.Write(g); err != nil {
			t.Fatal(err)
		}
	}
	// An oversized datagram: a Data claiming 60,000 bytes, over NDN's 8,800.
	big := append([]byte{0x06, 0xfd, 0xea, 0x60}, make([]byte, 60000)...)
	_, _ = udp.Write(big)

	for _, g := range append(garbage, big) {
		c, err := net.Dial("unix", n.sock)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(g)
		c.Close()
	}

	// Still forwarding: its own ping responder answers through the socket.
	pingUntil(t, n.sock, "/e2e/bad", 10*time.Second)
	if !n.alive() {
		t.Fatal("node died")
	}
	logs := n.logs()
	if !strings.Contains(logs, "malformed datagram dropped") || !strings.Contains(logs, "malformed frame dropped") {
		t.Errorf("no message for the garbage frames in the node's log:\n%s", logs)
	}
}
