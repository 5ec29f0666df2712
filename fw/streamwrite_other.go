//go:build !linux

package fw

// direct: on this system a stream face's packets all go through its
// writer goroutine.
func (s *byteStream) direct() directWriter { return nil }
