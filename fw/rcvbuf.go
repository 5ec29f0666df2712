package fw

import "net"

// udpReceiveBuffer is the receive buffer the node asks for on every UDP
// socket it reads (listeners, each unicast face's own socket, multicast).
// The kernel's default (about 208 KiB, net.core.rmem_default) holds fewer
// than 25 datagrams of 8800 bytes: a few members fetching a large
// publication at once, each with a window of segments in flight, overflowed
// it and the kernel dropped datagrams (UdpRcvbufErrors) on a LAN with no
// loss at all. 4 MiB holds a window of 16 segments for 30 fetchers; the
// kernel charges only what is queued. Without privilege the kernel caps it
// at net.core.rmem_max.
const udpReceiveBuffer = 4 << 20

// growReceiveBuffer raises c's receive buffer to udpReceiveBuffer: past
// net.core.rmem_max when the process may (CAP_NET_ADMIN, as root), else up
// to it. It returns the size the kernel reports, for the log; failing to
// grow the buffer is not an error (the socket works, with the default).
func growReceiveBuffer(c *net.UDPConn) int {
	return setReceiveBuffer(c, udpReceiveBuffer)
}
