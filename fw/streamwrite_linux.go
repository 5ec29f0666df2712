package fw

import "syscall"

// canTryWrite: this system's streams can be written without waiting
// (tryWrite).
const canTryWrite = true

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
