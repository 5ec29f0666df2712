//go:build !linux

package fw

import "errors"

// canTryWrite: on this system a stream face's packets all go through its
// writer goroutine.
const canTryWrite = false

func (s *byteStream) tryWrite([]byte) (int, error) {
	return 0, errors.New("fw: no direct stream write on this system")
}
