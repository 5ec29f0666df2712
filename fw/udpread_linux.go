package fw

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// readBatch is the most datagrams one recvmmsg takes from a UDP socket.
const readBatch = 8

// A socket's reader borrows its receive buffers only while the socket has
// datagrams waiting: it waits for readability with none (RawConn.Read),
// then takes a batch from recvPool, reads everything waiting (up to
// readBatch datagrams) in one system call, hands each on (the face's
// decode copies what it keeps) and gives the batch back. So a quiet face
// holds no buffer, and a busy one saves a system call per datagram over
// reading them one by one.
//
// A read that takes fewer than readBatch datagrams has found the socket
// dry (recvmmsg stops at the first attempt that finds nothing, or at an
// error, which it keeps for the next call): the reader then waits for
// readability without the read that would find it dry once more, which
// would cost as much again as the read itself on a socket that carries
// one datagram at a time (a round trip at a time). Nothing waits unseen:
// the datagrams that arrive after that attempt, and an ICMP error (one
// kept by recvmmsg came after the reader woke), each make the poller mark
// the socket readable, and the mark made while the reader runs is kept
// for its wait, since the reader stays within one RawConn.Read; so the
// datagrams are handed on from within it. It leaves one only after
// udpBursts full batches, and the next one reads before it waits.
var recvPool = sync.Pool{New: func() any { return newRecvBatch() }}

// mmsghdr is Linux's struct mmsghdr: Go lays it out as C does, padding
// included, on every architecture x/sys/unix's Msghdr has.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

type recvBatch struct {
	hdrs  [readBatch]mmsghdr
	iovs  [readBatch]unix.Iovec
	names [readBatch]unix.RawSockaddrInet6 // room for either family
	bufs  [readBatch][]byte
}

func newRecvBatch() *recvBatch {
	b := &recvBatch{}
	for i := range b.bufs {
		// One byte more than a packet can be, to tell an oversized datagram.
		b.bufs[i] = make([]byte, link.MaxPacketSize+1)
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(len(b.bufs[i]))
		b.hdrs[i].hdr.Iov = &b.iovs[i]
		b.hdrs[i].hdr.SetIovlen(1)
		b.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
	}
	return b
}

// from is the sender of the i-th datagram read.
func (b *recvBatch) from(i int) netip.AddrPort {
	sa := &b.names[i]
	port := func(p *uint16) uint16 { return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(p))[:]) }
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port(&sa4.Port))
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port(&sa.Port))
	}
	return netip.AddrPort{}
}

// udpBursts is the most full batches readUDP takes within one
// RawConn.Read. The socket cannot be closed while a read holds it, so a
// flood that never lets it run dry must not keep the reader inside one.
const udpBursts = 32

// readUDP reads c until it is closed, handing each datagram and its
// sender to handle, which must not keep dg.
func readUDP(c *net.UDPConn, handle func(dg []byte, from netip.AddrPort, now time.Time)) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	for {
		var errno unix.Errno
		err := rc.Read(func(fd uintptr) bool {
			for range udpBursts {
				b := recvPool.Get().(*recvBatch)
				for i := range b.hdrs {
					b.hdrs[i].hdr.Namelen = uint32(unsafe.Sizeof(b.names[i]))
					b.hdrs[i].hdr.Flags = 0
				}
				r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), readBatch, unix.MSG_DONTWAIT, 0, 0)
				if e != 0 {
					recvPool.Put(b)
					if e == unix.EAGAIN || e == unix.EWOULDBLOCK {
						return false // wait until the socket is readable
					}
					errno = e
					return true
				}
				n := int(r)
				now := time.Now()
				for i := range n {
					handle(b.bufs[i][:b.hdrs[i].n], b.from(i), now)
				}
				recvPool.Put(b)
				if n < readBatch {
					return false // dry: wait, without reading again
				}
			}
			return true // let a Close in; the loop goes on
		})
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		// errno: an ICMP error (port unreachable from a connected peer),
		// and the like; the next read goes on.
		if isTemporary(errno) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}
