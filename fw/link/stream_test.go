package link

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestStreamReaderSplitsFrames(t *testing.T) {
	frames := [][]byte{
		{0x05, 0x00},
		{0x06, 0x03, 1, 2, 3},
		append([]byte{0x64, 0xFD, 0x01, 0x00}, make([]byte, 256)...),
		append([]byte{0x05, 0xFD, 0x22, 0x5C}, make([]byte, 8796)...), // 8800 in all
	}
	var stream []byte
	for _, f := range frames {
		stream = append(stream, f...)
	}
	for name, r := range map[string]io.Reader{
		"whole":    bytes.NewReader(stream),
		"one byte": iotest.OneByteReader(bytes.NewReader(stream)),
		"half":     iotest.HalfReader(bytes.NewReader(stream)),
	} {
		sr := NewStreamReader(r, 0)
		for i, want := range frames {
			got, err := sr.Next()
			if err != nil {
				t.Fatalf("%s: frame %d: %v", name, i, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: frame %d: got %d bytes, want %d", name, i, len(got), len(want))
			}
		}
		if _, err := sr.Next(); err != io.EOF {
			t.Fatalf("%s: at the end: %v, want EOF", name, err)
		}
	}
}

func TestStreamReaderRejectsImpossibleLengths(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"length above 2^63 (ndnd issue 211)", []byte{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00}, ErrTooLarge},
		{"length near 2^64", []byte{0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0}, ErrTooLarge},
		{"length 8801", []byte{0x06, 0xFD, 0x22, 0x61}, ErrTooLarge},
		{"length 2^32-1", []byte{0x06, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF}, ErrTooLarge},
		{"type 0", []byte{0x00, 0x01, 0x00}, ErrMalformed},
		{"cut inside a frame", []byte{0x05, 0x05, 1, 2}, io.ErrUnexpectedEOF},
		{"cut inside a header", []byte{0x05, 0xFD, 0x01}, io.ErrUnexpectedEOF},
	} {
		_, err := NewStreamReader(bytes.NewReader(tc.in), 0).Next()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDatagramIsOneWholeElement(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"interest", []byte{0x05, 0x02, 0x07, 0x00}, true},
		{"trailing byte", []byte{0x05, 0x02, 0x07, 0x00, 0x00}, false},
		{"header claims more", []byte{0x05, 0x04, 0x07, 0x00}, false},
		{"4-byte header alone", []byte{0x05, 0xFD, 0x20, 0x00}, false},
		{"length above 2^63", []byte{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00}, false},
		{"empty", nil, false},
	} {
		if err := Datagram(tc.in, MaxPacketSize); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func FuzzStreamReader(f *testing.F) {
	f.Add([]byte{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00})
	f.Add([]byte{0x05, 0x00, 0x06, 0x01, 0x00})
	f.Add([]byte{0x64, 0xFD, 0x00, 0x03, 0x50, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		sr := NewStreamReader(iotest.HalfReader(bytes.NewReader(in)), 0)
		total := 0
		for i := 0; ; i++ {
			frame, err := sr.Next()
			if err != nil {
				return
			}
			if len(frame) == 0 || len(frame) > MaxPacketSize {
				t.Fatalf("frame of %d bytes", len(frame))
			}
			if err := Datagram(frame, MaxPacketSize); err != nil {
				t.Fatalf("a frame from the stream is not one element: %v", err)
			}
			total += len(frame)
			if total > len(in) || i > len(in) {
				t.Fatalf("more frames than input")
			}
		}
	})
}
