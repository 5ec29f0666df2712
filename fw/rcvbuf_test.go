package fw

import (
	"net"
	"os"
	"testing"
)

// A UDP socket the node reads gets the node's receive buffer: all of it as
// root (past net.core.rmem_max), else at least what the kernel had.
func TestUDPReceiveBufferIsGrown(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	before := setReceiveBuffer(c, 0) // the kernel's floor: what "asking for nothing" leaves
	got := growReceiveBuffer(c)
	switch {
	case os.Geteuid() == 0 && got < udpReceiveBuffer:
		t.Errorf("as root: receive buffer %d bytes, want at least %d", got, udpReceiveBuffer)
	case got < before:
		t.Errorf("receive buffer %d bytes, below the %d it had", got, before)
	}
}
