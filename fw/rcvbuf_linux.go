package fw

import (
	"net"

	"golang.org/x/sys/unix"
)

func setReceiveBuffer(c *net.UDPConn, n int) int {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	got := 0
	_ = rc.Control(func(fd uintptr) {
		// SO_RCVBUFFORCE ignores rmem_max but needs CAP_NET_ADMIN; then
		// SO_RCVBUF, which the kernel caps at rmem_max.
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
		}
		// The kernel reports twice what it was given (its bookkeeping).
		got, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
	})
	return got
}
