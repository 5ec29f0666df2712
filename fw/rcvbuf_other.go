//go:build !linux

package fw

import "net"

func setReceiveBuffer(c *net.UDPConn, n int) int {
	if c.SetReadBuffer(n) != nil {
		return 0
	}
	return n
}
