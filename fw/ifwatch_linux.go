package fw

import (
	"errors"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// watchLinks subscribes to the kernel's link and IPv4 address changes
// (rtnetlink groups RTMGRP_LINK and RTMGRP_IPV4_IFADDR) and signals kick,
// without blocking, on every message: the messages are not read for their
// content, the rescan reads the interfaces itself. The socket is polled by
// the runtime (non-blocking, through os.File), so that stop interrupts the
// read. Without netlink (a sandbox that refuses the socket), only the poll
// runs. The returned function stops the subscription.
func watchLinks(kick chan<- struct{}, log *slog.Logger) (stop func()) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		log.Info("multicast: no netlink, interfaces are polled", "every", ifPollEvery, "err", err)
		return func() {}
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR}); err != nil {
		unix.Close(fd)
		log.Info("multicast: no netlink, interfaces are polled", "every", ifPollEvery, "err", err)
		return func() {}
	}
	f := os.NewFile(uintptr(fd), "rtnetlink")
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			if _, err := f.Read(buf); err != nil {
				if errors.Is(err, os.ErrClosed) {
					return
				}
				// ENOBUFS: events were lost; a rescan sees the result
				// anyway.
			}
			select {
			case kick <- struct{}{}:
			default:
			}
		}
	}()
	return func() {
		f.Close()
		<-done
	}
}
