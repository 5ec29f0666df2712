package fw

import "syscall"

// direct returns the stream itself, which tryWrite writes through its
// descriptor, or nil for a connection that has none.
func (s *byteStream) direct() directWriter {
	sc, ok := s.c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	s.rc = rc
	return s
}

// tryWrite makes one write to the stream's socket that never waits, and
// returns how much of b it took: 0 and no error when the socket's buffer
// is full.
func (s *byteStream) tryWrite(b []byte) (int, error) {
	var (
		n    int
		werr error
	)
	err := s.rc.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), b)
			if werr != syscall.EINTR {
				return true // done, whatever it wrote: never wait
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case werr == syscall.EAGAIN:
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return n, nil
}
