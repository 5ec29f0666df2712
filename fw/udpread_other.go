//go:build !linux

package fw

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// readUDP reads c until it is closed, one datagram at a time, handing each
// and its sender to handle, which must not keep dg.
func readUDP(c *net.UDPConn, handle func(dg []byte, from netip.AddrPort, now time.Time)) {
	// One byte more than a packet can be, to tell an oversized datagram.
	buf := make([]byte, link.MaxPacketSize+1)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if isTemporary(err) {
				time.Sleep(10 * time.Millisecond)
			}
			continue // ICMP errors, and the like
		}
		handle(buf[:n], unmap(from), time.Now())
	}
}
