package link

import (
	"fmt"
	"io"
)

// StreamReader splits a byte stream (a unix or TCP connection) into whole
// TLV frames. It reads into one buffer of twice the maximum packet size,
// so a connection costs a fixed amount of memory whatever it sends, and
// returns each frame without copying it.
//
// A header that claims more than the maximum packet size ends the stream
// with ErrTooLarge at once: nothing is read ahead on its behalf, and a
// stream cannot be re-synchronised after it. A StreamReader is not safe for
// concurrent use.
type StreamReader struct {
	r          io.Reader
	max        int
	buf        []byte
	start, end int
}

// NewStreamReader returns a reader of frames of at most max bytes (at most
// MaxPacketSize; 0 means MaxPacketSize) from r.
func NewStreamReader(r io.Reader, max int) *StreamReader {
	if max <= 0 || max > MaxPacketSize {
		max = MaxPacketSize
	}
	return &StreamReader{r: r, max: max, buf: make([]byte, 2*max)}
}

// Next returns the next whole frame. The frame is valid until the next
// call; a caller that keeps it must copy it. At the end of the stream
// between two frames Next returns io.EOF; inside a frame,
// io.ErrUnexpectedEOF.
func (s *StreamReader) Next() ([]byte, error) {
	for {
		size, err := FrameSize(s.buf[s.start:s.end], s.max)
		if err != nil {
			return nil, fmt.Errorf("%w (after %d buffered bytes)", err, s.end-s.start)
		}
		if size > 0 && s.end-s.start >= size {
			frame := s.buf[s.start : s.start+size : s.start+size]
			s.start += size
			return frame, nil
		}
		// Make room: move the partial frame to the front when the rest
		// of it cannot fit after it.
		need := size
		if need == 0 {
			need = 18 // a header is at most 18 bytes
		}
		if s.start+need > len(s.buf) {
			s.end = copy(s.buf, s.buf[s.start:s.end])
			s.start = 0
		}
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if n > 0 {
			continue
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		if err == io.EOF && s.end > s.start {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
}
